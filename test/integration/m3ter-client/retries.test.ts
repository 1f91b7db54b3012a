import {
  M3terApiError,
  M3terBadRequestError,
  M3terClient,
  M3terConflictError,
  M3terConnectionError,
  M3terError,
  M3terNotFoundError,
  M3terPermissionDeniedError,
  M3terRateLimitError,
  M3terServerError,
  M3terTimeoutError,
  M3terUnprocessableError,
  type M3terClientOptions,
} from '../../../src/m3ter';
import { ORG, ScriptedServer, delay, json, type Handler } from './scripted-server';

const server = new ScriptedServer();
const JOB = { id: 'j1', status: 'SUCCEEDED', sourceType: 'USAGE' };
const ROUTE = 'GET /dataexports/jobs/j1';
const ADHOC = 'POST /dataexports/adhoc';
const ADHOC_REQ = { sourceType: 'OPERATIONAL' as const, operationalDataTypes: ['ACCOUNTS' as const] };

const client = (over: Partial<M3terClientOptions> = {}) => server.client({ maxDelayMs: 20, ...over });
const fail =
  (status: number, message = `status ${status}`, headers: Record<string, string> = {}): Handler =>
  (_r, res) =>
    json(res, status, { message }, headers);
const ok: Handler = (_r, res) => json(res, 200, JOB);
const catchErr = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as M3terError,
  );

/** Fetches and caches a token (the unscripted route answers 404, never retried), so that later timings concern only the API call. */
async function warmToken(c: M3terClient): Promise<void> {
  await c.getExportJob('warm').catch(() => undefined);
}

beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => server.reset());

describe('retried statuses', () => {
  test.each([408, 409, 429, 500, 502, 503, 504])('%i is retried, then the call succeeds', async (status) => {
    server.on(ROUTE, fail(status), fail(status), ok);
    await expect(client().getExportJob('j1')).resolves.toMatchObject({ id: 'j1', status: 'SUCCEEDED' });
    expect(server.apiRequests(ROUTE)).toHaveLength(3);
    // The retry count travels with the request for server-side diagnostics.
    expect(server.apiRequests(ROUTE).map((r) => r.headers['x-retry-count'])).toEqual([undefined, '1', '2']);
  });

  test.each([
    [408, M3terApiError],
    [409, M3terConflictError],
    [429, M3terRateLimitError],
    [500, M3terServerError],
    [503, M3terServerError],
  ])('%i on every attempt -> %p after exactly maxAttempts requests', async (status, cls) => {
    server.on(ROUTE, fail(status, 'still failing', { 'x-request-id': 'req-42' }));
    const err = await catchErr(client({ maxAttempts: 3 }).getExportJob('j1'));
    expect(err).toBeInstanceOf(cls);
    expect(err).toMatchObject({
      status,
      retryable: true,
      attempts: 3,
      m3terMessage: 'still failing',
      requestId: 'req-42',
      method: 'GET',
    });
    expect(err.path).toBe(`/organizations/${ORG}/dataexports/jobs/j1`);
    expect(server.apiRequests(ROUTE)).toHaveLength(3);
  });

  test('the default budget is 4 attempts', async () => {
    server.on(ROUTE, fail(500));
    const err = await catchErr(client().getExportJob('j1'));
    expect(err.attempts).toBe(4);
    expect(server.apiRequests(ROUTE)).toHaveLength(4);
  });

  test('maxAttempts: 1 disables retries', async () => {
    server.on(ROUTE, fail(503));
    await catchErr(client({ maxAttempts: 1 }).getExportJob('j1'));
    expect(server.apiRequests(ROUTE)).toHaveLength(1);
  });
});

describe('non-retried statuses', () => {
  test.each([
    [400, M3terBadRequestError],
    [403, M3terPermissionDeniedError],
    [404, M3terNotFoundError],
    [422, M3terUnprocessableError],
  ])('%i fails after exactly 1 attempt as %p with m3ter message and request id', async (status, cls) => {
    server.on(ROUTE, fail(status, `nope ${status}`, { 'x-request-id': `rid-${status}` }), ok);
    const err = await catchErr(client().getExportJob('j1'));
    expect(err).toBeInstanceOf(cls);
    expect(err).toMatchObject({
      status,
      m3terMessage: `nope ${status}`,
      requestId: `rid-${status}`,
      retryable: false,
      attempts: 1,
    });
    expect(err.message).toBe(
      `m3ter GET /organizations/${ORG}/dataexports/jobs/j1 failed with HTTP ${status}: nope ${status} [request id rid-${status}]`,
    );
    expect(server.apiRequests(ROUTE)).toHaveLength(1);
  });

  test('x-amzn-requestid is used when x-request-id is absent', async () => {
    server.on(ROUTE, fail(404, 'missing', { 'x-amzn-requestid': 'amzn-7' }));
    expect(await catchErr(client().getExportJob('j1'))).toMatchObject({ requestId: 'amzn-7' });
  });

  test('a non-JSON error body still yields a typed error with a short snippet', async () => {
    server.on(ROUTE, (_r, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>Bad Gateway</body></html>');
    });
    const err = await catchErr(client({ maxAttempts: 1 }).getExportJob('j1'));
    expect(err).toBeInstanceOf(M3terServerError);
    expect(err.m3terMessage).toBeUndefined();
    expect(err.message).toContain('Bad Gateway');
  });
});

