// exportFailureMonitorWorkflow's loop with fake poll and freshness activities: each poll starts from what
// the previous one saw, counters add up, pollNow polls before the interval, continue-as-new carries the
// state, and a failing poll is recorded and cleared by the next good one. Alerts from real events, the
// ledger and a monitor restart run end to end in test/integration/alerts/failure-alerts.test.ts.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PollFailureEventsInput, PollFailureEventsResult } from '../../../activities/failure-monitor';
import {
  continueAsNewSignal,
  monitorStatusQuery,
  pollNowSignal,
  type FailureMonitorInput,
  type FailureMonitorStatus,
} from '../../../src/contract/monitor';
import type { exportFailureMonitorWorkflow } from '../../../workflows';
import { waitFor } from '../../support/wait-for';
import { startFakeWorker, startWorkflowEnv, type FakeWorker } from '../../support/workflow-env';

/** A poll that sees one new event each time (or fails while `failing`), and what it was asked. */
function fakePoller() {
  const inputs: PollFailureEventsInput[] = [];
  const state = { failing: false, rejected: 0, truncated: false };
  async function pollFailureEvents(input: PollFailureEventsInput): Promise<PollFailureEventsResult> {
    inputs.push(input);
    // Retried as the real poll's failures are, only without the wait between attempts.
    if (state.failing) throw ApplicationFailure.create({ message: 'events API down', nextRetryDelay: 10 });
    const n = inputs.length;
    const t = Date.UTC(2026, 0, 1) + n * 1000;
    return {
      polledAt: new Date().toISOString(),
      pages: 1,
      newEvents: 1,
      alertsSent: 1,
      alreadyAlerted: 0,
      unowned: 0,
      highWaterMark: new Date(t).toISOString(),
      recent: [{ id: `event-${n}`, t }],
      rejected: state.rejected,
      truncated: state.truncated,
      digest: false,
    };
  }
  return { pollFailureEvents, inputs, state };
}

describe('exportFailureMonitorWorkflow with fake activities', () => {
  let env: TestWorkflowEnvironment;
  let worker: FakeWorker;
  let poller: ReturnType<typeof fakePoller>;

  beforeAll(async () => {
    env = await startWorkflowEnv();
    worker = await startFakeWorker(env, {
      pollFailureEvents: (input: PollFailureEventsInput) => poller.pollFailureEvents(input),
      checkFreshness: async () => ({ state: {}, alertsSent: 0 }),
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
  });

  let handle: WorkflowHandle<typeof exportFailureMonitorWorkflow> | undefined;
  afterEach(async () => {
    await handle?.terminate('test done').catch(() => undefined);
    handle = undefined;
  });

  /** A monitor whose interval outlasts the test: it polls at its start and when signalled. */
  async function startMonitor(input: Partial<FailureMonitorInput> = {}) {
    poller = fakePoller();
    handle = await env.client.workflow.start<typeof exportFailureMonitorWorkflow>(
      'exportFailureMonitorWorkflow',
      {
        taskQueue: worker.taskQueue,
        workflowId: `wf-monitor-${randomUUID()}`,
        args: [{ intervalMs: 3_600_000, lookbackMs: 86_400_000, ...input }],
      },
    );
    return handle;
  }

  const statusWhen = (h: WorkflowHandle, ok: (s: FailureMonitorStatus) => boolean, what: string) =>
    waitFor(async () => {
      const s = await h.query(monitorStatusQuery);
      return ok(s) ? s : undefined;
    }, what);

  it('polls at its start and on pollNow, each poll starting from what the last one saw', async () => {
    const h = await startMonitor();
    await statusWhen(h, (s) => s.polls === 1, 'the first poll');
    await h.signal(pollNowSignal);
    const status = await statusWhen(h, (s) => s.polls === 2, 'the signalled poll');
    expect(status).toMatchObject({ eventsSeen: 2, alertsSent: 2, runs: 1, pollsThisRun: 2, recentIds: 1 });
    expect(status.highWaterMark).toBe(new Date(Date.UTC(2026, 0, 1) + 1000 * 2).toISOString());
    expect(poller.inputs[0]).toMatchObject({ recent: [], lookbackMs: 86_400_000 });
    expect(poller.inputs[0].highWaterMark).toBeUndefined();
    expect(poller.inputs[1]).toMatchObject({
      highWaterMark: new Date(Date.UTC(2026, 0, 1) + 1000).toISOString(),
      recent: [{ id: 'event-1' }],
    });
  });

  it('continues as new after pollsPerRun polls, and on its signal, carrying its state and counters', async () => {
    const h = await startMonitor({ pollsPerRun: 2 });
    await statusWhen(h, (s) => s.polls === 1, 'the first poll');
    await h.signal(pollNowSignal);
    // The second poll ends the run; the next run polls at once, from the carried high-water mark.
    const continued = await statusWhen(h, (s) => s.runs === 2 && s.polls === 3, 'the continued run');
    expect(continued).toMatchObject({ eventsSeen: 3, alertsSent: 3, pollsThisRun: 1 });
    expect(poller.inputs[2].highWaterMark).toBe(new Date(Date.UTC(2026, 0, 1) + 2000).toISOString());
    await h.signal(continueAsNewSignal);
    // A poll's counters land in two steps (events, then the poll count after the freshness check): wait
    // for the third run's first whole poll.
    const third = await statusWhen(
      h,
      (s) => s.runs === 3 && s.pollsThisRun === 1,
      'the first poll of the run after the signal',
    );
    expect(third.eventsSeen).toBeGreaterThanOrEqual(4);
    expect(third.polls).toBe(third.eventsSeen);
  });

  it('counts the malformed events m3ter listed and the polls capped with events unread', async () => {
    const h = await startMonitor();
    await statusWhen(h, (s) => s.polls === 1, 'the first poll');
    expect((await h.query(monitorStatusQuery)).eventsRejected).toBeUndefined();
    poller.state.rejected = 3;
    poller.state.truncated = true;
    await h.signal(pollNowSignal);
    await statusWhen(h, (s) => s.polls === 2, 'the poll with dropped events');
    await h.signal(pollNowSignal);
    const status = await statusWhen(h, (s) => s.polls === 3, 'a second such poll');
    expect(status).toMatchObject({ eventsRejected: 6, pollsTruncated: 2, eventsSeen: 3 });
  });

  it('records a failing poll in lastError, and the next good poll clears it', async () => {
    const h = await startMonitor();
    await statusWhen(h, (s) => s.polls === 1, 'the first poll');
    poller.state.failing = true;
    await h.signal(pollNowSignal);
    const failed = await statusWhen(h, (s) => s.polls === 2, 'the failing poll');
    // The workflow records the activity failure's own message, not its cause's.
    expect(failed.lastError).toEqual(expect.any(String));
    expect(failed.eventsSeen).toBe(1);
    expect(poller.inputs).toHaveLength(1 + 3); // the first poll, then three attempts of the failing one
    poller.state.failing = false;
    await h.signal(pollNowSignal);
    const recovered = await statusWhen(h, (s) => s.polls === 3, 'the good poll');
    expect(recovered.lastError).toBeUndefined();
    expect(recovered.eventsSeen).toBe(2);
  });
});
