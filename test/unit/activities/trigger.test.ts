import { createTriggerActivity, classifyTriggerFailure } from '../../../activities/trigger';
import { FailureType } from '../../../src/contract/failures';
import {
  M3terBadRequestError,
  M3terConnectionError,
  M3terRateLimitError,
  M3terRequestValidationError,
  M3terServerError,
  M3terTimeoutError,
} from '../../../src/m3ter/errors';
import type { AdhocExportRequest, ExportJob } from '../../../src/m3ter/schemas';
import { FAKE_REQUEST_TIMEOUT_MS, fakeJobClaims, fakeM3ter, job, mockEnv, silentLog } from './fakes';
import { applicationFailure } from '../../support/workflow-failure';

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

// The mock activity environment's run: the claims this run writes name it.
const RUN_ID = 'run-1';
const self = { workflowId: 'wf', runId: RUN_ID };
// Short waits: recovery adopts a candidate only after creation + skew + request timeout + claim margin.
const tuning = { recoveryGraceMs: 0, clockSkewMs: 200, claimWriteMarginMs: 100, claimPollMs: 5 };
/** A job created long enough ago that its owner, if another run, has claimed it by now. */
const settled = (id: string, over: Partial<ExportJob> = {}) =>
  job(id, { dateCreated: new Date(Date.now() - 5_000).toISOString(), ...over });

function setup(opts: {
  create: Array<() => Promise<{ jobId: string }>>;
  list?: (q: unknown) => ExportJob[];
  /** Malformed jobs m3ter listed in the recovery window (the client drops and counts them). */
  rejected?: number;
  claims?: ReturnType<typeof fakeJobClaims>;
  keepAliveMs?: number;
}) {
  let creates = 0;
  const m3ter = fakeM3ter({
    createAdhocExport: async () => {
      const next = opts.create[creates++];
      if (!next) throw new Error('too many POSTs');
      return next();
    },
    listExportJobs: async (q) => ({
      data: opts.list ? opts.list(q) : [],
      ...(opts.rejected ? { rejected: opts.rejected } : {}),
    }),
  });
  const claims = opts.claims ?? fakeJobClaims();
  const trigger = createTriggerActivity({
    m3ter,
    log: silentLog,
    clock: { now: () => Date.now() },
    jobClaims: claims,
    tuning: { ...tuning, keepAliveMs: opts.keepAliveMs },
  });
  return { m3ter, trigger, claims, posts: () => creates };
}

