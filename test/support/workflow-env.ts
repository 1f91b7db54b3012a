// Fast workflow tests: the real workflows (the run's prebuilt bundle) on a TestWorkflowEnvironment, with
// fake activities registered under the real activities' names, so the orchestration (planning, bounded
// concurrency, continue-as-new, cancel, catch-up, the monitor's loop) is tested without m3ter, storage or
// the sandbox.
//
// The SDK's time-skipping server is downloaded at first use from a host this project's machines cannot
// reach, so the environment is the run's own dev server (the cached Temporal CLI the global setup started):
// the workflows tested here wait on activities and signals, not on long timers, so real time costs little.
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { m3terTaskQueue } from '../../src/contract/task-queues';
import { workflowSource } from '../../src/runtime/workflow-bundle';

export async function startWorkflowEnv(): Promise<TestWorkflowEnvironment> {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) throw new Error('TEMPORAL_TEST_ADDRESS is not set: run through jest (its global setup)');
  try {
    // The SDK's per-workflow INFO lines would drown the test output.
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* installed already by another file in this jest worker */
  }
  return TestWorkflowEnvironment.createFromExistingServer({
    address,
    namespace: process.env.TEMPORAL_TEST_NAMESPACE ?? 'default',
  });
}

export interface FakeWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * A worker polling a fresh task queue and its m3ter queue (where the export workflows send their m3ter
 * activities) with the real workflows and the given activities.
 */
export async function startFakeWorker(env: TestWorkflowEnvironment, activities: object): Promise<FakeWorker> {
  const taskQueue = `fake-${randomUUID()}`;
  const common = { connection: env.nativeConnection, namespace: env.namespace ?? 'default', activities };
  const workers = await Promise.all([
    Worker.create({ ...common, taskQueue, ...workflowSource() }),
    Worker.create({ ...common, taskQueue: m3terTaskQueue(taskQueue) }),
  ]);
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    taskQueue,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => undefined);
    },
  };
}