describe('x-should-retry', () => {
  test('false stops a retry the status would allow', async () => {
    server.on(ROUTE, fail(503, 'down', { 'x-should-retry': 'false' }), ok);
    const err = await catchErr(client().getExportJob('j1'));
    expect(err).toMatchObject({ status: 503, retryable: false, attempts: 1 });
    expect(server.apiRequests(ROUTE)).toHaveLength(1);
  });
  test('true retries a status that is normally final', async () => {
    server.on(ROUTE, fail(400, 'transient', { 'x-should-retry': 'true' }), ok);
    await expect(client().getExportJob('j1')).resolves.toMatchObject({ id: 'j1' });
    expect(server.apiRequests(ROUTE)).toHaveLength(2);
  });
});

describe('Retry-After', () => {
  test('delta-seconds is honoured (next attempt no earlier than the value)', async () => {
    server.on(ROUTE, fail(429, 'slow down', { 'retry-after': '1' }), ok);
    await client().getExportJob('j1');
    const [a, b] = server.apiRequests(ROUTE);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(1000 - 5);
  });

  test('an HTTP-date is honoured', async () => {
    let retryAt = 0;
    server.on(
      ROUTE,
      (_r, res) => {
        // Whole seconds, as HTTP-dates have no milliseconds; at least 1 s ahead.
        retryAt = Math.ceil((Date.now() + 1000) / 1000) * 1000;
        json(res, 503, { message: 'maintenance' }, { 'retry-after': new Date(retryAt).toUTCString() });
      },
      ok,
    );
    await client().getExportJob('j1');
    const [, b] = server.apiRequests(ROUTE);
    expect(b!.at).toBeGreaterThanOrEqual(retryAt - 5);
  });

  test('retry-after-ms wins and is exposed on the final error', async () => {
    server.on(ROUTE, fail(429, 'x', { 'retry-after-ms': '120', 'retry-after': '30' }));
    const started = Date.now();
    const err = await catchErr(client({ maxAttempts: 2 }).getExportJob('j1'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 120, attempts: 2 });
  });

  test('values above maxRetryAfterMs are clamped', async () => {
    server.on(ROUTE, fail(429, 'x', { 'retry-after': '3600' }), ok);
    const started = Date.now();
    await client({ maxRetryAfterMs: 50 }).getExportJob('j1');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.apiRequests(ROUTE)).toHaveLength(2);
  });

  test('backoff applies without Retry-After and uses the injected sleep', async () => {
    const sleeps: number[] = [];
    server.on(ROUTE, fail(500), fail(500), fail(500), ok);
    await client({
      baseDelayMs: 100,
      maxDelayMs: 250,
      random: () => 0,
      sleep: async (ms) => void sleeps.push(ms),
    }).getExportJob('j1');
    expect(sleeps).toEqual([100, 200, 250]);
  });
});

