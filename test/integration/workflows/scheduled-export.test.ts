// scheduledExportWorkflow's nominal time, with fake export activities: a schedule catching up on missed
// times (a schedule backfill, as the server runs actions it missed) exports the window of each action's
// nominal time (TemporalScheduledStartTime), not of the time it runs; without a schedule, input.nominalTime
// stands in; with neither the run is refused. The real restart of a server is in
// test/integration/schedules/catchup.test.ts.
import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { createWindowPlanActivities } from '../../../activities/window-plan';
import { createWindowRunActivities } from '../../../activities/window-runs';
import { FailureType } from '../../../src/contract/failures';
import type { ScheduledExportInput, ScheduledExportResult } from '../../../src/contract/window-run';
import type { scheduledExportWorkflow } from '../../../workflows';
import { fakeExportWorkerPerBlock } from '../../support/fake-exports';
import { waitFor } from '../../support/wait-for';
import { workflowFailure } from '../../support/workflow-failure';

const HOUR = 3_600_000;

function definition(): ScheduledExportInput['definition'] {
  const name = `wf-catchup-${randomUUID().slice(0, 8)}`;
  return { name, kind: 'usage', request: {}, window: 'hour', timezone: 'UTC', storage: 'local' };
}

describe('scheduledExportWorkflow nominal time with fake export activities', () => {
  const fx = fakeExportWorkerPerBlock((env) => ({
    ...createWindowPlanActivities(),
    ...createWindowRunActivities({ client: env.client, pollMs: 100 }),
  }));
  const { fake } = fx;

  it('catching up, exports the window of each missed nominal time, in order', async () => {
    const def = definition();
    const scheduleId = `wf-catchup-${randomUUID()}`;
    const handle = await fx.env.client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 hour' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledExportWorkflow',
        taskQueue: fx.taskQueue,
        args: [{ definition: def, definitionHash: 'test' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ALL },
      state: { paused: true },
    });
    try {
      // Three hours the schedule missed, run now.
      const first = Date.UTC(2026, 0, 5, 1);
      await handle.backfill({
        start: new Date(first),
        end: new Date(first + 2 * HOUR),
        overlap: ScheduleOverlapPolicy.BUFFER_ALL,
      });
      const actions = await waitFor(async () => {
        const recent = (await handle.describe()).info.recentActions;
        return recent.length >= 3 ? recent : undefined;
      }, 'three caught-up actions');
      const nominal = actions.map((a) => a.scheduledAt.toISOString());
      expect(nominal).toEqual([0, 1, 2].map((h) => new Date(first + h * HOUR).toISOString()));
      for (const a of actions) {
        const run = fx.env.client.workflow.getHandle<typeof scheduledExportWorkflow>(
          a.action.workflow.workflowId,
        );
        const result: ScheduledExportResult = await run.result();
        const at = a.scheduledAt.getTime();
        expect(result).toMatchObject({ outcome: 'exported', nominalTime: a.scheduledAt.toISOString() });
        // An hourly window is the hour before its nominal time, whenever the action ran.
        expect(result.window).toEqual({
          start: new Date(at - HOUR).toISOString(),
          end: new Date(at).toISOString(),
        });
        expect(a.takenAt.getTime() - at).toBeGreaterThan(HOUR);
      }
    } finally {
      await handle.delete();
    }
  });

  it('without a schedule, exports the window of input.nominalTime', async () => {
    const def = definition();
    const result = await fx.env.client.workflow.execute<typeof scheduledExportWorkflow>(
      'scheduledExportWorkflow',
      {
        taskQueue: fx.taskQueue,
        workflowId: `wf-nominal-${randomUUID()}`,
        args: [{ definition: def, definitionHash: 'test', nominalTime: '2026-02-01T10:20:00.000Z' }],
      },
    );
    expect(result).toMatchObject({ outcome: 'exported', nominalTime: '2026-02-01T10:20:00.000Z' });
    expect(result.window).toEqual({ start: '2026-02-01T09:00:00.000Z', end: '2026-02-01T10:00:00.000Z' });
  });

  it('refuses a run with neither a schedule nor input.nominalTime, before any export', async () => {
    const def = definition();
    const triggered = fake.triggered.length;
    const handle = await fx.env.client.workflow.start<typeof scheduledExportWorkflow>(
      'scheduledExportWorkflow',
      {
        taskQueue: fx.taskQueue,
        workflowId: `wf-no-nominal-${randomUUID()}`,
        args: [{ definition: def, definitionHash: 'test' }],
      },
    );
    const cause = await workflowFailure(handle);
    expect(cause.type).toBe(FailureType.InvalidExportRequest);
    expect(cause.message).toContain('no nominal time');
    expect(fake.triggered).toHaveLength(triggered);
  });
});
