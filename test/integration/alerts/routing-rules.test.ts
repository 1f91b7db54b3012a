// Routing rules (`when:` in m3ter's calculation language, on a channel and on an export's alert entry) end
// to end on the dev server with a real sandbox process (its evaluate endpoint has the expression subset),
// local receivers and the real CLI: a file with an invalid rule is refused by `schedules apply --dry-run`
// naming export, channel and m3ter's message; a failure reaches only the channel whose rule m3ter evaluates
// true for its event; with m3ter unable to answer at alert time, it goes to the default channel with a note
// saying why.
import fs from 'node:fs';
import path from 'node:path';
import { m3terEnv } from '../../../src/config/config';
import { prepareBackfill } from '../../../src/cli/backfill-prepare';
import type { AlertReceiver } from '../../support/alert-receiver';
import {
  hourRange,
  pastHourBase,
  startAlertStack,
  startPreparedBackfill,
  whileJobsFail,
  type AlertStack,
} from '../../support/alert-stack';
import { runCli } from '../../support/cli-process';
import { waitFor } from '../../support/wait-for';

const SECRET = 'whsec-rules-3d9b6a0c42-0123456789abcdef';
const EVALUATE_ROUTE = 'POST /organizations/:orgId/notifications/evaluate';

const file = (opsRule: string) =>
  [
    'alerts:',
    '  - name: usage-team',
    '    type: webhook',
    '    url: ${RULES_TEST_URL}/usage',
    '    secret: ${RULES_TEST_SECRET}',
    `    when: "sourceType == 'USAGE'"`,
    '  - name: ops-team',
    '    type: webhook',
    '    url: ${RULES_TEST_URL}/ops',
    '    secret: ${RULES_TEST_SECRET}',
    'exports:',
    '  - name: rules-hourly',
    '    kind: operational',
    '    request: { operationalDataTypes: [ACCOUNTS] }',
    '    window: hour',
    "    schedule: { cron: '0 0 1 1 *' }",
    // ops-team's rule is this export's own (an alert entry's `when:`), usage-team's the channel's.
    `    alerts: [usage-team, { name: ops-team, when: "${opsRule}" }]`,
  ].join('\n');

describe('routing rules in m3ter calculation language', () => {
  let stack: AlertStack;
  let rx: AlertReceiver;
  const base = pastHourBase();

  beforeAll(async () => {
    stack = await startAlertStack((url) => ({
      name: 'rules',
      channelEnv: { RULES_TEST_URL: url, RULES_TEST_SECRET: SECRET },
      env: { MONITOR: 'off', INCIDENTS: 'off' },
    }));
    rx = stack.rx;
  });

  afterAll(() => stack?.close());

  function write(name: string, text: string): string {
    const p = path.join(stack.dir, name);
    fs.writeFileSync(p, text);
    return p;
  }

  async function failingWindow(fromHour: number, defs: string): Promise<void> {
    const prepared = prepareBackfill('rules-hourly', { file: defs, ...hourRange(base, fromHour, 1) });
    await whileJobsFail(stack.sandbox, async () => (await startPreparedBackfill(stack, prepared)).result());
  }

  it('refuses a file with an invalid rule at apply --dry-run, naming export, channel and m3ter message (exit 2)', async () => {
    const bad = write('bad.yaml', file('new.nosuchfield == 1'));
    const r = await runCli(['schedules', 'apply', '--file', bad, '--dry-run'], {
      ...stack.env,
      ...m3terEnv(stack.sandbox.m3ter),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'exports (rules-hourly): channel ops-team: when: m3ter refused the calculation',
    );
    expect(r.stderr).toContain('nosuchfield');
    expect(r.stderr).not.toContain('usage-team');
    // Nothing was created.
    await expect(stack.client.schedule.getHandle('m3ter-exports:rules-hourly').describe()).rejects.toThrow();
  });

  it("routes an operational failure to the channel whose rule m3ter evaluates true for the failure's event", async () => {
    const good = write('good.yaml', file("sourceType == 'OPERATIONAL'"));
    await failingWindow(0, good);
    const ops = await waitFor(() => rx.on('/ops')[0], 'the alert on ops-team');
    expect(ops.json).toMatchObject({ kind: 'ExportJobFailed', exportName: 'rules-hourly' });
    expect(rx.on('/usage')).toEqual([]);
    expect(rx.on('/default')).toEqual([]);
  });

  it('sends the failure to the default channel with a note when m3ter cannot evaluate the rules', async () => {
    const good = write('good2.yaml', file("sourceType == 'OPERATIONAL'"));
    await stack.sandbox.admin.post('/faults', {
      route: EVALUATE_ROUTE,
      failNext: { count: 100, status: 503 },
    });
    const opsBefore = rx.on('/ops').length;
    try {
      await failingWindow(5, good);
      const d = await waitFor(() => rx.on('/default')[0], 'the alert on the default channel', {
        timeoutMs: 120_000,
      });
      const body = d.json as { message: string; details: { routingNote: string } };
      expect(body.message).toContain(
        'Routing rules of usage-team, ops-team not evaluated (m3ter could not be asked',
      );
      expect(body.details.routingNote).toContain('(none: the default channel)');
    } finally {
      await stack.sandbox.admin.del('/faults');
    }
    expect(rx.on('/ops')).toHaveLength(opsBefore);
    expect(rx.on('/usage')).toEqual([]);
  });
});
