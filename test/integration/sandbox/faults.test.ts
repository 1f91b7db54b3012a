import { request as httpRequest } from 'node:http';
import { startCtx, usageBody, type Ctx } from './helpers';

// The admin fault knobs (docs/sandbox.md, Admin API) and the retryable statuses official clients retry
// (docs/m3ter-api.md, Official SDK transport behaviour).
describe('sandbox: fault injection, counters, reset, rate limits', () => {
  let ctx: Ctx;
  let token: string;
  beforeAll(async () => {
    ctx = await startCtx({ seed: 42 });
    token = await ctx.token();
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    await ctx.admin('POST', '/reset');
  });

  const JOBS = 'GET /organizations/:orgId/dataexports/jobs';
  const ADHOC = 'POST /organizations/:orgId/dataexports/adhoc';
  const listJobs = () => ctx.api('GET', ctx.org('/dataexports/jobs'), { token });

  /** A request whose outcome may be a dropped socket (fetch rejects). */
  const attempt = async (fn: () => Promise<{ status: number }>): Promise<number | 'socket-error'> => {
    try {
      return (await fn()).status;
    } catch {
      return 'socket-error';
    }
  };

  it('errorRate fails about that share of calls with the default statuses, reproducibly for a seed', async () => {
    const run = async (c: Ctx, tok: string) => {
      await c.admin('POST', '/faults', { route: JOBS, errorRate: 0.3 });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++)
        statuses.push((await c.api('GET', c.org('/dataexports/jobs'), { token: tok })).status);
      return statuses;
    };
    const statuses = await run(ctx, token);
    const failed = statuses.filter((s) => s !== 200);
    expect(failed.length / statuses.length).toBeGreaterThan(0.18);
    expect(failed.length / statuses.length).toBeLessThan(0.42);
    expect(new Set(failed).size).toBeGreaterThan(1);
    for (const s of failed) expect([500, 502, 503, 429]).toContain(s);

    const twin = await startCtx({ seed: 42 });
    try {
      expect(await run(twin, await twin.token())).toEqual(statuses);
    } finally {
      await twin.close();
    }
    const counters = (await ctx.admin('GET', '/counters')).json;
    expect(counters.routes[JOBS]).toBe(100);
  });

  it('errorStatuses picks the statuses; injected errors carry {message} and 429/503 a Retry-After', async () => {
    await ctx.admin('POST', '/faults', { route: JOBS, errorRate: 1, errorStatuses: [503] });
    const r = await listJobs();
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ message: expect.any(String) });
    expect(r.headers.get('retry-after')).toBe('1');
    await ctx.admin('DELETE', '/faults');
    expect((await listJobs()).status).toBe(200);
  });

  it('failNext fails exactly the next N calls of the route with the given status and Retry-After', async () => {
    await ctx.admin('POST', '/faults', {
      route: JOBS,
      failNext: { count: 2, status: 429, retryAfterSeconds: 3 },
    });
    const a = await listJobs();
    const b = await listJobs();
    expect([a.status, b.status]).toEqual([429, 429]);
    expect(a.headers.get('retry-after')).toBe('3');
    expect((await listJobs()).status).toBe(200);
    // Other routes were not affected.
    expect((await ctx.api('GET', ctx.org('/events'), { token })).status).toBe(200);
  });

  it('"*" applies to every m3ter route, including the token endpoint; admin routes are never faulted', async () => {
    await ctx.admin('POST', '/faults', { failNext: { count: 1, status: 500 } });
    const tokenCall = await ctx.raw(`${ctx.sb.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${ctx.sb.accessKeyId}:${ctx.sb.apiSecret}`).toString('base64'),
        'content-type': 'application/json',
      },
      body: '{"grant_type":"client_credentials"}',
    });
    expect(tokenCall.status).toBe(500);
    await ctx.admin('POST', '/faults', { failNext: { count: 5, status: 502 } });
    expect((await ctx.admin('GET', '/counters')).status).toBe(200);
    expect((await listJobs()).status).toBe(502);
  });

  it('dropNext destroys the socket without a response, then recovers', async () => {
    await ctx.admin('POST', '/faults', { route: JOBS, dropNext: 1 });
    expect(await attempt(listJobs)).toBe('socket-error');
    expect(await attempt(listJobs)).toBe(200);
    expect((await ctx.admin('GET', '/counters')).json.routes[JOBS]).toBe(2);
  });

  it('latencyMs delays responses', async () => {
    await ctx.admin('POST', '/faults', { route: JOBS, latencyMs: 400 });
    const t0 = Date.now();
    expect((await listJobs()).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
  });

  it('loseResponseAfterCommit creates the job but the client sees a socket error', async () => {
    await ctx.admin('POST', '/faults', { route: ADHOC, loseResponseAfterCommit: 1 });
    const outcome = await new Promise<string>((resolve) => {
      const body = JSON.stringify(usageBody());
      const u = new URL(`${ctx.sb.baseUrl}${ctx.org('/dataexports/adhoc')}`);
      const req = httpRequest(
        u,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => resolve(`status ${res.statusCode}`),
      );
      req.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      req.end(body);
    });
    expect(outcome).toMatch(/^error (ECONNRESET|socket hang up)/);
    const jobs = (await ctx.admin('GET', '/jobs')).json.data;
    expect(jobs).toHaveLength(1);
    expect((await listJobs()).json.data.map((j: { id: string }) => j.id)).toEqual([jobs[0].id]);
    // Only once: the next trigger answers normally.
    const next = await ctx.api('POST', ctx.org('/dataexports/adhoc'), { body: usageBody(), token });
    expect(next.status).toBe(200);
    expect((await ctx.admin('GET', '/jobs')).json.data).toHaveLength(2);
  });

  it('counts every m3ter-route request by method and route template, including failed ones; not admin calls', async () => {
    await ctx.api('GET', ctx.org('/dataexports/jobs/nope'), { token });
    await ctx.api('GET', ctx.org('/dataexports/jobs'), { token: null });
    await ctx.api('POST', ctx.org('/dataexports/adhoc'), { body: {}, token });
    await ctx.admin('GET', '/jobs');
    const c = (await ctx.admin('GET', '/counters')).json;
    expect(c).toEqual({
      total: 3,
      routes: { 'GET /organizations/:orgId/dataexports/jobs/:id': 1, [JOBS]: 1, [ADHOC]: 1 },
      fileBytesServed: 0,
      rateLimited: 0,
    });
  });

  it('reset clears jobs, events, measurements, faults and counters but keeps credentials', async () => {
    await ctx.api('POST', ctx.org('/dataexports/adhoc'), { body: usageBody(), token });
    await ctx.admin('POST', '/measurements/seed', { count: 5 });
    await ctx.admin('POST', '/faults', { route: JOBS, failNext: { count: 9, status: 500 } });
    await ctx.admin('POST', '/reset');
    expect((await ctx.admin('GET', '/jobs')).json.data).toEqual([]);
    expect((await ctx.admin('GET', '/measurements')).json.count).toBe(0);
    expect((await ctx.admin('GET', '/counters')).json).toEqual({
      total: 0,
      routes: {},
      fileBytesServed: 0,
      rateLimited: 0,
    });
    expect((await listJobs()).status).toBe(200);
  });

  it('refuses invalid fault and config bodies with 400', async () => {
    expect((await ctx.admin('POST', '/faults', { errorRate: 2 })).status).toBe(400);
    expect((await ctx.admin('POST', '/faults', { failNext: { count: 1 } })).status).toBe(400);
    expect((await ctx.admin('POST', '/config', { nextJobOutcome: 'MAYBE' })).status).toBe(400);
    expect((await ctx.admin('POST', '/clock', { advanceMs: -1 })).status).toBe(400);
  });

  it('rate limits the config API per org with 429 and Retry-After once the burst is spent', async () => {
    await ctx.admin('POST', '/config', { rateLimits: { config: { ratePerSec: 1, burst: 3 } } });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await listJobs());
      expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(Number(statuses[3].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The token endpoint is not throttled per org.
      await ctx.token();
    } finally {
      await ctx.admin('POST', '/config', { rateLimits: { config: { ratePerSec: 10_000, burst: 10_000 } } });
    }
  });

  it('rate limits ingest separately', async () => {
    await ctx.admin('POST', '/config', { rateLimits: { ingest: { ratePerSec: 1, burst: 2 } } });
    try {
      const m = { measurements: [{ meter: 'api-calls', account: 'acct-001', ts: '2025-01-01T00:00:00Z' }] };
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await ctx.api('POST', ctx.org('/measurements'), { body: m, token })).status);
      expect(statuses).toEqual([200, 200, 429]);
      expect((await listJobs()).status).toBe(200);
    } finally {
      await ctx.admin('POST', '/config', { rateLimits: { ingest: { ratePerSec: 10_000, burst: 10_000 } } });
    }
  });
});
