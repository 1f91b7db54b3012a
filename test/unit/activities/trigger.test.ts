import { ApplicationFailure } from '@temporalio/common';
import { createTriggerActivity, classifyTriggerFailure } from '../../../activities/trigger';
import { FailureType } from '../../../src/failures';
import {
  M3terBadRequestError,
  M3terConnectionError,
  M3terRateLimitError,
  M3terRequestValidationError,
  M3terServerError,
  M3terTimeoutError,
} from '../../../src/m3ter/errors';
import type { AdhocExportRequest, ExportJob } from '../../../src/m3ter/schemas';
import { fakeM3ter, job, mockEnv, silentLog } from './fakes';

const request: AdhocExportRequest = {
  sourceType: 'USAGE',
  startDate: '2025-01-01T00:00:00Z',
  endDate: '2025-01-02T00:00:00Z',
};

const lostResponse = () =>
  new M3terTimeoutError('m3ter POST /dataexports/adhoc timed out', {
    retryable: true,
    mayHaveBeenProcessed: true,
  });
const serverError = () =>
  new M3terServerError('HTTP 500', { status: 500, retryable: true, mayHaveBeenProcessed: true });

function setup(opts: {
  create: Array<() => Promise<{ jobId: string }>>;
  list?: (q: unknown) => ExportJob[];
  claimed?: string[];
  keepAliveMs?: number;
}) {
  let creates = 0;
  const m3ter = fakeM3ter({
    createAdhocExport: async () => {
      const next = opts.create[creates++];
      if (!next) throw new Error('too many POSTs');
      return next();
    },
    listExportJobs: async (q) => ({ data: opts.list ? opts.list(q) : [] }),
  });
  const claimedCalls: string[][] = [];
  const trigger = createTriggerActivity({
    m3ter,
    log: silentLog,
    clock: { now: () => Date.now() },
    claimedJobIds: async (ids) => {
      claimedCalls.push(ids);
      return new Set(ids.filter((id) => opts.claimed?.includes(id)));
    },
    tuning: { recoveryGraceMs: 0, claimSettleMs: 1, claimSettleRounds: 2, keepAliveMs: opts.keepAliveMs },
  });
  return { m3ter, trigger, claimedCalls, posts: () => creates };
}

