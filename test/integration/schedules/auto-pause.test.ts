// Auto-pause end to end on the dev server with a real sandbox process and a local webhook receiver: a
// schedule applied from a file with `pauseAfter: { consecutive: 3 }` whose windows keep failing is paused
// after the third, with a note naming the rule that `schedules list` shows, and one alert carrying the
// unpause command; `unpause` clears it; a schedule paused by hand is left alone.
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadRoutedDefinitionsFile } from '../../../src/definitions';
import { executePlan, planApply } from '../../../src/schedules/apply';
import { scheduledInputFor, scheduleIdFor } from '../../../src/schedules/desired';
import { formatScheduleList, listScheduleViews } from '../../../src/schedules/inspect';
import type { scheduledExportWorkflow } from '../../../workflows';
import {
  alertDeliveriesSettled,
  fastPoll,
  pastHourBase,
  startAlertStack,
  HOUR,
  type AlertStack,
} from '../../support/alert-stack';
import { waitFor } from '../../support/wait-for';

const SECRET = 'whsec-autopause-5e8a1c3b77-0123456789abcdef';

describe('auto-pause: a schedule whose windows keep failing is paused by its rule', () => {
  let stack: AlertStack;
  let client: Client;
  const name = `autopause-${Date.now().toString(36)}`;
  const base = pastHourBase();
  let runs = 0;

  beforeAll(async () => {
    stack = await startAlertStack((url) => ({
      name: 'autopause',
      channelEnv: { AUTOPAUSE_TEST_URL: `${url}/hook`, AUTOPAUSE_TEST_SECRET: SECRET },
      env: { MONITOR: 'off', INCIDENTS: 'off' },
    }));
    client = stack.client;
    const file = path.join(stack.dir, 'm3ter-exports.yaml');
    fs.writeFileSync(
      file,
      [
        'alerts:',
        '  - name: hook',
        '    type: webhook',
        '    url: ${AUTOPAUSE_TEST_URL}',
        '    secret: ${AUTOPAUSE_TEST_SECRET}',
        'exports:',
        `  - name: ${name}`,
        '    kind: operational',
        '    request: { operationalDataTypes: [ACCOUNTS] }',
        '    window: hour',
        // Yearly: it never fires by itself during the test; the test starts its runs by hand.
        "    schedule: { cron: '0 0 1 1 *' }",
        '    pauseAfter: { consecutive: 3 }',
        '    alerts: [hook]',
      ].join('\n'),
    );
    const defs = loadRoutedDefinitionsFile(file);
    await executePlan(client, defs, await planApply(client, defs, { prune: false }), {
      taskQueue: stack.taskQueue,
    });
    await stack.sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
  });

  afterAll(async () => {
    await client?.schedule
      .getHandle(scheduleIdFor(name))
      .delete()
      .catch(() => undefined);
    await stack?.close();
  });

  /** One scheduled run, started as the schedule would, for the next hour of the range; it fails. */
  async function failingRun(): Promise<void> {
    const desc = await client.schedule.getHandle(scheduleIdFor(name)).describe();
    const input = (desc.action as unknown as { args: [ReturnType<typeof scheduledInputFor>] }).args[0];
    const nominalTime = new Date(base + ++runs * HOUR + 60_000).toISOString();
    const h = await client.workflow.start<typeof scheduledExportWorkflow>('scheduledExportWorkflow', {
      workflowId: `scheduled:${name}-${nominalTime}`,
      taskQueue: stack.taskQueue,
      args: [{ ...input, nominalTime, poll: fastPoll }],
    });
    await expect(h.result()).rejects.toThrow();
  }

  const state = async () => (await client.schedule.getHandle(scheduleIdFor(name)).describe()).state;
  const pauseAlerts = () =>
    stack.rx.on('/hook').filter((r) => (r.json as { kind: string }).kind === 'ExportAutoPaused');

  it('pauses after 3 consecutive failed windows, says why in list and in one alert, and unpause clears it', async () => {
    await failingRun();
    await failingRun();
    expect((await state()).paused).toBe(false);
    await failingRun();
    expect(await state()).toMatchObject({
      paused: true,
      note: expect.stringContaining('pauseAfter: 3 consecutive failed windows'),
    });
    const listed = formatScheduleList((await listScheduleViews(client)).filter((v) => v.name === name));
    expect(listed).toContain(
      'PAUSED (auto-paused by m3ter-exports: pauseAfter: 3 consecutive failed windows',
    );

    const alert = await waitFor(() => pauseAlerts()[0], 'the auto-pause alert');
    expect(alert.json).toMatchObject({ kind: 'ExportAutoPaused', exportName: name });
    expect(String((alert.json as { message: string }).message)).toContain(
      `m3ter-exports schedules unpause ${name}`,
    );
    expect(stack.rx.on('/default')).toEqual([]);

    // `schedules unpause` (the same call) clears the pause and its note.
    await client.schedule.getHandle(scheduleIdFor(name)).unpause('unpaused with m3ter-exports');
    const after = await state();
    expect(after.paused).toBe(false);
    expect(after.note).not.toContain('auto-paused');
  });

  it('leaves a schedule paused by hand as it is, and alerts nothing more', async () => {
    await client.schedule.getHandle(scheduleIdFor(name)).pause('maintenance until Monday');
    const before = pauseAlerts().length;
    // Three more failed windows: the rule is met again, but the schedule is already paused by hand.
    await failingRun();
    await failingRun();
    await failingRun();
    expect(await state()).toMatchObject({ paused: true, note: 'maintenance until Monday' });
    await alertDeliveriesSettled(stack);
    expect(pauseAlerts()).toHaveLength(before);
  });
});
