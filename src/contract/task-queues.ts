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