async function run<T>(fn: () => Promise<T>, attempt = 1): Promise<T> {
  const env = mockEnv({
    attempt,
    scheduledTimestampMs: Date.now() - 10_000,
    workflowExecution: { workflowId: 'wf', runId: RUN_ID },
  });
  return env.exec(fn);
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

  it('returns the job id of a successful POST and claims the job for this run at once', async () => {
    const { trigger, posts, claims } = setup({ create: [async () => ({ jobId: 'j1' })] });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'j1',
      recovered: false,
    });
    expect(posts()).toBe(1);
    expect([...claims.held]).toEqual([['j1', self]]);
  });

  it("keeps its POST's job when another run already claimed it, and logs an error naming both workflows", async () => {
    const claims = fakeJobClaims({ j1: 'wf-adopter' });
    const { trigger } = setup({ create: [async () => ({ jobId: 'j1' })], claims });
    const before = silentLog.lines.length;
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'j1',
      recovered: false,
    });
    const errors = silentLog.lines.slice(before).filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].obj).toMatchObject({ workflowId: 'wf', jobId: 'j1', claimedBy: 'wf-adopter' });
    expect(errors[0].msg).toContain('wf-adopter');
    expect(claims.held.get('j1')).toEqual({ workflowId: 'wf-adopter' });
  });

  it('a claim write that fails after a successful POST fails the attempt with the retryable UnexpectedError', async () => {
    const claims = fakeJobClaims();
    claims.claim = async () => {
      throw new Error('temporal unavailable');
    };
    const { trigger, posts } = setup({ create: [async () => ({ jobId: 'j1' })], claims });
    const f = await applicationFailure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f).toMatchObject({ type: FailureType.UnexpectedError, nonRetryable: false });
    expect(f.message).toBe('claiming export job j1: temporal unavailable');
    expect(posts()).toBe(1);
  });

  it('lost response after commit + one unclaimed candidate: adopts and claims it without a second POST', async () => {
    const { trigger, posts, m3ter, claims } = setup({
      create: [
        async () => {
          throw lostResponse();
        },
      ],
      list: () => [settled('committed')],
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'committed',
      recovered: true,
    });
    expect(posts()).toBe(1);
    expect(claims.held.get('committed')).toEqual(self);
    const q = m3ter.calls.listExportJobs[0][0] as { dateCreatedStart: string };
    // Whole seconds, as m3ter's filter format requires.
    expect(q.dateCreatedStart).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('5xx and a malformed job in the recovery window: fails as M3terResponseInvalid, never POSTs again', async () => {
    const { trigger, posts, claims } = setup({
      create: [
        async () => {
          throw serverError();
        },
        async () => ({ jobId: 'second' }),
      ],
      list: () => [],
      rejected: 1,
    });
    const f = await applicationFailure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f.type).toBe(FailureType.M3terResponseInvalid);
    expect(f.message).toContain('1 malformed export job(s)');
    expect(posts()).toBe(1);
    expect(claims.held.size).toBe(0);
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
      list: () => [settled('a'), settled('b')],
    });
    const f = await applicationFailure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f.type).toBe(FailureType.ExportTriggerAmbiguous);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('a');
    expect(f.message).toContain('b');
    expect(f.details?.[0]).toEqual({ candidates: ['a', 'b'] });
    expect(posts()).toBe(1);
  });

  it('ignores jobs claimed by other workflows, scheduled jobs and other source types', async () => {
    const { trigger, claims } = setup({
      create: [
        async () => {
          throw lostResponse();
        },
      ],
      list: () => [
        settled('claimed-by-other'),
        settled('scheduled', { scheduleId: 's1' }),
        settled('operational', { sourceType: 'OPERATIONAL' }),
        settled('mine'),
      ],
      claims: fakeJobClaims({ 'claimed-by-other': 'wf-other' }),
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'mine',
      recovered: true,
    });
    expect(claims.held.get('claimed-by-other')).toEqual({ workflowId: 'wf-other' });
  });

  it('a candidate whose owner claims it while recovery waits is not adopted: nothing of ours was committed, so it sends again', async () => {
    const claims = fakeJobClaims();
    // The other workflow's response arrives (and it claims its job) while we wait for it.
    const fresh = job('someone-elses');
    setTimeout(() => void claims.claim('someone-elses', { workflowId: 'wf-owner' }), 100);
    const { trigger, posts } = setup({
      create: [
        async () => {
          throw serverError();
        },
        async () => ({ jobId: 'ours' }),
      ],
      list: () => [fresh],
      claims,
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'ours',
      recovered: false,
    });
    expect(posts()).toBe(2);
    expect(claims.held.get('someone-elses')).toEqual({ workflowId: 'wf-owner' });
    expect(claims.held.get('ours')).toEqual(self);
  });

  it('an unclaimed candidate is adopted only after its creation + clock skew + request timeout + claim-write margin', async () => {
    const createdAt = Date.now();
    const { trigger, claims } = setup({
      create: [
        async () => {
          throw lostResponse();
        },
      ],
      list: () => [job('fresh', { dateCreated: new Date(createdAt).toISOString() })],
    });
    let claimedAt = 0;
    const claim = claims.claim.bind(claims);
    claims.claim = async (jobId, owner) => {
      claimedAt = Date.now();
      return claim(jobId, owner);
    };
    await expect(run(() => trigger({ request, workflowId: 'wf' }))).resolves.toEqual({
      jobId: 'fresh',
      recovered: true,
    });
    // The creation time may be rounded down to the second: one more second.
    const bound = 1_000 + tuning.clockSkewMs + FAKE_REQUEST_TIMEOUT_MS + tuning.claimWriteMarginMs;
    expect(claimedAt - createdAt).toBeGreaterThanOrEqual(bound);
    expect(claimedAt - createdAt).toBeLessThan(bound + 500);
  });

  it('two runs recovering at once race for one candidate: exactly one adopts it, the other re-evaluates and sends again', async () => {
    const claims = fakeJobClaims();
    // Both read the claims (none yet) before either writes one: the atomic claim must decide.
    const owners = claims.owners.bind(claims);
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothRead = new Promise<void>((r) => (release = r));
    claims.owners = async (ids) => {
      const seen = await owners(ids);
      if (++arrived === 2) release();
      if (arrived <= 2) await bothRead;
      return seen;
    };
    const candidate = settled('contested');
    const racer = (newJob: string) =>
      setup({
        create: [
          async () => {
            throw serverError();
          },
          async () => ({ jobId: newJob }),
        ],
        list: () => [candidate],
        claims,
      });
    const a = racer('a-new');
    const b = racer('b-new');
    const results = await Promise.all([
      mockEnv({
        attempt: 1,
        scheduledTimestampMs: Date.now() - 10_000,
        workflowExecution: { workflowId: 'wf-a', runId: 'run-a' },
      }).exec(() => a.trigger({ request, workflowId: 'wf-a' })),
      mockEnv({
        attempt: 1,
        scheduledTimestampMs: Date.now() - 10_000,
        workflowExecution: { workflowId: 'wf-b', runId: 'run-b' },
      }).exec(() => b.trigger({ request, workflowId: 'wf-b' })),
    ]);
    const adopters = results.filter((r) => r.jobId === 'contested');
    expect(adopters).toEqual([{ jobId: 'contested', recovered: true }]);
    expect(results.filter((r) => r.jobId !== 'contested')).toEqual([
      { jobId: expect.stringMatching(/^[ab]-new$/), recovered: false },
    ]);
    expect(claims.claimCalls.filter((c) => c.jobId === 'contested')).toHaveLength(2);
    const winner = claims.held.get('contested');
    expect(winner?.workflowId).toBe(results[0].jobId === 'contested' ? 'wf-a' : 'wf-b');
    expect(a.posts() + b.posts()).toBe(3);
  });

  it('a candidate this run claimed in an earlier attempt is adopted at once, without waiting or a POST', async () => {
    const claims = fakeJobClaims();
    claims.held.set('claimed-by-attempt-1', self);
    const { trigger, posts } = setup({
      create: [],
      // Created just now: an unclaimed job would make recovery wait; our own claim does not.
      list: () => [job('claimed-by-attempt-1'), job('other')],
      claims,
    });
    const started = Date.now();
    await expect(run(() => trigger({ request, workflowId: 'wf' }), 2)).resolves.toEqual({
      jobId: 'claimed-by-attempt-1',
      recovered: true,
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(posts()).toBe(0);
  });

  it("another run's claim from an earlier run of the same workflow id is not this run's", async () => {
    const claims = fakeJobClaims();
    claims.held.set('earlier-run', { workflowId: 'wf', runId: 'run-0' });
    const { trigger, posts } = setup({
      create: [async () => ({ jobId: 'fresh' })],
      list: () => [settled('earlier-run')],
      claims,
    });
    await expect(run(() => trigger({ request, workflowId: 'wf' }), 2)).resolves.toEqual({
      jobId: 'fresh',
      recovered: false,
    });
    expect(posts()).toBe(1);
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
    const { trigger, posts } = setup({ create: [], list: () => [settled('from-attempt-1')] });
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
    const f = await applicationFailure(run(() => trigger({ request, workflowId: 'wf' })));
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
    const f = await applicationFailure(run(() => trigger({ request, workflowId: 'wf' })));
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
    const f = await applicationFailure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f.type).toBe(FailureType.ExportTriggerUnavailable);
    expect(f.nonRetryable).toBe(false);
    expect(posts()).toBe(2);
  });

  it('a failing claim lookup never adopts blindly: the attempt fails with the retryable UnexpectedError', async () => {
    const claims = fakeJobClaims();
    claims.owners = async () => {
      throw new Error('temporal unavailable');
    };
    const { trigger, posts } = setup({
      create: [
        async () => {
          throw lostResponse();
        },
      ],
      list: () => [settled('x')],
      claims,
    });
    const f = await applicationFailure(run(() => trigger({ request, workflowId: 'wf' })));
    expect(f).toMatchObject({ type: FailureType.UnexpectedError, nonRetryable: false });
    expect(f.message).toBe('export trigger recovery: temporal unavailable');
    expect(posts()).toBe(1);
    expect(claims.held.size).toBe(0);
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
