import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { createWaitActivity } from '../../../activities/wait';
import { FailureType } from '../../../src/failures';
import { M3terNotFoundError, M3terServerError } from '../../../src/m3ter/errors';
import type { ExportJob } from '../../../src/m3ter/schemas';
import { fakeM3ter, job, mockEnv, silentLog } from './fakes';

/** A clock that only moves when the activity sleeps: the poll schedule becomes exact. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    clock: { now: () => now },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
    elapsed: () => now - 1_000_000,
  };
}

/** Job whose status is decided by the fake time. */
function jobAt(
  time: ReturnType<typeof fakeTime>,
  doneAfterMs: number,
  outcome: ExportJob['status'] = 'SUCCEEDED',
) {
  return async (id: string) =>
    job(id, {
      status: time.elapsed() >= doneAfterMs ? outcome : time.elapsed() > 0 ? 'RUNNING' : 'PENDING',
      startedAt: '2025-01-01T00:00:01Z',
    });
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('waitForExportJob', () => {
  it('polls every second in the 30 s fast phase, so a short job is noticed within a second', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({ getExportJob: jobAt(time, 12_300) });
    const wait = createWaitActivity({
      readExportJob: (id) => m3ter.getExportJob(id),
      log: silentLog,
      clock: time.clock,
      sleep: time.sleep,
    });
    const env = mockEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const res = await env.exec(() => wait({ jobId: 'j1' }));
    expect(res).toMatchObject({
      jobId: 'j1',
      status: 'SUCCEEDED',
      polls: 14,
      errors: 0,
      startedAt: '2025-01-01T00:00:01Z',
    });
    expect(time.sleeps.every((s) => s === 1000)).toBe(true);
    expect(time.elapsed() - 12_300).toBeLessThanOrEqual(1000);
    expect(beats).toHaveLength(13);
    expect(beats[0]).toMatchObject({ polls: 1 });
  });

  it('after the 30 s fast phase the interval grows x1.5 up to 20 s, then the attempt ends with ExportJobStillRunning', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({ getExportJob: jobAt(time, Number.POSITIVE_INFINITY) });
    const wait = createWaitActivity({
      readExportJob: (id) => m3ter.getExportJob(id),
      log: silentLog,
      clock: time.clock,
      sleep: time.sleep,
    });
    const f = await failure(mockEnv().exec(() => wait({ jobId: 'j2' })));
    expect(f.type).toBe(FailureType.ExportJobStillRunning);
    expect(f.nonRetryable).toBe(false);
    // Benign: the SDK logs each retry at DEBUG and leaves it out of failure metrics.
    expect(f.category).toBe('BENIGN');
    // 30 polls 1 s apart, then 1.5, 2.25, 3.38, 5.06, 7.59, 11.39, 17.09, then 20 s until 5 minutes.
    expect(time.sleeps.slice(0, 30).every((s) => s === 1000)).toBe(true);
    expect(time.sleeps.slice(30, 38)).toEqual([1500, 2250, 3375, 5063, 7595, 11393, 17090, 20000]);
    expect(Math.max(...time.sleeps)).toBe(20000);
    expect(time.elapsed()).toBe(300_000);
    const polls = m3ter.calls.getExportJob.length;
    // The polling target: over a long job, on average no more than one poll per 10 s.
    expect(polls).toBeGreaterThan(40);
    expect(polls).toBeLessThanOrEqual(50);
  });

  it('retry attempts poll once and throw again, continuing the poll count from heartbeat details', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({ getExportJob: async (id) => job(id, { status: 'RUNNING' }) });
    const wait = createWaitActivity({
      readExportJob: (id) => m3ter.getExportJob(id),
      log: silentLog,
      clock: time.clock,
      sleep: time.sleep,
    });
    const env = mockEnv({ attempt: 5, heartbeatDetails: { polls: 90, errors: 1 } });
    const f = await failure(env.exec(() => wait({ jobId: 'j3' })));
    expect(f.type).toBe(FailureType.ExportJobStillRunning);
    expect(f.nonRetryable).toBe(false);
    expect(m3ter.calls.getExportJob).toHaveLength(1);
    expect(f.details?.[0]).toMatchObject({ polls: 91, status: 'RUNNING' });

    const done = fakeM3ter({ getExportJob: async (id) => job(id, { status: 'FAILED' }) });
    const wait2 = createWaitActivity({
      readExportJob: (id) => done.getExportJob(id),
      log: silentLog,
      clock: time.clock,
      sleep: time.sleep,
    });
    await expect(
      mockEnv({ attempt: 6, heartbeatDetails: { polls: 91, errors: 1 } }).exec(() => wait2({ jobId: 'j3' })),
    ).resolves.toMatchObject({
      status: 'FAILED',
      polls: 92,
    });
  });

  it('keeps polling through transient errors and counts them', async () => {
    const time = fakeTime();
    let n = 0;
    const m3ter = fakeM3ter({
      getExportJob: async (id) => {
        n++;
        if (n === 2 || n === 3) throw new M3terServerError('HTTP 503', { status: 503, retryable: true });
        return job(id, { status: n >= 5 ? 'SUCCEEDED' : 'RUNNING' });
      },
    });
    const wait = createWaitActivity({
      readExportJob: (id) => m3ter.getExportJob(id),
      log: silentLog,
      clock: time.clock,
      sleep: time.sleep,
    });
    await expect(mockEnv().exec(() => wait({ jobId: 'j4' }))).resolves.toMatchObject({
      status: 'SUCCEEDED',
      polls: 5,
      errors: 2,
    });
  });

  it('persistent transient errors end the attempt with the retryable M3terUnavailable', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({
      getExportJob: async () => {
        throw new M3terServerError('HTTP 500', { status: 500, retryable: true });
      },
    });
    const wait = createWaitActivity({
      readExportJob: (id) => m3ter.getExportJob(id),
      log: silentLog,
      clock: time.clock,
      sleep: time.sleep,
    });
    const f = await failure(mockEnv().exec(() => wait({ jobId: 'j5', maxConsecutiveErrors: 4 })));
    expect(f).toMatchObject({ type: FailureType.M3terUnavailable, nonRetryable: false });
    expect(f.message).toContain('failed 4 times in a row');
    expect(m3ter.calls.getExportJob).toHaveLength(4);
  });

  it('a job that m3ter does not know after three polls is the non-retryable ExportJobNotFound', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({
      getExportJob: async () => {
        throw new M3terNotFoundError('HTTP 404', { status: 404 });
      },
    });
    const wait = createWaitActivity({
      readExportJob: (id) => m3ter.getExportJob(id),
      log: silentLog,
      clock: time.clock,
      sleep: time.sleep,
    });
    const f = await failure(mockEnv().exec(() => wait({ jobId: 'nope' })));
    expect(f).toMatchObject({ type: FailureType.ExportJobNotFound, nonRetryable: true });
    expect(f.details?.[0]).toEqual({ jobId: 'nope' });
    // A single 404 is not trusted: it takes three in a row.
    expect(m3ter.calls.getExportJob).toHaveLength(3);
  });

  it('a cancellation interrupts the default sleep between polls with CancelledFailure', async () => {
    const m3ter = fakeM3ter({ getExportJob: async (id) => job(id, { status: 'RUNNING' }) });
    const wait = createWaitActivity({
      readExportJob: (id) => m3ter.getExportJob(id),
      log: silentLog,
      clock: { now: () => Date.now() },
    });
    const env = mockEnv();
    // The first heartbeat comes right after the first poll, just before the minute-long sleep.
    env.once('heartbeat', () => env.cancel());
    const started = Date.now();
    await expect(env.exec(() => wait({ jobId: 'j6', fastPollMs: 60_000 }))).rejects.toBeInstanceOf(
      CancelledFailure,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(m3ter.calls.getExportJob).toHaveLength(1);
  });
});
