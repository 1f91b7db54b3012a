import { CancelledFailure } from '@temporalio/common';
import { createWaitActivity } from '../../../activities/wait';
import { FailureType } from '../../../src/contract/failures';
import { M3terNotFoundError, M3terServerError } from '../../../src/m3ter/errors';
import type { ExportJob } from '../../../src/m3ter/schemas';
import { fakeM3ter, job, mockEnv, silentLog } from './fakes';
import { applicationFailure } from '../../support/workflow-failure';

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

/** The wait activity reading `m3ter` on the fake time. */
function timedWait(time: ReturnType<typeof fakeTime>, m3ter: ReturnType<typeof fakeM3ter>) {
  return createWaitActivity({
    readExportJob: (id) => m3ter.getExportJob(id),
    log: silentLog,
    clock: time.clock,
    sleep: time.sleep,
  });
}

/** The strategy before polls were batched and paced per worker: fast, growing, then the retry policy. */
const TIERED = { fastPhaseMs: 30_000, mediumMaxPollMs: 20_000, inActivityPhaseMs: 300_000 };

describe('waitForExportJob', () => {
  it('polls every second by default, so a short job is noticed within a second', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({ getExportJob: jobAt(time, 12_300) });
    const wait = timedWait(time, m3ter);
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

  it('keeps polling every second for a six-hour job, noticing its end within a second, in one attempt', async () => {
    const time = fakeTime();
    const sixHours = 6 * 3600_000;
    const m3ter = fakeM3ter({ getExportJob: jobAt(time, sixHours + 400) });
    const wait = timedWait(time, m3ter);
    const res = await mockEnv().exec(() => wait({ jobId: 'j-long' }));
    expect(res).toMatchObject({ status: 'SUCCEEDED', polls: sixHours / 1000 + 2 });
    expect(new Set(time.sleeps)).toEqual(new Set([1000]));
    expect(time.elapsed() - (sixHours + 400)).toBeLessThanOrEqual(1000);
  });

  it('counts the time a read spent queued towards the interval, so polls stay a second apart start to start', async () => {
    let now = 0;
    const sleeps: number[] = [];
    let reads = 0;
    const wait = createWaitActivity({
      // Each read is answered 700 ms after it was asked (queued behind other jobs' reads).
      readExportJob: async (id) => {
        now += 700;
        return job(id, { status: ++reads >= 4 ? 'SUCCEEDED' : 'RUNNING' });
      },
      log: silentLog,
      clock: { now: () => now },
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    await expect(mockEnv().exec(() => wait({ jobId: 'j-queued' }))).resolves.toMatchObject({ polls: 4 });
    expect(sleeps).toEqual([300, 300, 300]);
  });

  it('heartbeats while a read is queued, so a wait behind hundreds of others is not timed out', async () => {
    const env = mockEnv();
    let beats = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    env.on('heartbeat', () => {
      if (++beats === 3) release();
    });
    const wait = createWaitActivity({
      // The read is answered only once three keep-alive heartbeats were sent while it was pending.
      readExportJob: async (id) => {
        await released;
        return job(id, { status: 'SUCCEEDED' });
      },
      log: silentLog,
      clock: { now: () => Date.now() },
    });
    await expect(env.exec(() => wait({ jobId: 'j-slow-read', keepAliveMs: 20 }))).resolves.toMatchObject({
      status: 'SUCCEEDED',
      polls: 1,
    });
    expect(beats).toBeGreaterThanOrEqual(3);
  });

  it('with the tiered strategy, after a 30 s fast phase the interval grows x1.5 up to 20 s, then the attempt ends with ExportJobStillRunning', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({ getExportJob: jobAt(time, Number.POSITIVE_INFINITY) });
    const wait = timedWait(time, m3ter);
    const f = await applicationFailure(mockEnv().exec(() => wait({ jobId: 'j2', ...TIERED })));
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

  it('a retry attempt polls until the job ends, continuing the poll count from heartbeat details', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({ getExportJob: jobAt(time, 5_000) });
    const wait = timedWait(time, m3ter);
    const env = mockEnv({ attempt: 3, heartbeatDetails: { polls: 40, errors: 2 } });
    await expect(env.exec(() => wait({ jobId: 'j-retry' }))).resolves.toMatchObject({
      status: 'SUCCEEDED',
      polls: 46,
      errors: 2,
    });
  });

  it('with the tiered strategy, retry attempts poll once and throw again, continuing the poll count', async () => {
    const time = fakeTime();
    const m3ter = fakeM3ter({ getExportJob: async (id) => job(id, { status: 'RUNNING' }) });
    const wait = timedWait(time, m3ter);
    const env = mockEnv({ attempt: 5, heartbeatDetails: { polls: 90, errors: 1 } });
    const f = await applicationFailure(env.exec(() => wait({ jobId: 'j3', ...TIERED })));
    expect(f.type).toBe(FailureType.ExportJobStillRunning);
    expect(f.nonRetryable).toBe(false);
    expect(m3ter.calls.getExportJob).toHaveLength(1);
    expect(f.details?.[0]).toMatchObject({ polls: 91, status: 'RUNNING' });

    const done = fakeM3ter({ getExportJob: async (id) => job(id, { status: 'FAILED' }) });
    const wait2 = timedWait(time, done);
    await expect(
      mockEnv({ attempt: 6, heartbeatDetails: { polls: 91, errors: 1 } }).exec(() =>
        wait2({ jobId: 'j3', ...TIERED }),
      ),
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
    const wait = timedWait(time, m3ter);
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
    const wait = timedWait(time, m3ter);
    const f = await applicationFailure(mockEnv().exec(() => wait({ jobId: 'j5', maxConsecutiveErrors: 4 })));
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
    const wait = timedWait(time, m3ter);
    const f = await applicationFailure(mockEnv().exec(() => wait({ jobId: 'nope' })));
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
