// Task queue names the workflows derive from their own queue. Deterministic (a pure function of
// workflowInfo().taskQueue), so no configuration has to reach workflow code and a replay computes the same name.

/**
 * The activity task queue of the activities that call the m3ter Config API (trigger, download URL). Its
 * dispatch rate is set on the server for the whole deployment (src/m3ter/budget.ts), so every worker polling
 * it shares one budget instead of pacing itself alone.
 */
export function m3terTaskQueue(taskQueue: string): string {
  return `${taskQueue}-m3ter`;
}

/**
 * The activity task queue of the activities that send measurements to the m3ter Ingest API. Its own budget
 * (M3TER_INGEST_REQUESTS_PER_SECOND), set on the server like the Config API's: one batch, one task, one
 * request.
 */
export function m3terIngestTaskQueue(taskQueue: string): string {
  return `${taskQueue}-m3ter-ingest`;
}

/**
 * Heartbeats of the activities on the m3ter queue (triggers, downloads). A task there goes through the
 * server's matching, which on a CPU-starved server can record it as started without handing it to any
 * worker; the task is then retried only after its heartbeat timeout, so that timeout is a few heartbeat
 * intervals: the activities beat at least every `everyMs`, the worker sends each beat (its heartbeat
 * throttle on that queue is the same interval), and `timeoutMs` allows four in a row to go missing.
 */
export const M3TER_QUEUE_HEARTBEAT = { everyMs: 2_000, timeoutMs: 10_000 } as const;
