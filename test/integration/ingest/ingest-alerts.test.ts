// `ingest --alert`: when m3ter rejects rows of a file, the channels the flag names (from the operator's
// definitions file, `${VAR}` references resolved by the worker) get one alert saying how many rows, of which
// types, and the first lines; a clean file alerts nobody; a channel the file does not declare is refused
// before anything is sent. The REAL CLI process, dev server, sandbox process and a local receiver.
import fs from 'node:fs';
import path from 'node:path';
import type { IngestProgress } from '../../../src/contract/ingest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../../src/alerts';
import { runCli } from '../../support/cli-process';
import { alertDeliveriesSettled, startAlertStack, type AlertStack } from '../../support/alert-stack';

const SECRET = 'whsec-ingest-alerts-5c1e2a9d77-0123456789abcdef';
const METERS = { 'api-calls': { required: ['measure.quantity'] } };
const MEASUREMENTS = 'POST /organizations/:orgId/measurements';
const DEFS = [
  'alerts:',
  '  - name: data-team',
  '    type: webhook',
  '    url: ${INGEST_ALERT_TEST_URL}',
  '    secret: ${INGEST_ALERT_TEST_SECRET}',
  'exports: []',
].join('\n');

describe('ingest --alert: rejected rows alert the channels the flag names', () => {
  let stack: AlertStack;
  let defs: string;
  let channelEnv: Record<string, string>;

  beforeAll(async () => {
    stack = await startAlertStack((url) => {
      channelEnv = { INGEST_ALERT_TEST_URL: `${url}/data-team`, INGEST_ALERT_TEST_SECRET: SECRET };
      return { name: 'ingest-alerts', sandboxConfig: { ingestMeters: METERS }, channelEnv };
    });
    defs = path.join(stack.dir, 'm3ter-exports.yaml');
    fs.writeFileSync(defs, DEFS);
  });
  afterAll(() => stack?.close());

  // The operator's machine has the channel's variables too: the CLI checks the file with them.
  const cli = (args: string[]) => runCli(['ingest', ...args], { ...stack.env, ...channelEnv });
  const csv = (name: string, rows: string[]) => {
    const file = path.join(stack.dir, name);
    fs.writeFileSync(file, ['uid,meter,account,ts,measure.quantity', ...rows].join('\n') + '\n');
    return file;
  };
  const good = (i: number) => `,api-calls,acct-001,2026-02-01T00:${String(i).padStart(2, '0')}:00Z,${i}`;
  const posts = async () =>
    ((await stack.sandbox.admin.get('/counters')) as { routes: Record<string, number> }).routes[
      MEASUREMENTS
    ] ?? 0;

  it('sends one signed alert naming the file, the count by type and the first lines; a clean file sends none', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => good(i));
    rows[3] = ',no-such-meter,acct-001,2026-02-01T00:03:00Z,3';
    rows[7] = ',api-calls,acct-001,2026-02-01T00:07:00Z,';
    const file = csv('rejected.csv', rows);
    const r = await runCliJson(['--alert', 'data-team', '--definitions', defs]);
    expect(r.progress.rejections).toMatchObject({ rejected: 2, accepted: 8 });
    expect(r.progress.alert).toBe('delivered');
    await alertDeliveriesSettled(stack);
    const alerts = stack.rx.on('/data-team');
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(
      verifyWebhookSignature({
        secret: SECRET,
        body: a.body,
        timestamp: String(a.headers[TIMESTAMP_HEADER.toLowerCase()]),
        signature: String(a.headers[SIGNATURE_HEADER.toLowerCase()]),
      }),
    ).toBe(true);
    const body = a.json as {
      kind: string;
      workflowId: string;
      message: string;
      details: Record<string, unknown>;
    };
    expect(body.kind).toBe('IngestRejected');
    expect(body.workflowId).toBe(r.workflowId);
    expect(body.message).toContain(`m3ter rejected 2 of 10 rows of ${file}`);
    expect(body.message).toContain('line 5 UndefinedMeter');
    expect(body.details).toMatchObject({ rejected: 2, byType: { UndefinedMeter: 1, MissingField: 1 } });
    expect(stack.rx.on('/default')).toEqual([]);

    // A clean file with the same flag: nothing to say.
    const clean = await runCliJson(['--alert', 'data-team', '--definitions', defs], 'clean.csv');
    expect(clean.progress.rejections).toMatchObject({ rejected: 0, accepted: 10 });
    expect(clean.progress.alert).toBeUndefined();
    await alertDeliveriesSettled(stack);
    expect(stack.rx.on('/data-team')).toHaveLength(1);

    async function runCliJson(flags: string[], cleanName?: string) {
      const target = cleanName
        ? csv(
            cleanName,
            Array.from({ length: 10 }, (_, i) => good(i + 20)),
          )
        : file;
      const out = await cli([target, '--wait', '--json', '--settle', '2s', ...flags]);
      expect(out.code).toBe(cleanName ? 0 : 1);
      const [run] = (
        JSON.parse(out.stdout) as { ingests: { workflowId: string; progress: IngestProgress }[] }
      ).ingests;
      return run;
    }
  });

  it('refuses a channel the definitions file does not declare, with exit 2, before sending anything', async () => {
    const file = csv('refused.csv', [good(40)]);
    const before = await posts();
    const r = await cli([file, '--alert', 'data-team,nobody', '--definitions', defs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--alert: no alert channel named nobody is declared under alerts (declared: data-team)',
    );
    expect(await posts()).toBe(before);
  });
});
