// runWindow, the one path that exports a window (workflows/window-run.ts), through scheduledExportWorkflow
// with fake export activities: a window is exported once, a window already exported is not exported
// again, a window whose export is running is awaited, and a failed export fails the run with its type.
import { randomUUID } from 'node:crypto';
import { createWindowPlanActivities, planWindowRun } from '../../../activities/window-plan';
import { createWindowRunActivities } from '../../../activities/window-runs';
import { FailureType } from '../../../src/contract/failures';
import type { ScheduledExportInput } from '../../../src/contract/window-run';
import type { adhocExportWorkflow, scheduledExportWorkflow } from '../../../workflows';
import { fakeExportWorkerPerBlock } from '../../support/fake-exports';
import { waitFor } from '../../support/wait-for';
import { workflowFailure } from '../../support/workflow-failure';

const NOMINAL = '2026-03-02T06:00:00.000Z';

function definition(): ScheduledExportInput['definition'] {
  const name = `wf-win-${randomUUID().slice(0, 8)}`;
  return { name, kind: 'usage', request: {}, window: 'day', timezone: 'UTC', storage: 'local' };
}

describe('window runs with fake export activities', () => {
  let awaitCalls = 0;
  const fx = fakeExportWorkerPerBlock((env) => {
    const runs = createWindowRunActivities({ client: env.client, pollMs: 100 });
    return {
      ...createWindowPlanActivities(),
      describeRun: runs.describeRun,
      awaitWorkflowRun: (input: { workflowId: string }) => {
        awaitCalls++;
        return runs.awaitWorkflowRun(input);
      },
    };
  });
  const { fake } = fx;

  const runScheduled = (def: ScheduledExportInput['definition']) =>
    fx.env.client.workflow.start<typeof scheduledExportWorkflow>('scheduledExportWorkflow', {
      taskQueue: fx.taskQueue,
      workflowId: `wf-sched-${randomUUID()}`,
      args: [{ definition: def, definitionHash: 'test', nominalTime: NOMINAL }],
    });

  it('exports a window once, and reports a window already exported without exporting it again', async () => {
    const def = definition();
    const first = await (await runScheduled(def)).result();
    const plan = planWindowRun({ definition: def, nominalTime: NOMINAL });
    expect(first).toMatchObject({ outcome: 'exported', workflowId: plan.workflowId, nominalTime: NOMINAL });
    expect(first.window).toEqual({ start: '2026-03-01T00:00:00.000Z', end: '2026-03-02T00:00:00.000Z' });
    expect(fake.triggered).toEqual([plan.workflowId]);

    const again = await (await runScheduled(def)).result();
    expect(again).toMatchObject({ outcome: 'already-exported', workflowId: plan.workflowId });
    expect(fake.triggered).toEqual([plan.workflowId]);
  });

  it('awaits a running export of the window instead of starting another', async () => {
    const def = definition();
    const plan = planWindowRun({ definition: def, nominalTime: NOMINAL });
    fake.hold = true;
    // Someone else (a backfill, say) is exporting the window.
    const other = await fx.env.client.workflow.start<typeof adhocExportWorkflow>('adhocExportWorkflow', {
      taskQueue: fx.taskQueue,
      workflowId: plan.workflowId,
      args: [{ request: plan.request as never, name: def.name }],
    });
    await waitFor(() => fake.waiting.size === 1, 'the running export to wait on its job');
    const callsBefore = awaitCalls;
    const handle = await runScheduled(def);
    await waitFor(() => awaitCalls > callsBefore, 'the scheduled run to await the running export');
    fake.release();
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'awaited', workflowId: plan.workflowId });
    expect((result.result as { jobId: string }).jobId).toBe((await other.result()).jobId);
    expect(fake.triggered).toEqual([plan.workflowId]);
  });

  it('fails the run with the export failure type when the window export fails, and alerts', async () => {
    const def = definition();
    const plan = planWindowRun({ definition: def, nominalTime: NOMINAL });
    fake.failing.add(plan.workflowId);
    const cause = await workflowFailure(await runScheduled(def));
    expect(cause.type).toBe(FailureType.ExportJobFailed);
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain(`window ${plan.windowStart} of ${def.name}`);
    expect(fake.alerts).toContainEqual(
      expect.objectContaining({ kind: FailureType.ExportJobFailed, workflowId: plan.workflowId }),
    );
  });
});
