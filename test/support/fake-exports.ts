// Fake export activities, under the real activities' names, for the fast workflow tests: the trigger hands
// out a job id per workflow, the wait ends as the test says (at once, or when released), the download
// returns a manifest without storing anything. Counters show what the workflows asked for.
import { Context, heartbeat } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WaitForExportJobResult } from '../../activities/wait';
import type { Alert } from '../../src/alerts/webhook';
import type { Manifest } from '../../src/storage/types';
import { startFakeWorker, startWorkflowEnv, type FakeWorker } from './workflow-env';

export interface FakeExports {
  activities: Record<string, (input: never) => Promise<unknown>>;
  /** Workflow ids whose export was triggered, in order. */
  triggered: string[];
  /** Waits running now, by job id. */
  waiting: Set<string>;
  /** The most waits that ran at once. */
  maxWaiting: number;
  alerts: Alert[];
  /** The job of `workflowId` ends FAILED (default SUCCEEDED). */
  failing: Set<string>;
  /** While true, waits hold until `release()`. */
  hold: boolean;
  release(): void;
  /** Releases held waits and forgets what earlier tests triggered, failed, alerted and ran at once. */
  reset(): void;
}

const jobOf = (workflowId: string) => `job-${workflowId}`;

export function fakeExports(): FakeExports {
  let released: () => void = () => undefined;
  let gate = new Promise<void>((r) => (released = r));
  const fake: FakeExports = {
    triggered: [],
    waiting: new Set(),
    maxWaiting: 0,
    alerts: [],
    failing: new Set(),
    hold: false,
    release() {
      fake.hold = false;
      released();
      gate = new Promise<void>((r) => (released = r));
    },
    reset() {
      fake.release();
      fake.triggered.length = 0;
      fake.failing.clear();
      fake.alerts.length = 0;
      fake.maxWaiting = 0;
    },
    activities: {},
  };
  const workflowOfJob = (jobId: string) => jobId.slice('job-'.length);

  async function triggerAdhocExport(input: { workflowId: string }) {
    fake.triggered.push(input.workflowId);
    return { jobId: jobOf(input.workflowId), recovered: false };
  }

  async function waitForExportJob(input: { jobId: string }): Promise<WaitForExportJobResult> {
    fake.waiting.add(input.jobId);
    fake.maxWaiting = Math.max(fake.maxWaiting, fake.waiting.size);
    try {
      heartbeat();
      // A cancelled or shut-down wait ends with its cancellation, as the real one does.
      if (fake.hold) await Promise.race([gate, Context.current().cancelled]);
      const failed = fake.failing.has(workflowOfJob(input.jobId));
      return { jobId: input.jobId, status: failed ? 'FAILED' : 'SUCCEEDED', polls: 1, errors: 0 };
    } finally {
      fake.waiting.delete(input.jobId);
    }
  }

  async function downloadExportFile(input: {
    jobId: string;
    workflowId: string;
    kind: Manifest['kind'];
    sourceType: string;
    window?: Manifest['window'];
  }): Promise<Manifest> {
    const now = new Date().toISOString();
    return {
      workflowId: input.workflowId,
      jobId: input.jobId,
      kind: input.kind,
      sourceType: input.sourceType,
      ...(input.window ? { window: input.window } : {}),
      file: `${input.jobId}.csv`,
      path: `/fake/${input.jobId}.csv`,
      bytes: 3,
      sha256: 'f'.repeat(64),
      startedAt: now,
      completedAt: now,
    } as Manifest;
  }

  async function sendAlert(alert: Alert) {
    fake.alerts.push(alert);
    return { delivered: true };
  }

  // A success reaches the export's incident (none open here): answered at once, as the real one does.
  async function reportExportSucceeded() {
    return undefined;
  }

  fake.activities = {
    triggerAdhocExport,
    waitForExportJob,
    downloadExportFile,
    sendAlert,
    reportExportSucceeded,
  } as Record<string, (input: never) => Promise<unknown>>;
  return fake;
}

export interface FakeExportWorker {
  fake: FakeExports;
  /** The workflow environment; set once the block's tests run. */
  readonly env: TestWorkflowEnvironment;
  /** The worker's task queue; set once the block's tests run. */
  readonly taskQueue: string;
}

/**
 * Declares, in the calling describe block, a workflow environment and a worker running the fake exports
 * plus `more(env)` for the block's tests, with the fakes reset before each test; held waits are released
 * before the worker stops, so it can.
 */
export function fakeExportWorkerPerBlock(more: (env: TestWorkflowEnvironment) => object): FakeExportWorker {
  const fake = fakeExports();
  let env: TestWorkflowEnvironment | undefined;
  let worker: FakeWorker | undefined;
  beforeAll(async () => {
    env = await startWorkflowEnv();
    worker = await startFakeWorker(env, { ...fake.activities, ...more(env) });
  });
  afterAll(async () => {
    fake.release();
    await worker?.stop();
    await env?.teardown();
  });
  beforeEach(() => fake.reset());
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("the fake export worker runs only inside the block's tests");
    return v;
  };
  return {
    fake,
    get env() {
      return started(env);
    },
    get taskQueue() {
      return started(worker).taskQueue;
    },
  };
}