describe('timeouts and connection failures', () => {
  test('a slow response times out, is retried, then succeeds', async () => {
    server.on(
      ROUTE,
      async (_r, res) => {
        await delay(1500);
        json(res, 200, JOB);
      },
      ok,
    );
    await expect(client({ timeoutMs: 500 }).getExportJob('j1')).resolves.toMatchObject({ id: 'j1' });
    expect(server.apiRequests(ROUTE)).toHaveLength(2);
  });

  test('timeouts on every attempt -> M3terTimeoutError after maxAttempts', async () => {
    server.on(ROUTE, async (_r, res) => {
      await delay(1500);
      json(res, 200, JOB);
    });
    const c = client({ timeoutMs: 500, maxAttempts: 3 });
    await warmToken(c);
    const started = Date.now();
    const err = await catchErr(c.getExportJob('j1'));
    expect(err).toBeInstanceOf(M3terTimeoutError);
    expect(err).toMatchObject({ retryable: true, attempts: 3, mayHaveBeenProcessed: true });
    expect(err.message).toBe(`m3ter GET /organizations/${ORG}/dataexports/jobs/j1 timed out after 500 ms`);
    expect(server.apiRequests(ROUTE)).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(3 * 1500);
  });

  test('the timeout covers a body that trickles in after the headers', async () => {
    server.on(ROUTE, async (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"j1",');
      await delay(1500);
      res.end('"status":"RUNNING"}');
    });
    const err = await catchErr(client({ timeoutMs: 500, maxAttempts: 2 }).getExportJob('j1'));
    expect(err.path).toBe(`/organizations/${ORG}/dataexports/jobs/j1`);
    expect(err).toBeInstanceOf(M3terTimeoutError);
  });

  test('a dropped connection (socket destroyed) is retried', async () => {
    server.on(ROUTE, (r, res) => void res.socket?.destroy(), ok);
    await expect(client().getExportJob('j1')).resolves.toMatchObject({ id: 'j1' });
    expect(server.apiRequests(ROUTE)).toHaveLength(2);
  });

  test('connection dropped on every attempt -> M3terConnectionError with a sanitized cause', async () => {
    server.on(ROUTE, (_r, res) => void res.socket?.destroy());
    const err = await catchErr(client({ maxAttempts: 2 }).getExportJob('j1'));
    expect(err).toBeInstanceOf(M3terConnectionError);
    expect(err).not.toBeInstanceOf(M3terTimeoutError);
    expect(err).toMatchObject({ retryable: true, attempts: 2 });
    expect(Object.keys(err)).not.toEqual(expect.arrayContaining(['config']));
    expect(err.cause).toEqual({ code: expect.any(String), message: expect.any(String) });
    expect(JSON.stringify(err)).not.toMatch(/authorization|Bearer/i);
  });

  test('connection refused is retried and then reported', async () => {
    const dead = new ScriptedServer();
    await dead.start();
    const url = dead.url;
    await dead.stop();
    const err = await catchErr(client({ apiUrl: url, maxAttempts: 2 }).getExportJob('j1'));
    expect(err).toBeInstanceOf(M3terConnectionError);
    expect(err).toMatchObject({ attempts: 2, mayHaveBeenProcessed: false, path: '/oauth/token' });
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('createAdhocExport is never blindly retried', () => {
  test('500 -> exactly 1 request, error says it may have been processed', async () => {
    server.on(ADHOC, fail(500, 'internal'), (_r, res) => json(res, 200, { jobId: 'dup' }));
    const err = await catchErr(client().createAdhocExport(ADHOC_REQ));
    expect(err).toBeInstanceOf(M3terServerError);
    expect(err).toMatchObject({ attempts: 1, mayHaveBeenProcessed: true, retryable: true });
    expect(server.apiRequests(ADHOC)).toHaveLength(1);
  });

  test('timeout -> exactly 1 request', async () => {
    server.on(ADHOC, async (_r, res) => {
      await delay(1500);
      json(res, 200, { jobId: 'late' });
    });
    const c = client({ timeoutMs: 500 });
    await warmToken(c);
    const err = await catchErr(c.createAdhocExport(ADHOC_REQ));
    expect(err).toBeInstanceOf(M3terTimeoutError);
    expect(err).toMatchObject({ attempts: 1, mayHaveBeenProcessed: true });
    await delay(1200);
    expect(server.apiRequests(ADHOC)).toHaveLength(1);
  });

  test('dropped connection -> exactly 1 request', async () => {
    server.on(
      ADHOC,
      (_r, res) => void res.socket?.destroy(),
      (_r, res) => json(res, 200, { jobId: 'dup' }),
    );
    const err = await catchErr(client().createAdhocExport(ADHOC_REQ));
    expect(err).toBeInstanceOf(M3terConnectionError);
    expect(err.mayHaveBeenProcessed).toBe(true);
    expect(server.apiRequests(ADHOC)).toHaveLength(1);
  });

  test('429 is retried (m3ter throttles before processing), honouring Retry-After', async () => {
    server.on(ADHOC, fail(429, 'throttled', { 'retry-after': '0' }), fail(429, 'throttled'), (r, res) =>
      json(res, 200, { jobId: 'job-123' }),
    );
    await expect(client().createAdhocExport(ADHOC_REQ)).resolves.toEqual({ jobId: 'job-123' });
    expect(server.apiRequests(ADHOC)).toHaveLength(3);
    expect(JSON.parse(server.apiRequests(ADHOC)[0]!.body)).toEqual(ADHOC_REQ);
  });

  test('connection refused before sending is retried', async () => {
    server.on(ADHOC, (_r, res) => json(res, 200, { jobId: 'job-after-restart' }));
    server.on(ROUTE, ok);
    const port = server.port;
    let restarted = false;
    const c = client({
      sleep: async () => {
        // The server comes back on the same port while the client backs off.
        if (!restarted) {
          restarted = true;
          await server.start(port);
        }
      },
    });
    await c.getExportJob('j1'); // token cached
    await server.stop();
    await expect(c.createAdhocExport(ADHOC_REQ)).resolves.toEqual({ jobId: 'job-after-restart' });
    expect(restarted).toBe(true);
    expect(server.apiRequests(ADHOC)).toHaveLength(1);
  });
});
