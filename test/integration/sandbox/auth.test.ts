import { advance, basicAuth, startCtx, type Ctx } from './helpers';

// docs/m3ter-api.md: Access token, Assumptions (401 missing/expired token, 403 foreign org).
describe('sandbox: OAuth token and bearer auth', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startCtx();
  });
  afterAll(() => ctx.close());

  const tokenUrl = (): string => `${ctx.sb.baseUrl}/oauth/token`;

  it('issues a JWT-shaped token for a form body with Basic credentials', async () => {
    const r = await ctx.raw(tokenUrl(), {
      method: 'POST',
      headers: { authorization: basicAuth(ctx.sb), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 18000,
      scope: null,
    });
    const parts = (r.json.access_token as string).split('.');
    expect(parts).toHaveLength(3);
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    expect(payload.orgId).toBe(ctx.sb.orgId);
    expect(payload.sub).toBe(ctx.sb.accessKeyId);
    expect(payload.exp - payload.iat).toBe(18000);
  });

  it('accepts a JSON body too (the SDKs send JSON)', async () => {
    const r = await ctx.raw(tokenUrl(), {
      method: 'POST',
      headers: { authorization: basicAuth(ctx.sb), 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(r.status).toBe(200);
    expect(r.json.token_type).toBe('Bearer');
  });

  it.each([
    ['wrong secret', (c: Ctx) => basicAuth(c.sb, c.sb.accessKeyId, 'nope')],
    ['wrong key id', (c: Ctx) => basicAuth(c.sb, 'someone-else', c.sb.apiSecret)],
    ['no Authorization header', () => undefined],
    ['a Bearer header instead of Basic', () => 'Bearer abc'],
  ])('refuses %s with 401 {message}', async (_name, auth) => {
    const a = auth(ctx);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (a) headers.authorization = a;
    const r = await ctx.raw(tokenUrl(), {
      method: 'POST',
      headers,
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ message: expect.any(String) });
  });

  it('refuses a grant_type other than client_credentials with 400 naming grant_type', async () => {
    for (const body of [{ grant_type: 'password' }, {}]) {
      const r = await ctx.raw(tokenUrl(), {
        method: 'POST',
        headers: { authorization: basicAuth(ctx.sb), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status).toBe(400);
      expect(r.json.message).toContain('grant_type');
    }
    const form = await ctx.raw(tokenUrl(), {
      method: 'POST',
      headers: { authorization: basicAuth(ctx.sb), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code',
    });
    expect(form.status).toBe(400);
  });

  it('requires a valid Bearer token on organization routes (401 {message})', async () => {
    const path = ctx.org('/dataexports/jobs');
    for (const token of [null, 'not-a-jwt', 'a.b.c']) {
      const r = await ctx.api('GET', path, { token });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ message: expect.any(String) });
    }
    const good = await ctx.token();
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 999999 })).toString('base64url')}.${s}`;
    expect((await ctx.api('GET', path, { token: forged })).status).toBe(401);
    expect((await ctx.api('GET', path, { token: good })).status).toBe(200);
    expect(
      (await ctx.api('GET', path, { token: null, headers: { authorization: `Basic ${good}` } })).status,
    ).toBe(401);
  });

  it('answers 403 when the path org differs from the token org', async () => {
    const r = await ctx.api('GET', '/organizations/00000000-0000-4000-8000-000000000000/dataexports/jobs');
    expect(r.status).toBe(403);
    expect(r.json.message).toEqual(expect.any(String));
  });

  it('expires tokens by the sandbox clock (lifetime configurable)', async () => {
    expect((await ctx.admin('POST', '/config', { tokenLifetimeSeconds: 60 })).status).toBe(200);
    const tok = await ctx.token();
    const r0 = await ctx.raw(`${ctx.sb.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(ctx.sb), 'content-type': 'application/json' },
      body: '{"grant_type":"client_credentials"}',
    });
    expect(r0.json.expires_in).toBe(60);
    expect((await ctx.api('GET', ctx.org('/events'), { token: tok })).status).toBe(200);
    await advance(ctx, 61_000);
    const expired = await ctx.api('GET', ctx.org('/events'), { token: tok });
    expect(expired.status).toBe(401);
    expect(expired.json.message).toMatch(/expired/i);
    const fresh = await ctx.token();
    expect((await ctx.api('GET', ctx.org('/events'), { token: fresh })).status).toBe(200);
    await ctx.admin('POST', '/config', { tokenLifetimeSeconds: 18000 });
  });

  it('tolerates a client that requests a new token before every call', async () => {
    await ctx.admin('POST', '/reset');
    for (let i = 0; i < 25; i++) {
      const tok = await ctx.token();
      const r = await ctx.api('GET', ctx.org('/dataexports/jobs'), { token: tok });
      expect(r.status).toBe(200);
    }
    const counters = await ctx.admin('GET', '/counters');
    expect(counters.json.routes['POST /oauth/token']).toBe(25);
    expect(counters.json.routes['GET /organizations/:orgId/dataexports/jobs']).toBe(25);
  });
});
