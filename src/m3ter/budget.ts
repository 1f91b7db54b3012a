// One m3ter Config API budget for a whole deployment, however many workers it runs.
//
// m3ter's limit (50 requests/s) is per Organization, shared by every client of it, so pacing inside each
// worker process is not enough: three workers pacing themselves at 25/s would send 75/s together. The
// activities that call the Config API on behalf of one export (trigger, download URL) therefore run on their
// own activity task queue (`<taskQueue>-m3ter`), and the Temporal server hands tasks of that queue out at
// most `requestsPerSecond` per second to all of its pollers together.
//
// The rate is set by API (UpdateTaskQueueConfig), not with the worker option
// `maxTaskQueueActivitiesPerSecond`: a limit set by a worker is replaced by whatever the next poller sends,
// including "no limit" from a worker that does not set it, while an API-set limit wins over every worker's.
// So workers must not pass that option for this queue; each worker re-applies the configured budget at start
// (idempotent; the last writer wins, so every replica must be given the same value).
import type { Client } from '@temporalio/client';

// Enum values of temporal.api.enums.v1 (the client takes plain numbers; @temporalio/proto is not a direct
// dependency of ours).
const TASK_QUEUE_TYPE_ACTIVITY = 2;
const TASK_QUEUE_KIND_NORMAL = 1;
const RATE_LIMIT_SOURCES: Record<number, QueueRate['source']> = { 1: 'api', 2: 'worker', 3: 'system' };

export interface QueueRate {
  /** Tasks per second the server dispatches from the queue (to all pollers together). */
  requestsPerSecond: number;
  /** Who set it: 'api' (this module), 'worker' (a poller's option) or 'system' (the server's default). */
  source: 'api' | 'worker' | 'system' | 'unspecified';
}

export interface QueueRef {
  namespace: string;
  /** The m3ter activity task queue (see m3terTaskQueue). */
  taskQueue: string;
}

/** Sets the queue-wide dispatch rate of an activity task queue (the deployment's m3ter budget). */
export async function setActivityQueueRate(
  client: Client,
  ref: QueueRef & { requestsPerSecond: number; identity?: string; reason?: string },
): Promise<void> {
  await client.workflowService.updateTaskQueueConfig({
    namespace: ref.namespace,
    identity: ref.identity ?? client.options.identity,
    taskQueue: ref.taskQueue,
    // The server accepts queue rate limits on activity task queues only.
    taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
    updateQueueRateLimit: {
      rateLimit: { requestsPerSecond: ref.requestsPerSecond },
      reason: ref.reason ?? 'm3ter Config API budget of this deployment (M3TER_MAX_REQUESTS_PER_SECOND)',
    },
  });
}

/** The rate the server applies to an activity task queue right now, and where it comes from. */
export async function describeActivityQueueRate(client: Client, ref: QueueRef): Promise<QueueRate> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: ref.namespace,
    taskQueue: { name: ref.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
    reportConfig: true,
  });
  const effective = res.effectiveRateLimit;
  return {
    requestsPerSecond:
      effective?.requestsPerSecond ?? res.config?.queueRateLimit?.rateLimit?.requestsPerSecond ?? NaN,
    source: RATE_LIMIT_SOURCES[Number(effective?.rateLimitSource ?? 0)] ?? 'unspecified',
  };
}
