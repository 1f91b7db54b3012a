// The batcher's pacing, with a fake m3ter that records when each call starts and ends.
import { createExportJobBatcher } from '../../../src/m3ter/export-job-batcher';
import { M3terNotFoundError } from '../../../src/m3ter/errors';
import type { ExportJob } from '../../../src/m3ter/schemas';
import { job } from '../activities/fakes';

interface Call {
  kind: 'list' | 'get';
  ids: string[];
  startedAt: number;
  endedAt?: number;
}

type BatcherM3ter = Parameters<typeof createExportJobBatcher>[0];

/** m3ter knowing `known` jobs; each call takes `latencyMs`. */
function recordingM3ter(known: Set<string>, latencyMs = 0): BatcherM3ter & { calls: Call[] } {
  const calls: Call[] = [];
  const answer = async <T>(call: Call, value: () => T): Promise<T> => {
    calls.push(call);
    await new Promise((r) => setTimeout(r, latencyMs));
    call.endedAt = performance.now();
    return value();
  };
  return {
    calls,
    listExportJobs: ({ ids = [] }: { ids?: string[] }) =>
      answer({ kind: 'list', ids, startedAt: performance.now() }, () => ({
        data: ids.filter((id) => known.has(id)).map((id) => job(id, { status: 'RUNNING' })),
      })),
    getExportJob: (id: string) =>
      answer({ kind: 'get', ids: [id], startedAt: performance.now() }, (): ExportJob => {
        if (!known.has(id)) throw new M3terNotFoundError('HTTP 404', { status: 404 });
        return job(id, { status: 'RUNNING' });
      }),
  };
}

/**
 * The least gap an observer can see between two call starts the batcher spaced `intervalMs` apart: the
 * batcher and the fake read the monotonic clock at different instants, and on a loaded machine (other test
 * files run on the other cores) the process can be descheduled between the two readings of one call for a
 * few milliseconds longer than of the other. Still far above the spacing of unpaced calls.
 */
const observedAtLeast = (intervalMs: number) => intervalMs - 10;

const ids = (n: number, prefix = 'job') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('createExportJobBatcher pacing', () => {
  it('answers 250 concurrent reads with three list calls of at most 100 ids, started at least the interval apart', async () => {
    const all = ids(250);
    const m3ter = recordingM3ter(new Set(all));
    const read = createExportJobBatcher(m3ter, { windowMs: 10, minIntervalMs: 150 });
    const jobs = await Promise.all(all.map((id) => read(id)));
    expect(jobs.map((j) => j.id)).toEqual(all);
    expect(m3ter.calls.map((c) => [c.kind, c.ids.length])).toEqual([
      ['list', 100],
      ['list', 100],
      ['list', 50],
    ]);
    // Oldest reads first.
    expect(m3ter.calls[0].ids).toEqual(all.slice(0, 100));
    for (let i = 1; i < m3ter.calls.length; i++)
      expect(m3ter.calls[i].startedAt - m3ter.calls[i - 1].startedAt).toBeGreaterThanOrEqual(
        observedAtLeast(150),
      );
  });

  it('never has two status calls in flight, even when a call outlasts the interval', async () => {
    const all = ids(30);
    const m3ter = recordingM3ter(new Set(all), 120);
    const read = createExportJobBatcher(m3ter, { windowMs: 5, minIntervalMs: 20, maxBatch: 10 });
    await Promise.all(all.map((id) => read(id)));
    expect(m3ter.calls).toHaveLength(3);
    for (let i = 1; i < m3ter.calls.length; i++)
      expect(m3ter.calls[i].startedAt).toBeGreaterThanOrEqual(m3ter.calls[i - 1].endedAt!);
  });

  it('reads that arrive while a call is paced join the next call instead of making their own', async () => {
    const m3ter = recordingM3ter(new Set(ids(3)));
    const read = createExportJobBatcher(m3ter, { windowMs: 5, minIntervalMs: 200 });
    await read('job-0');
    // Both within the 200 ms after the first call: one list call carries them.
    await Promise.all([read('job-1'), read('job-2')]);
    expect(m3ter.calls.map((c) => c.ids)).toEqual([['job-0'], ['job-1', 'job-2']]);
  });

  it('reads ids missing from a list answer one at a time, on the same pace, and rejects an unknown one with the 404', async () => {
    const m3ter = recordingM3ter(new Set(['a', 'b']));
    const read = createExportJobBatcher(m3ter, { windowMs: 5, minIntervalMs: 100 });
    const results = await Promise.allSettled([read('a'), read('x'), read('b'), read('y')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(M3terNotFoundError);
    expect(m3ter.calls.map((c) => `${c.kind}:${c.ids.join(',')}`)).toEqual([
      'list:a,x,b,y',
      'get:x',
      'get:y',
    ]);
    for (let i = 1; i < m3ter.calls.length; i++)
      expect(m3ter.calls[i].startedAt - m3ter.calls[i - 1].startedAt).toBeGreaterThanOrEqual(
        observedAtLeast(100),
      );
  });
});

describe('createExportJobBatcher scaling with the backlog', () => {
  it('reads a backlog of 1,000 ids within two intervals, not ten, when allowed ten calls an interval', async () => {
    const all = ids(1000);
    const m3ter = recordingM3ter(new Set(all), 30);
    const read = createExportJobBatcher(m3ter, { windowMs: 5, minIntervalMs: 500, maxCallsPerInterval: 10 });
    const started = performance.now();
    const jobs = await Promise.all(all.map((id) => read(id)));
    expect(jobs.map((j) => j.id)).toEqual(all);
    expect(m3ter.calls.map((c) => c.ids.length)).toEqual(Array(10).fill(100));
    // The pace follows the backlog as it drains (ten calls an interval, then fewer): the last call starts
    // within two intervals, where one call an interval would take ten.
    expect(m3ter.calls[9].startedAt - started).toBeLessThan(2 * 500);
    for (let i = 1; i < m3ter.calls.length; i++)
      expect(m3ter.calls[i].startedAt - m3ter.calls[i - 1].startedAt).toBeGreaterThanOrEqual(
        observedAtLeast(500 / 10),
      );
    // Every id read exactly once, oldest first.
    expect(m3ter.calls.flatMap((c) => c.ids)).toEqual(all);
  });

  it('never has more calls in flight than its cap, however large the backlog', async () => {
    const all = ids(600);
    const m3ter = recordingM3ter(new Set(all), 200);
    const read = createExportJobBatcher(m3ter, { windowMs: 5, minIntervalMs: 100, maxCallsPerInterval: 3 });
    await Promise.all(all.map((id) => read(id)));
    const events = m3ter.calls.flatMap((c) => [
      { t: c.startedAt, d: 1 },
      { t: c.endedAt!, d: -1 },
    ]);
    events.sort((a, b) => a.t - b.t || a.d - b.d);
    let inFlight = 0;
    let most = 0;
    for (const e of events) most = Math.max(most, (inFlight += e.d));
    expect(m3ter.calls).toHaveLength(6);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
  });

  it('keeps one call per interval when fewer reads are queued than one call carries', async () => {
    const m3ter = recordingM3ter(new Set(ids(50)), 0);
    const read = createExportJobBatcher(m3ter, { windowMs: 5, minIntervalMs: 200, maxCallsPerInterval: 10 });
    await Promise.all(ids(50).map((id) => read(id)));
    await Promise.all(ids(50).map((id) => read(id)));
    expect(m3ter.calls).toHaveLength(2);
    expect(m3ter.calls[1].startedAt - m3ter.calls[0].startedAt).toBeGreaterThanOrEqual(observedAtLeast(200));
  });
});
