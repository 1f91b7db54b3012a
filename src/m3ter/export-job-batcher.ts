// Coalesces ExportJob status reads from every wait on this worker into paced list calls.
//
// Why: a wait polls its job about once a second for the job's whole life (activities/wait.ts), so that a
// finished job is noticed within a second or two whatever its length. Asked one by one, a thousand waiting
// jobs would be a thousand requests a second against m3ter's limit of 50 Config API requests per second
// per Organization (docs/m3ter-api.md, Rate limits), shared with triggers and download URLs of every
// worker. The list endpoint takes `ids` (up to 100 per page; docs/m3ter-api.md, Job list filters) and
// returns the same JobResponse, so the batcher answers reads with list calls of up to 100 ids, and paces
// them: with up to 100 reads queued, one call per `minIntervalMs`; with more, as many calls per interval as
// the backlog needs (ceil(queued / 100)), spread evenly and up to `maxCallsPerInterval`, so each waiting
// job is still read about once an interval. Reads are served oldest first, so every job gets its turn.
// Status reads go through the m3ter client, whose pacing is the worker's share of the Config API budget:
// the cap keeps them from crowding out triggers and download URLs.
//
// ASSUMPTION (docs/m3ter-api.md, Assumptions): a list call with 100 ids, a URL of about 4 KB, is accepted.
//
// A job missing from a list answer (eventual consistency, or it does not exist) is then read on its own
// with `getExportJob`, so a caller still sees m3ter's 404 for an unknown id; those single reads take a turn
// of the same pace. A failed call fails every read it carried; the waits treat that like any failed poll.
import type { M3terClient } from './client';
import type { ExportJob } from './schemas';

export type ExportJobReader = (jobId: string) => Promise<ExportJob>;

export interface ExportJobBatcherOptions {
  /** How long a read arriving at an idle batcher waits for others to join its call. Default 100 ms. */
  windowMs?: number;
  /** Least time between the starts of two status calls: the worker's status-read rate. Default 1,000 ms. */
  minIntervalMs?: number;
  /** Ids per list call. Default (and maximum) 100: m3ter's largest page. */
  maxBatch?: number;
  /**
   * Most status calls per `minIntervalMs` (and in flight at once) when more reads are queued than one call
   * carries. Default 1: one call per interval whatever the backlog.
   */
  maxCallsPerInterval?: number;
}

interface Waiter {
  resolve(job: ExportJob): void;
  reject(err: unknown): void;
}

type Queue = Map<string, Waiter[]>;

function enqueue(queue: Queue, jobId: string, waiters: Waiter[]) {
  const queued = queue.get(jobId);
  if (queued) queued.push(...waiters);
  else queue.set(jobId, waiters);
}

/** Removes and returns up to `n` entries, oldest first (a Map iterates in insertion order). */
function takeOldest(queue: Queue, n: number): [string, Waiter[]][] {
  const taken: [string, Waiter[]][] = [];
  for (const entry of queue) {
    if (taken.length === n) break;
    taken.push(entry);
  }
  for (const [id] of taken) queue.delete(id);
  return taken;
}

/** The share of a worker's Config API pace its status reads may take; the rest is left to triggers and URLs. */
export const STATUS_READ_SHARE = 0.4;

/** Status calls per second a worker may make at a given Config API pace (requests per second). */
export function statusCallsPerSecond(configRequestsPerSecond: number): number {
  return Math.max(1, Math.floor(configRequestsPerSecond * STATUS_READ_SHARE));
}

