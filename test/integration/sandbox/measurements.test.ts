import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJob, finishJob, startCtx, type Ctx } from './helpers';

// docs/m3ter-api.md: Submit measurements, Hosts and paths (ingest host), Rate limits (512,000-byte
// limit → 403).
describe('sandbox: POST /measurements', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startCtx({ ingestPort: 0 });
  });
  afterAll(() => ctx.close());

  const ok = (o: Record<string, unknown> = {}) => ({
    uid: `u-${Math.random().toString(36).slice(2)}`,
    meter: 'api-calls',
    account: 'acct-001',
    ts: '2025-01-01T00:00:00Z',
    measure: { quantity: 1 },
    ...o,
  });
  const post = (body: unknown, base?: string) => ctx.api('POST', ctx.org('/measurements'), { body, base });
  const count = async () => (await ctx.admin('GET', '/measurements')).json.count as number;

  it('accepts a valid batch with every optional field: 200 {"result":"accepted"}', async () => {
    const before = await count();
    const r = await post({
      measurements: [
        ok({
          ets: '2025-01-01T01:00:00.000Z',
          who: { user: 'a' },
          where: { region: 'eu' },
          what: { op: 'read' },
          other: { x: 'y' },
          metadata: { note: 'n'.repeat(256) },
          cost: { usd: 0.5 },
          income: { usd: 1.5 },
        }),
        ok({ uid: undefined }),
        ok({
          meter: 'meter with spaces',
          account: 'x'.repeat(80),
          uid: 'u'.repeat(50),
          ts: '2025-01-01T00:00:00+02:00',
        }),
      ],
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ result: 'accepted' });
    expect(await count()).toBe(before + 3);
  });

  const invalid: Array<[string, unknown, string]> = [
    ['no measurements field', {}, 'measurements'],
    ['measurements not an array', { measurements: 'x' }, 'measurements'],
    ['an empty batch', { measurements: [] }, 'measurements'],
    [
      '1001 measurements',
      {
        measurements: Array.from({ length: 1001 }, () => ({
          meter: 'm',
          account: 'a',
          ts: '2025-01-01T00:00:00Z',
        })),
      },
      'measurements',
    ],
    ['a missing meter', { measurements: [ok({ meter: undefined })] }, 'measurements[0].meter'],
    ['a missing account', { measurements: [ok(), ok({ account: undefined })] }, 'measurements[1].account'],
    ['a missing ts', { measurements: [ok({ ts: undefined })] }, 'measurements[0].ts'],
    ['a malformed ts', { measurements: [ok({ ts: 'yesterday' })] }, 'measurements[0].ts'],
    ['a malformed ets', { measurements: [ok({ ets: '2025-01-01' })] }, 'measurements[0].ets'],
    ['a uid over 50 characters', { measurements: [ok({ uid: 'u'.repeat(51) })] }, 'measurements[0].uid'],
    [
      'a meter over 80 characters',
      { measurements: [ok({ meter: 'm'.repeat(81) })] },
      'measurements[0].meter',
    ],
    ['an empty meter', { measurements: [ok({ meter: '' })] }, 'measurements[0].meter'],
    ['a meter with a leading space', { measurements: [ok({ meter: ' api' })] }, 'measurements[0].meter'],
    [
      'an account with a trailing space',
      { measurements: [ok({ account: 'acct ' })] },
      'measurements[0].account',
    ],
    ['an account with a tab', { measurements: [ok({ account: 'a\tb' })] }, 'measurements[0].account'],
    [
      'a meter with a control character',
      { measurements: [ok({ meter: 'a\u0001b' })] },
      'measurements[0].meter',
    ],
    [
      'a non-numeric measure',
      { measurements: [ok({ measure: { quantity: '1' } })] },
      'measurements[0].measure.quantity',
    ],
    ['a non-numeric cost', { measurements: [ok({ cost: { usd: true } })] }, 'measurements[0].cost.usd'],
    ['a non-numeric income', { measurements: [ok({ income: [] })] }, 'measurements[0].income'],
    ['a non-string who value', { measurements: [ok({ who: { user: 1 } })] }, 'measurements[0].who.user'],
    ['a non-string where value', { measurements: [ok({ where: { r: null } })] }, 'measurements[0].where.r'],
    ['a non-string what value', { measurements: [ok({ what: { r: 2 } })] }, 'measurements[0].what.r'],
    ['a non-string other value', { measurements: [ok({ other: 'x' })] }, 'measurements[0].other'],
    [
      'metadata over 256 characters',
      { measurements: [ok({ metadata: { note: 'n'.repeat(257) } })] },
      'measurements[0].metadata.note',
    ],
  ];

  it.each(invalid)('refuses %s with 400 naming the field, storing nothing', async (_n, body, field) => {
    const before = await count();
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.json.message.startsWith(`${field}:`)).toBe(true);
    expect(await count()).toBe(before);
  });

  it('refuses a payload of 512,000 bytes or more with 403; accepts one just under', async () => {
    // Realistic bulk (1000 items, metadata padding) topped up to an exact byte count.
    const build = (target: number) => {
      const items = Array.from({ length: 1000 }, (_, i) =>
        ok({ uid: `big-${target}-${i}`, metadata: { note: 'n'.repeat(200) } }),
      );
      const base = JSON.stringify({ measurements: items, pad: '' });
      return JSON.stringify({ measurements: items, pad: 'p'.repeat(target - Buffer.byteLength(base)) });
    };
    const under = build(511_999);
    expect(Buffer.byteLength(under)).toBe(511_999);
    expect((await post(under)).status).toBe(200);
    const at = build(512_000);
    expect(Buffer.byteLength(at)).toBe(512_000);
    const r = await post(at);
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ message: expect.any(String) });
    const huge = JSON.stringify({
      measurements: [ok({ metadata: { a: 'x'.repeat(200) } })],
      pad: 'z'.repeat(2_000_000),
    });
    expect((await post(huge)).status).toBe(403);
  });

  it('auto-creates skeleton accounts for unknown account codes (visible in an ACCOUNTS export)', async () => {
    expect((await post({ measurements: [ok({ account: 'brand-new-customer' })] })).status).toBe(200);
    const jobId = await createJob(ctx, { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] });
    await finishJob(ctx, jobId);
    const { url } = (await ctx.api('GET', ctx.org(`/dataexports/jobs/${jobId}/getdownloadurl`))).json;
    const csv = await (await fetch(url)).text();
    expect(csv).toContain('brand-new-customer');
    expect(csv).toContain('acct-001');
  });

  it('serves measurements on the separate ingest port too (and nothing else there)', async () => {
    expect(ctx.sb.ingestUrl).not.toBe(ctx.sb.baseUrl);
    const before = await count();
    const r = await post({ measurements: [ok()] }, ctx.sb.ingestUrl);
    expect(r.status).toBe(200);
    expect(await count()).toBe(before + 1);
    expect((await ctx.api('GET', ctx.org('/dataexports/jobs'), { base: ctx.sb.ingestUrl })).status).toBe(404);
    expect((await ctx.raw(`${ctx.sb.ingestUrl}/oauth/token`, { method: 'POST' })).status).toBe(404);
    expect(
      (
        await ctx.api('POST', ctx.org('/measurements'), {
          base: ctx.sb.ingestUrl,
          body: { measurements: [ok()] },
          token: null,
        })
      ).status,
    ).toBe(401);
  });

  it('persists measurements, jobs and events to a data file and reloads them at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbx-data-'));
    const dataFile = join(dir, 'sandbox.json');
    const creds = { orgId: 'persist-org', accessKeyId: 'persist-key', apiSecret: 'persist-secret', dataFile };
    try {
      const a = await startCtx(creds);
      expect(
        (
          await a.api('POST', a.org('/measurements'), {
            body: { measurements: [ok({ uid: 'p1' }), ok({ uid: 'p2' })] },
          })
        ).status,
      ).toBe(200);
      const jobId = await createJob(a);
      await finishJob(a, jobId, 'FAILED');
      await a.close();

      const b = await startCtx(creds);
      try {
        expect((await b.admin('GET', '/measurements')).json.count).toBe(2);
        expect((await b.api('GET', b.org(`/dataexports/jobs/${jobId}`))).json.status).toBe('FAILED');
        expect((await b.api('GET', b.org('/events?eventType=DataExportJobFailure'))).json.data).toHaveLength(
          1,
        );
        // The uid dedupe survives the restart.
        expect(
          (await b.api('POST', b.org('/measurements'), { body: { measurements: [ok({ uid: 'p1' })] } }))
            .status,
        ).toBe(200);
        expect((await b.admin('GET', '/measurements')).json.count).toBe(2);
      } finally {
        await b.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('seeds measurements through the admin API without counting an ingest call', async () => {
    await ctx.admin('POST', '/reset');
    const r = await ctx.admin('POST', '/measurements/seed', {
      count: 50,
      from: '2025-01-01T00:00:00Z',
      to: '2025-01-02T00:00:00Z',
      meters: ['api-calls'],
      accounts: ['acct-001', 'acct-002'],
    });
    expect(r.status).toBe(200);
    expect((await ctx.admin('GET', '/measurements')).json.count).toBe(50);
    expect((await ctx.admin('GET', '/counters')).json.total).toBe(0);
    expect((await ctx.admin('POST', '/measurements/seed', { count: 0 })).status).toBe(400);
  });
});
