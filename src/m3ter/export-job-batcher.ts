// Coalesces ExportJob status reads from many concurrent waits into list calls.
//
// Why: every running export polls its job, about once a second in its first half minute. m3ter allows 50
// Config API requests per second per Organization (docs/m3ter-api.md, Rate limits), shared by every client
// of that org, so fifty exports polling one by one would exhaust it and starve triggers and download URLs.
// The list endpoint takes `ids` (up to 100 per page; docs/m3ter-api.md, Job list filters) and returns the
// same JobResponse, so reads that arrive within `windowMs` of each other become one `GET /dataexports/jobs?ids=...` per 100 jobs. The waits poll
// on their own clocks, unaligned, so the window is what bounds the rate: at 250 ms, at most 4 list calls a
// second per 100 jobs being polled, whatever their number, for ~0.13 s of extra detection delay on average.
//
// ASSUMPTION (docs/m3ter-api.md, Assumptions): a list call with 100 ids, a URL of about 4 KB, is accepted.
//
// A job missing from the list answer (eventual consistency, or it does not exist) is read on its own with
// `getExportJob`, so a caller still sees m3ter's 404 for an unknown id. A failed list call fails every read
// it carried; the waits treat that like any failed poll.
import type { M3terClient } from './client';
import type { ExportJob } from './schemas';

export type ExportJobReader = (jobId: string) => Promise<ExportJob>;

export interface ExportJobBatcherOptions {
  /** How long the first read of a batch waits for others to join it. Default 250 ms. */
  windowMs?: number;
  /** Ids per list call: m3ter's maximum page size. */
  maxBatch?: number;
}

interface Waiter {
  resolve(job: ExportJob): void;
  reject(err: unknown): void;
}

export function createExportJobBatcher(
  m3ter: Pick<M3terClient, 'listExportJobs' | 'getExportJob'>,
  opts: ExportJobBatcherOptions = {},
): ExportJobReader {
  const windowMs = opts.windowMs ?? 250;
  const maxBatch = Math.min(100, Math.max(1, opts.maxBatch ?? 100));
  let pending = new Map<string, Waiter[]>();
  let timer: NodeJS.Timeout | undefined;

  const settle = (ids: string[], batch: Map<string, Waiter[]>, outcome: (id: string) => Promise<ExportJob>) =>
    ids.map(async (id) => {
      const waiters = batch.get(id) ?? [];
      try {
        const job = await outcome(id);
        waiters.forEach((w) => w.resolve(job));
      } catch (err) {
        waiters.forEach((w) => w.reject(err));
      }
    });

  const runBatch = async (ids: string[], batch: Map<string, Waiter[]>) => {
    let found: Map<string, ExportJob>;
    try {
      const page = await m3ter.listExportJobs({ ids, pageSize: maxBatch });
      found = new Map(page.data.map((job) => [job.id, job]));
    } catch (err) {
      await Promise.all(settle(ids, batch, () => Promise.reject(err)));
      return;
    }
    await Promise.all(settle(ids, batch, (id) => Promise.resolve(found.get(id) ?? m3ter.getExportJob(id))));
  };

  const flush = () => {
    timer = undefined;
    const batch = pending;
    pending = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += maxBatch) void runBatch(ids.slice(i, i + maxBatch), batch);
  };

  return (jobId: string) =>
    new Promise<ExportJob>((resolve, reject) => {
      const waiters = pending.get(jobId);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(jobId, [{ resolve, reject }]);
      if (pending.size >= maxBatch) {
        if (timer) clearTimeout(timer);
        flush();
      } else {
        timer ??= setTimeout(flush, windowMs);
      }
    });
}
