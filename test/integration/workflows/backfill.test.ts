// backfillWorkflow's orchestration with fake activities (test/support/workflow-env.ts): planning page by
// page, bounded concurrency, continue-as-new carrying its totals, and cancel. The real planner, the CLI
// and the sandbox's ExportJobs are covered end to end in test/integration/backfill/backfill.test.ts.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { BackfillPage, PlanBackfillPageInput, PlannedWindow } from '../../../activities/backfill-plan';
import { planForWindow } from '../../../activities/window-plan';
import { createWindowRunActivities } from '../../../activities/window-runs';
import { backfillProgressQuery, type BackfillInput } from '../../../src/contract/backfill';
import type { backfillWorkflow } from '../../../workflows/backfill';
import { fakeExportWorkerPerBlock } from '../../support/fake-exports';
import { waitFor } from '../../support/wait-for';

const DAY = 86_400_000;
const JAN_1 = Date.UTC(2026, 0, 1);

function definition(): BackfillInput['definition'] {
  const name = `wf-bf-${randomUUID().slice(0, 8)}`;
  return { name, kind: 'usage', request: {}, window: 'day', timezone: 'UTC', storage: 'local' };
}

/** A planner over `days` daily windows from 1 Jan; `skip` holds the day indexes already exported. */
function fakePlanner(def: BackfillInput['definition'], days: number, skip: number[] = []) {
  const calls: PlanBackfillPageInput[] = [];
  const windows: PlannedWindow[] = Array.from({ length: days }, (_, i) => {
    const window = {
      start: new Date(JAN_1 + i * DAY).toISOString(),
      end: new Date(JAN_1 + (i + 1) * DAY).toISOString(),
    };
    const plan = planForWindow(def, window, window.start);
    const skipped = skip.includes(i);
    return {
      workflowId: plan.workflowId,
      window,
      state: skipped ? 'succeeded' : 'missing',
      action: skipped ? 'skip' : 'run',
      ...(skipped ? {} : { plan }),
    };
  });
  async function planBackfillPage(input: PlanBackfillPageInput): Promise<BackfillPage> {
    calls.push(input);
    const from = input.after === undefined ? 0 : windows.findIndex((w) => w.window.start === input.after) + 1;
    const page = windows.slice(from, from + input.limit);
    const more = from + input.limit < windows.length;
    return {
      windows: page,
      ...(more ? { next: page[page.length - 1].window.start } : {}),
      ...(input.after === undefined ? { total: windows.length } : {}),
    };
  }
  return { planBackfillPage, calls, windows };
}

describe('backfillWorkflow with fake activities', () => {
  let planner: ReturnType<typeof fakePlanner> | undefined;
  const fx = fakeExportWorkerPerBlock((env) => ({
    ...createWindowRunActivities({ client: env.client, pollMs: 100 }),
    planBackfillPage: (input: PlanBackfillPageInput) => planner!.planBackfillPage(input),
  }));
  const { fake } = fx;

  const start = (input: Omit<BackfillInput, 'from' | 'to'>, days: number) =>
    fx.env.client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
      taskQueue: fx.taskQueue,
      workflowId: `wf-backfill-${randomUUID()}`,
      args: [
        {
          ...input,
          from: new Date(JAN_1).toISOString(),
          to: new Date(JAN_1 + days * DAY).toISOString(),
        },
      ],
    });

  it('plans page by page from the cursor and exports every window the plan does not skip', async () => {
    const def = definition();
    planner = fakePlanner(def, 5, [2]);
    const summary = await (await start({ definition: def, pageSize: 2 }, 5)).result();
    expect(summary.totals).toEqual({ succeeded: 4, awaited: 0, skipped: 1, failed: 0, cancelled: 0 });
    expect(summary).toMatchObject({ state: 'completed', total: 5, done: 5, run: 1 });
    expect(planner.calls.map((c) => [c.after, c.limit])).toEqual([
      [undefined, 2],
      [planner.windows[1].window.start, 2],
      [planner.windows[3].window.start, 2],
    ]);
    const exported = planner.windows.filter((_, i) => i !== 2).map((w) => w.workflowId);
    expect([...fake.triggered].sort()).toEqual(exported.sort());
  });

  it('never has more windows in flight than its concurrency', async () => {
    const def = definition();
    planner = fakePlanner(def, 6);
    fake.hold = true;
    const handle = await start({ definition: def, concurrency: 2 }, 6);
    await waitFor(() => fake.waiting.size === 2, 'two waits');
    const progress = await handle.query(backfillProgressQuery);
    expect(progress.inFlight).toEqual(planner.windows.slice(0, 2).map((w) => w.workflowId));
    expect(fake.triggered).toHaveLength(2);
    fake.release();
    const summary = await handle.result();
    expect(summary.totals.succeeded).toBe(6);
    expect(fake.maxWaiting).toBe(2);
  });

  it('continues as new with its cursor and carries its totals and failures to the end', async () => {
    const def = definition();
    planner = fakePlanner(def, 7);
    fake.failing.add(planner.windows[4].workflowId);
    const handle = await start({ definition: def, continueAsNewAfter: 3, pageSize: 2 }, 7);
    const summary = await handle.result();
    expect(summary).toMatchObject({ state: 'completed', total: 7, done: 7, run: 3 });
    expect(summary.totals).toEqual({ succeeded: 6, awaited: 0, skipped: 0, failed: 1, cancelled: 0 });
    expect(summary.failedWindows).toEqual([
      expect.objectContaining({
        workflowId: planner.windows[4].workflowId,
        windowStart: planner.windows[4].window.start,
        type: 'ExportJobFailed',
      }),
    ]);
    // Each run planned only its share: 3 + 3 + 1 windows, never a window twice.
    expect(planner.calls.map((c) => c.limit)).toEqual([2, 1, 2, 1, 2]);
    expect(new Set(fake.triggered).size).toBe(7);
    expect(fake.triggered).toHaveLength(7);
  });

  it('cancelled, it cancels its in-flight windows, names them, and starts no other', async () => {
    const def = definition();
    planner = fakePlanner(def, 5);
    fake.hold = true;
    const handle = await start({ definition: def, concurrency: 2 }, 5);
    await waitFor(() => fake.waiting.size === 2, 'two waits');
    await handle.cancel();
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const inFlight = planner.windows.slice(0, 2).map((w) => w.workflowId);
    const progress = await handle.query(backfillProgressQuery);
    expect(progress).toMatchObject({ state: 'cancelled', totals: { cancelled: 2, succeeded: 0 } });
    expect([...progress.cancelledWindows].sort()).toEqual(inFlight);
    for (const id of inFlight)
      expect((await fx.env.client.workflow.getHandle(id).describe()).status.name).toBe('CANCELLED');
    expect([...fake.triggered].sort()).toEqual(inFlight);
  });
});
