// A worker inside the test process on the test dev server: the real export workflows (or the prebuilt
// bundle named by M3TER_WORKFLOW_BUNDLE) with the activities the test builds, so a test can swap in fakes
// or fault injectors that a worker process could not take.
import { DefaultLogger, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { m3terTaskQueue } from '../../src/contract/task-queues';
import type { TestTemporal } from './temporal-harness';

const workflowSource = process.env.M3TER_WORKFLOW_BUNDLE
  ? { workflowBundle: { codePath: process.env.M3TER_WORKFLOW_BUNDLE } }
  : { workflowsPath: require.resolve('../../workflows') };

export interface InProcessWorker {
  worker: Worker;
  /** Shuts the worker down and waits for it; safe to call when it already stopped. */
  stop(): Promise<void>;
}

export async function startInProcessWorker(
  temporal: TestTemporal,
  options: Omit<WorkerOptions, 'connection' | 'namespace' | 'workflowsPath' | 'workflowBundle'>,
): Promise<InProcessWorker> {
  try {
    // The SDK's per-workflow INFO lines would drown the test output.
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* another test file in this jest worker installed it already */
  }
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    ...workflowSource,
    ...options,
  });
  // The export workflows send their m3ter-calling activities to `<taskQueue>-m3ter` (as the real worker
  // process polls it); the same activities serve it here.
  const m3terWorker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue: m3terTaskQueue(options.taskQueue),
    activities: options.activities,
    interceptors: options.interceptors,
  });
  const running = Promise.all([worker.run(), m3terWorker.run()]);
  return {
    worker,
    async stop() {
      for (const w of [worker, m3terWorker]) if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => undefined);
    },
  };
}