export function createExportJobBatcher(
  m3ter: Pick<M3terClient, 'listExportJobs' | 'getExportJob'>,
  opts: ExportJobBatcherOptions = {},
): ExportJobReader {
  const windowMs = opts.windowMs ?? 100;
  const minIntervalMs = opts.minIntervalMs ?? 1_000;
  const maxBatch = Math.min(100, Math.max(1, opts.maxBatch ?? 100));
  const pending: Queue = new Map();
  /** Ids a list answer lacked, to be read one at a time. */
  const unlisted: Queue = new Map();
  const maxCalls = Math.max(1, Math.floor(opts.maxCallsPerInterval ?? 1));
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  let lastCallAt = Number.NEGATIVE_INFINITY;
  let lastWasSingle = false;

  /** Call starts within the last interval and the reads each carried: the interval's load so far. */
  const recent: { at: number; reads: number }[] = [];
  /**
   * Calls per interval the load needs, within the cap: the queued reads plus those the interval's calls
   * already carried, so the pace set by a backlog holds until the interval's last call instead of slowing as
   * the queue drains.
   */
  const callsWanted = () => {
    const since = performance.now() - minIntervalMs;
    while (recent.length > 0 && recent[0].at <= since) recent.shift();
    const carried = recent.reduce((n, r) => n + r.reads, 0);
    const load = Math.ceil((pending.size + carried) / maxBatch) + (unlisted.size > 0 ? 1 : 0);
    return Math.min(maxCalls, Math.max(1, load));
  };
  const spacing = () => minIntervalMs / callsWanted();
  const idle = () => pending.size === 0 && unlisted.size === 0;

  const readOne = async ([jobId, waiters]: [string, Waiter[]]) => {
    try {
      const job = await m3ter.getExportJob(jobId);
      waiters.forEach((w) => w.resolve(job));
    } catch (err) {
      waiters.forEach((w) => w.reject(err));
    }
  };

  const readBatch = async (batch: [string, Waiter[]][]) => {
    let found: Map<string, ExportJob>;
    try {
      const page = await m3ter.listExportJobs({ ids: batch.map(([id]) => id), pageSize: maxBatch });
      found = new Map(page.data.map((job) => [job.id, job]));
    } catch (err) {
      for (const [, waiters] of batch) waiters.forEach((w) => w.reject(err));
      return;
    }
    for (const [jobId, waiters] of batch) {
      const job = found.get(jobId);
      if (job) waiters.forEach((w) => w.resolve(job));
      else enqueue(unlisted, jobId, waiters);
    }
  };

  /** Takes the next call's work: single reads alternate with list calls, so neither can starve the other. */
  const nextWork = (): (() => Promise<void>) => {
    if (unlisted.size > 0 && (pending.size === 0 || !lastWasSingle)) {
      lastWasSingle = true;
      const one = takeOldest(unlisted, 1)[0];
      return () => readOne(one);
    }
    lastWasSingle = false;
    const batch = takeOldest(pending, maxBatch);
    return () => readBatch(batch);
  };

  const call = async () => {
    timer = undefined;
    // Timers may fire a millisecond early: the pace is a guarantee, so check it against the clock (the
    // monotonic one: a wall-clock step must neither bunch calls together nor stall them).
    const early = lastCallAt + spacing() - performance.now();
    if (early > 0) {
      timer = setTimeout(() => void call(), early);
      return;
    }
    if (inFlight >= callsWanted() || idle()) return;
    inFlight++;
    lastCallAt = performance.now();
    const reads = pending.size;
    const work = nextWork();
    recent.push({ at: lastCallAt, reads: reads - pending.size });
    schedule(); // a backlog may want another call alongside this one
    try {
      await work();
    } finally {
      inFlight--;
      schedule();
    }
  };

  const schedule = () => {
    if (inFlight >= callsWanted() || idle()) return;
    // A full batch goes as soon as the pace allows; a partial one first gives others a moment to join.
    const gather = pending.size >= maxBatch ? 0 : windowMs;
    const at = Math.max(performance.now() + gather, lastCallAt + spacing());
    if (timer) {
      if (gather > 0) return;
      clearTimeout(timer);
    }
    timer = setTimeout(() => void call(), Math.max(0, at - performance.now()));
  };

  return (jobId: string) =>
    new Promise<ExportJob>((resolve, reject) => {
      enqueue(pending, jobId, [{ resolve, reject }]);
      schedule();
    });
}
