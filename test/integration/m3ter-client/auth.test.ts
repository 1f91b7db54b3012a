import { M3terAuthenticationError, M3terServerError, type M3terClientOptions } from '../../../src/m3ter';
import { ACCESS_KEY_ID, API_SECRET, ScriptedServer, json } from './scripted-server';

const server = new ScriptedServer();
const job = (id: string) => ({ id, status: 'RUNNING', sourceType: 'USAGE' });

const client = (over: Partial<M3terClientOptions> = {}) => server.client(over);

beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => server.reset());

test('fetches a token with Basic credentials and a client_credentials form body, then sends it as Bearer', async () => {
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, job('j1')));
  await expect(client().getExportJob('j1')).resolves.toMatchObject({ id: 'j1' });
  const [tok] = server.tokenRequests();
  expect(tok?.method).toBe('POST');
  expect(tok?.headers.authorization).toBe(
    `Basic ${Buffer.from(`${ACCESS_KEY_ID}:${API_SECRET}`).toString('base64')}`,
  );
  expect(tok?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
  expect(tok?.body).toBe('grant_type=client_credentials');
  expect(server.apiRequests()[0]?.headers.authorization).toBe(`Bearer ${server.issued[0]}`);
});

test('caches the token: 10 sequential calls make 1 token request', async () => {
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, job('j1')));
  const c = client();
  for (let i = 0; i < 10; i++) await c.getExportJob('j1');
  expect(server.tokenRequests()).toHaveLength(1);
  expect(server.apiRequests()).toHaveLength(10);
});

test('single-flight: 20 concurrent calls -> exactly 1 token request, 20 API requests', async () => {
  server.tokenDelayMs = 150; // all 20 callers are waiting while the one request is in flight
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, job('j1')));
  const c = client();
  await Promise.all(Array.from({ length: 20 }, () => c.getExportJob('j1')));
  expect(server.tokenRequests()).toHaveLength(1);
  expect(server.apiRequests()).toHaveLength(20);
  expect(new Set(server.apiRequests().map((r) => r.headers.authorization)).size).toBe(1);
});

test('refreshes ahead of expiry (default 5 min skew) so the server never sees an expired token', async () => {
  let t = Date.UTC(2025, 4, 20, 12);
  const now = () => t;
  server.now = now;
  server.expiresIn = 600; // 10 min: refresh due at 5 min
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, job('j1')));
  const c = client({ now });
  await c.getExportJob('j1');
  t += 299_000;
  await c.getExportJob('j1');
  expect(server.tokenRequests()).toHaveLength(1);
  t += 2_000; // 301 s after issue: inside the skew window
  await c.getExportJob('j1');
  expect(server.tokenRequests()).toHaveLength(2);
  t += 298_000; // the second token is not yet due (issued at +301 s, due at +601 s)
  await c.getExportJob('j1');
  expect(server.tokenRequests()).toHaveLength(2);
  expect(server.apiRequests()[3]?.headers.authorization).toBe(`Bearer ${server.issued[1]}`);
  t += 3_000; // +602 s: past the second token's refresh point (the first has expired server-side by now)
  await c.getExportJob('j1');
  expect(server.tokenRequests()).toHaveLength(3);
  expect(server.apiStatuses).toEqual([200, 200, 200, 200, 200]);
});

test('short-lived tokens refresh at half their lifetime, not 5 min early', async () => {
  let t = 1_000_000;
  const now = () => t;
  server.now = now;
  server.expiresIn = 120;
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, job('j1')));
  const c = client({ now });
  await c.getExportJob('j1');
  t += 59_900;
  await c.getExportJob('j1');
  expect(server.tokenRequests()).toHaveLength(1);
  t += 200; // 60.1 s: past half-life
  await c.getExportJob('j1');
  expect(server.tokenRequests()).toHaveLength(2);
  expect(server.apiStatuses.every((s) => s === 200)).toBe(true);
});

test('401 recovery: a revoked token causes one refresh and one retry, then success', async () => {
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, job('j1')));
  const c = client();
  await c.getExportJob('j1');
  server.revokeAll();
  await expect(c.getExportJob('j1')).resolves.toMatchObject({ id: 'j1' });
  expect(server.tokenRequests()).toHaveLength(2);
  expect(server.apiStatuses).toEqual([200, 401, 200]);
});

test('concurrent 401s after revocation still refresh only once', async () => {
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, job('j1')));
  const c = client();
  await c.getExportJob('j1');
  server.revokeAll();
  await Promise.all(Array.from({ length: 10 }, () => c.getExportJob('j1')));
  expect(server.tokenRequests()).toHaveLength(2);
});

test('401 twice -> M3terAuthenticationError after exactly one refresh', async () => {
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 401, { message: 'token not accepted' }));
  const err = await client()
    .getExportJob('j1')
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(M3terAuthenticationError);
  expect(err).toMatchObject({
    status: 401,
    m3terMessage: 'token not accepted',
    retryable: false,
    attempts: 2,
  });
  expect(server.tokenRequests()).toHaveLength(2);
  expect(server.apiRequests()).toHaveLength(2);
});

test.each([400, 401])(
  'token endpoint %i -> non-retryable M3terAuthenticationError with a clear message',
  async (status) => {
    server.scriptToken((_r, res) => json(res, status, { message: 'invalid_client' }));
    const err = await client()
      .getExportJob('j1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(M3terAuthenticationError);
    const e = err as M3terAuthenticationError;
    expect(e.message).toMatch(
      /^m3ter rejected the access key id \/ api secret \(HTTP \d{3} from POST \/oauth\/token: invalid_client\)$/,
    );
    expect(e.retryable).toBe(false);
    expect(server.tokenRequests()).toHaveLength(1);
    expect(server.apiRequests()).toHaveLength(0);
  },
);

test('wrong credentials are rejected by the server and reported without the secret', async () => {
  const err = await client({ apiSecret: 'wrong-secret-value' })
    .getExportJob('j1')
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(M3terAuthenticationError);
  expect(JSON.stringify(err)).not.toContain('wrong-secret-value');
});

test('token endpoint 5xx is retried per policy, then the call succeeds', async () => {
  server.scriptToken(
    (_r, res) => json(res, 503, { message: 'busy' }),
    (_r, res) => json(res, 500, { message: 'oops' }),
  );
  server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 200, job('j1')));
  await expect(client().getExportJob('j1')).resolves.toMatchObject({ id: 'j1' });
  expect(server.tokenRequests()).toHaveLength(3);
});

test('token endpoint failing every attempt surfaces the server error with attempts', async () => {
  server.scriptToken(
    ...Array.from(
      { length: 4 },
      () => (_r: unknown, res: Parameters<typeof json>[0]) => json(res, 502, { message: 'bad gateway' }),
    ),
  );
  const err = await client({ maxAttempts: 4 })
    .getExportJob('j1')
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(M3terServerError);
  expect(err).toMatchObject({ status: 502, attempts: 4, path: '/oauth/token' });
  expect(server.tokenRequests()).toHaveLength(4);
});