async function run<T>(fn: () => Promise<T>, attempt = 1): Promise<T> {
  const env = mockEnv({ attempt, scheduledTimestampMs: Date.now() - 1000 });
  return env.exec(fn);
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('triggerAdhocExport', () => {
  it('heartbeats while a slow POST is in flight, so only a lost attempt meets the heartbeat timeout', async () => {
    const env = mockEnv({ attempt: 1, scheduledTimestampMs: Date.now() - 1000 });
    let beats = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    env.on('heartbeat', () => {
      if (++beats === 3) release();
    });
    // The POST is answered only once three keep-alive heartbeats were sent while it was pending.
    const { trigger } = setup({
      create: [() => released.then(() => ({ jobId: 'j-slow' }))],
      keepAliveMs: 20,
    });
    await expect(env.exec(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'j-slow',
      recovered: false,
    });
    expect(beats).toBeGreaterThanOrEqual(3);
  });

  it('returns the job id of a successful POST', async () => {
    const { trigger, posts } = setup({ create: [async () => ({ jobId: 'j1' })] });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'j1',
      recovered: false,
    });
    expect(posts()).toBe(1);
  });

  it('lost response after commit + one unclaimed candidate: adopts it without a second POST', async () => {
    const { trigger, posts, m3ter } = setup({
      create: [
        async () => {
          throw lostResponse();
        },
      ],
      list: () => [job('committed')],
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'committed',
      recovered: true,
    });
    expect(posts()).toBe(1);
    const q = m3ter.calls.listExportJobs[0][0] as { dateCreatedStart: string };
    // Whole seconds, as m3ter's filter format requires.
    expect(q.dateCreatedStart).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('5xx and no candidate: nothing was committed, so it triggers exactly once more', async () => {
    const { trigger, posts } = setup({
      create: [
        async () => {
          throw serverError();
        },
        async () => ({ jobId: 'second' }),
      ],
      list: () => [],
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'second',
      recovered: false,
    });
    expect(posts()).toBe(2);
  });

  it('two unclaimed candidates: non-retryable ExportTriggerAmbiguous naming both', async () => {
    const { trigger, posts } = setup({
      create: [
        async () => {
          throw lostResponse();
        },
      ],
      list: () => [job('a'), job('b')],
    });
    const f = await failure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f.type).toBe(FailureType.ExportTriggerAmbiguous);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('a');
    expect(f.message).toContain('b');
    expect(f.details?.[0]).toEqual({ candidates: ['a', 'b'] });
    expect(posts()).toBe(1);
  });

  it('ignores jobs claimed by other workflows, scheduled jobs and other source types', async () => {
    const { trigger } = setup({
      create: [
        async () => {
          throw lostResponse();
        },
      ],
      list: () => [
        job('claimed-by-other'),
        job('scheduled', { scheduleId: 's1' }),
        job('operational', { sourceType: 'OPERATIONAL' }),
        job('mine'),
      ],
      claimed: ['claimed-by-other'],
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'mine',
      recovered: true,
    });
  });

  it('a candidate that its owner claims a moment later is not adopted: nothing of ours was committed, resend', async () => {
    let checks = 0;
    const m3ter = fakeM3ter({
      createAdhocExport: (() => {
        let n = 0;
        return async () => {
          if (n++ === 0) throw serverError();
          return { jobId: 'ours' };
        };
      })(),
      listExportJobs: async () => ({ data: [job('someone-elses')] }),
    });
    const trigger = createTriggerActivity({
      m3ter,
      log: silentLog,
      clock: { now: () => Date.now() },
      // The other workflow's claim becomes visible on the second look.
      claimedJobIds: async (ids) => new Set(checks++ === 0 ? [] : ids),
      tuning: { recoveryGraceMs: 0, claimSettleMs: 1, claimSettleRounds: 2 },
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'ours',
      recovered: false,
    });
    expect(m3ter.calls.createAdhocExport).toHaveLength(2);
  });

  it('after a 5xx answer, jobs created later than the answer are not candidates', async () => {
    const { trigger, posts } = setup({
      create: [
        async () => {
          throw serverError();
        },
        async () => ({ jobId: 'second' }),
      ],
      list: () => [job('later', { dateCreated: new Date(Date.now() + 60_000).toISOString() })],
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'second',
      recovered: false,
    });
    expect(posts()).toBe(2);
  });

  it('a retry attempt looks for a committed job before sending (worker died mid-POST)', async () => {
    const { trigger, posts } = setup({ create: [], list: () => [job('from-attempt-1')] });
    await expect(run(() => trigger({ request, workflowId: 'wf' }), 2)).resolves.toEqual({
      jobId: 'from-attempt-1',
      recovered: true,
    });
    expect(posts()).toBe(0);
  });

  it('a retry attempt with nothing committed sends once', async () => {
    const { trigger, posts } = setup({ create: [async () => ({ jobId: 'fresh' })], list: () => [] });
    await expect(run(() => trigger({ request, workflowId: 'wf' }), 3)).resolves.toEqual({
      jobId: 'fresh',
      recovered: false,
    });
    expect(posts()).toBe(1);
  });

  it('a definitive 4xx is a non-retryable ExportRequestRejected carrying m3ter message', async () => {
    const { trigger, posts } = setup({
      create: [
        async () => {
          throw new M3terBadRequestError('HTTP 400', {
            status: 400,
            m3terMessage: 'endDate must be after startDate',
          });
        },
      ],
    });
    const f = await failure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f.type).toBe(FailureType.ExportRequestRejected);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('endDate must be after startDate');
    expect(posts()).toBe(1);
  });

  it('429 (throttled before processing) is retryable without a lookup', async () => {
    const { trigger, m3ter } = setup({
      create: [
        async () => {
          throw new M3terRateLimitError('HTTP 429', { status: 429, retryable: true, retryAfterMs: 3000 });
        },
      ],
    });
    const f = await failure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f.type).toBe(FailureType.ExportTriggerUnavailable);
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(3000);
    expect(m3ter.calls.listExportJobs).toBeUndefined();
  });

  it('gives up the attempt (retryably) after repeated ambiguous failures with nothing committed', async () => {
    const { trigger, posts } = setup({
      create: [
        async () => {
          throw serverError();
        },
        async () => {
          throw serverError();
        },
      ],
      list: () => [],
    });
    const f = await failure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f.type).toBe(FailureType.ExportTriggerUnavailable);
    expect(f.nonRetryable).toBe(false);
    expect(posts()).toBe(2);
  });

  it('a failing visibility lookup never adopts blindly: the attempt fails with the retryable UnexpectedError', async () => {
    const m3ter = fakeM3ter({
      createAdhocExport: async () => {
        throw lostResponse();
      },
      listExportJobs: async () => ({ data: [job('x')] }),
    });
    const trigger = createTriggerActivity({
      m3ter,
      log: silentLog,
      clock: { now: () => Date.now() },
      claimedJobIds: async () => {
        throw new Error('visibility unavailable');
      },
      tuning: { recoveryGraceMs: 0 },
    });
    const f = await failure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f).toMatchObject({ type: FailureType.UnexpectedError, nonRetryable: false });
    expect(f.message).toBe('export trigger recovery: visibility unavailable');
    expect(m3ter.calls.createAdhocExport).toHaveLength(1);
  });

  it('classifies client errors by whether the POST may have been committed', () => {
    expect(classifyTriggerFailure(new M3terRequestValidationError('bad', []))).toBe('invalid');
    expect(classifyTriggerFailure(new M3terBadRequestError('x', { status: 400 }))).toBe('rejected');
    expect(classifyTriggerFailure(new M3terRateLimitError('x', { status: 429, retryable: true }))).toBe(
      'not-committed',
    );
    expect(
      classifyTriggerFailure(
        new M3terConnectionError('refused', { retryable: true, mayHaveBeenProcessed: false }),
      ),
    ).toBe('not-committed');
    expect(
      classifyTriggerFailure(
        new M3terConnectionError('reset', { retryable: true, mayHaveBeenProcessed: true }),
      ),
    ).toBe('ambiguous');
    expect(classifyTriggerFailure(serverError())).toBe('ambiguous');
    expect(classifyTriggerFailure(lostResponse())).toBe('ambiguous');
    expect(classifyTriggerFailure(new Error('weird'))).toBe('ambiguous');
  });
});
