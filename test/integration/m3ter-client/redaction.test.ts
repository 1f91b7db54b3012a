/**
 * Secrets must never reach error messages, their JSON, their stacks, or the logger, even when
 * the server echoes them back (some proxies and error pages do).
 */
import { M3terClient, M3terError, deriveIngestUrl, type M3terClientOptions } from '../../../src/m3ter';
import { ACCESS_KEY_ID, API_SECRET, ScriptedServer, captureLogger, json } from './scripted-server';

const server = new ScriptedServer();
const PRESIGNED_QUERY =
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250520%2Feu-west-2&X-Amz-Signature=0123456789abcdef0123';
const PRESIGNED = `https://m3ter-exports.s3.eu-west-2.amazonaws.com/org/abc_measurements.csv.gz?${PRESIGNED_QUERY}`;
const BASIC = Buffer.from(`${ACCESS_KEY_ID}:${API_SECRET}`).toString('base64');

function client(over: Partial<M3terClientOptions> = {}): { c: M3terClient; logs: () => string } {
  const cap = captureLogger();
  const c = server.client({ maxAttempts: 2, logger: cap.logger, ...over });
  return { c, logs: cap.text };
}

/** Every rendering of an error that could end up in a log, a terminal or workflow history. */
function renderings(err: unknown): string {
  const e = err as Error;
  return [
    e.message,
    String(e),
    JSON.stringify(e),
    e.stack ?? '',
    JSON.stringify((e as { cause?: unknown }).cause ?? null),
  ].join('\n');
}

function expectClean(text: string, token?: string): void {
  expect(text).not.toContain(API_SECRET);
  expect(text).not.toContain(encodeURIComponent(API_SECRET));
  expect(text).not.toContain(BASIC);
  expect(text).not.toContain('X-Amz-Signature');
  expect(text).not.toContain('0123456789abcdef0123');
  expect(text).not.toContain('AKIAIOSFODNN7EXAMPLE');
  if (token) {
    expect(text).not.toContain(token);
    // Not even a recognisable part of it.
    for (const part of token.split('.')) expect(text).not.toContain(part);
  }
}

beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => server.reset());

test('a server echoing the token, secret, Authorization header and a presigned URL in errors leaks none of them', async () => {
  server.on('GET /dataexports/jobs/j1', (r, res) =>
    json(
      res,
      r.headers['x-retry-count'] ? 400 : 503,
      {
        message: `denied for ${r.headers.authorization} secret=${API_SECRET} raw ${API_SECRET} basic ${BASIC} file ${PRESIGNED}`,
      },
      { 'x-request-id': 'rid-1' },
    ),
  );
  const { c, logs } = client();
  const err = await c.getExportJob('j1').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(M3terError);
  const token = server.issued[0]!;
  expect(token).toMatch(/^eyJ/);
  expectClean(renderings(err), token);
  expectClean((err as M3terError).m3terMessage ?? '', token);
  expectClean(logs(), token);
  // The useful parts survive.
  expect((err as M3terError).message).toContain(
    'https://m3ter-exports.s3.eu-west-2.amazonaws.com/org/abc_measurements.csv.gz?<redacted>',
  );
  expect((err as M3terError).requestId).toBe('rid-1');
  expect(logs()).toContain('m3ter request failed; retrying');
  // Nothing axios-shaped rides along.
  for (const k of ['config', 'request', 'response', 'headers']) expect(err).not.toHaveProperty(k);
});

test('an opaque (non-JWT) token is redacted because the client registers every token it receives', async () => {
  const opaque = 'opaque-token-8c1f2d9e7a';
  server.scriptToken((_r, res) =>
    json(res, 200, { access_token: opaque, expires_in: 3600, token_type: 'Bearer' }),
  );
  // The server does not know the opaque token, so the call is 401; its body echoes the header.
  server.on('GET /dataexports/jobs/j1', (r, res) =>
    json(res, 401, { message: `rejected ${r.headers.authorization?.slice(7)}` }),
  );
  const { c, logs } = client();
  const err = await c.getExportJob('j1').catch((e: unknown) => e);
  expect(renderings(err)).toContain('<redacted>');
  expect(renderings(err)).not.toContain(opaque);
  expect(logs()).not.toContain(opaque);
});

test('token endpoint errors echoing the Basic credentials do not leak them', async () => {
  server.scriptToken((r, res) =>
    json(res, 401, { message: `bad credentials: ${r.headers.authorization} (${API_SECRET})` }),
  );
  const { c, logs } = client();
  const err = await c.getExportJob('j1').catch((e: unknown) => e);
  expect((err as Error).message).toMatch(/^m3ter rejected the access key id \/ api secret/);
  expectClean(renderings(err));
  expectClean(logs());
});

test('the download URL returned to the caller is intact but never logged', async () => {
  server.on('GET /dataexports/jobs/j1/getdownloadurl', (_r, res) =>
    json(res, 200, { url: PRESIGNED, expirationTime: '2025-05-20T00:15:00Z' }),
  );
  const { c, logs } = client();
  await expect(c.getExportDownloadUrl('j1')).resolves.toEqual({
    url: PRESIGNED,
    expirationTime: '2025-05-20T00:15:00Z',
  });
  expect(logs()).not.toBe('');
  expectClean(logs(), server.issued[0]);
});

test('a response validation error over a presigned URL body does not echo the URL', async () => {
  server.on('GET /dataexports/jobs/j1/getdownloadurl', (_r, res) =>
    json(res, 200, { url: 42, expirationTime: PRESIGNED }),
  );
  const { c } = client();
  const err = await c.getExportDownloadUrl('j1').catch((e: unknown) => e);
  expect((err as Error).message).toContain('url: must be a string');
  expectClean(renderings(err));
});

test('connection errors and timeouts carry no credentials', async () => {
  server.on('GET /dataexports/jobs/j1', (_r, res) => void res.socket?.destroy());
  const { c, logs } = client();
  const err = await c.getExportJob('j1').catch((e: unknown) => e);
  expectClean(renderings(err), server.issued[0]);
  expectClean(logs(), server.issued[0]);
});

test('client option errors name the field without echoing the secret', () => {
  let caught: unknown;
  try {
    new M3terClient({
      orgId: '',
      accessKeyId: ACCESS_KEY_ID,
      apiSecret: API_SECRET,
      apiUrl: `ftp://${API_SECRET}@x`,
    });
  } catch (e) {
    caught = e;
  }
  expect((caught as Error).message).toBe(
    'Invalid m3ter client options: orgId: is required; apiUrl: must be an http(s) URL',
  );
  expectClean(renderings(caught));
});

test('deriveIngestUrl rewrites api. to ingest. only', () => {
  expect(deriveIngestUrl('https://api.m3ter.com')).toBe('https://ingest.m3ter.com');
  expect(deriveIngestUrl('https://api.m3ter.com/')).toBe('https://ingest.m3ter.com');
  expect(deriveIngestUrl('http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010');
  expect(deriveIngestUrl('https://myapi.example.com')).toBe('https://myapi.example.com');
});
