import { createHash } from 'node:crypto';
import { advance, createJob, finishJob, sandboxNow, startCtx, usageBody, type Ctx } from './helpers';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

// docs/m3ter-api.md: Download URL (15 min, 24 h), Retention; file format choices in docs/sandbox.md.
describe('sandbox: download URLs and export files', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startCtx({ jobTiming: { pendingMs: 1_000, runningMs: 1_000 } });
  });
  afterAll(() => ctx.close());

  const urlFor = (jobId: string) => ctx.api('GET', ctx.org(`/dataexports/jobs/${jobId}/getdownloadurl`));
  const download = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  };
  const jobFiles = async (jobId: string) =>
    (await ctx.admin('GET', `/jobs/${jobId}`)).json.files as Array<{
      fileId: string;
      name: string;
      bytes: number;
      sha256: string;
      contentType: string;
    }>;

  it('refuses a download URL before SUCCEEDED (400), for FAILED (400) and for unknown jobs (404)', async () => {
    const pending = await createJob(ctx);
    const r = await urlFor(pending);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ message: expect.stringContaining('PENDING') });
    const failed = await createJob(ctx);
    await finishJob(ctx, failed, 'FAILED');
    expect((await urlFor(failed)).status).toBe(400);
    expect((await urlFor('00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('serves a presigned sandbox URL valid for 15 minutes; the bytes match the admin sha256', async () => {
    const jobId = await createJob(ctx, {
      sourceType: 'OPERATIONAL',
      operationalDataTypes: ['ACCOUNTS', 'METERS'],
    });
    await finishJob(ctx, jobId);
    const now = await sandboxNow(ctx);
    const r = await urlFor(jobId);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ url: expect.any(String), expirationTime: expect.any(String) });
    const url = new URL(r.json.url);
    expect(`${url.protocol}//${url.host}`).toBe(ctx.sb.baseUrl);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toMatch(/^\/files\//);
    expect(Math.abs(Date.parse(r.json.expirationTime) - (now + 900_000))).toBeLessThan(5_000);

    const file = await download(r.json.url);
    expect(file.status).toBe(200);
    expect(file.headers.get('accept-ranges')).toBe('bytes');
    expect(Number(file.headers.get('content-length'))).toBe(file.body.length);
    const [meta] = await jobFiles(jobId);
    expect(meta).toMatchObject({
      bytes: file.body.length,
      sha256: sha(file.body),
      contentType: expect.stringContaining('text/csv'),
    });
    expect(meta.name).toBe(`${jobId}_operational.csv`);

    // One file for several types, each row tagged with entityType (documented choice).
    const lines = file.body.toString('utf8').trim().split('\n');
    expect(lines[0].split(',')[0]).toBe('entityType');
    expect(lines.filter((l) => l.startsWith('ACCOUNTS,')).length).toBeGreaterThanOrEqual(5);
    expect(lines.filter((l) => l.startsWith('METERS,'))).toHaveLength(3);
    expect(file.body.toString()).toContain('api-calls');
  });

  it('refuses tampered, unsigned and expired URLs with 403 {message}', async () => {
    const jobId = await createJob(ctx);
    await finishJob(ctx, jobId);
    const { url } = (await urlFor(jobId)).json as { url: string };
    const u = new URL(url);
    const sig = u.searchParams.get('sig')!;
    const variants = [
      url.replace(`sig=${sig}`, `sig=${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`),
      url.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 3600}`),
      `${u.origin}${u.pathname}`,
      `${u.origin}${u.pathname}?expires=${u.searchParams.get('expires')}`,
      url.replace(u.pathname, '/files/00000000-0000-4000-8000-000000000000'),
    ];
    for (const v of variants) {
      const r = await ctx.raw(v);
      expect(r.status).toBe(403);
      expect(r.json).toEqual({ message: expect.any(String) });
    }
    expect((await download(url)).status).toBe(200);
    await advance(ctx, 900_001);
    const expired = await ctx.raw(url);
    expect(expired.status).toBe(403);
    expect(expired.json.message).toMatch(/expired/i);
    // A fresh URL works again within the 24 h window.
    expect((await download((await urlFor(jobId)).json.url)).status).toBe(200);
  });

  it('supports Range requests: 206 with Content-Range, suffix ranges, 416 when unsatisfiable', async () => {
    const jobId = await createJob(ctx, { sourceType: 'OPERATIONAL', operationalDataTypes: ['BILLS'] });
    await finishJob(ctx, jobId);
    const { url } = (await urlFor(jobId)).json as { url: string };
    const full = (await download(url)).body;
    const size = full.length;
    expect(size).toBeGreaterThan(100);

    const a = await download(url, { range: 'bytes=0-9' });
    expect(a.status).toBe(206);
    expect(a.headers.get('content-range')).toBe(`bytes 0-9/${size}`);
    expect(a.headers.get('content-length')).toBe('10');
    expect(a.body.equals(full.subarray(0, 10))).toBe(true);

    const b = await download(url, { range: 'bytes=10-' });
    expect(b.status).toBe(206);
    expect(b.headers.get('content-range')).toBe(`bytes 10-${size - 1}/${size}`);
    expect(Buffer.concat([a.body, b.body]).equals(full)).toBe(true);

    const c = await download(url, { range: 'bytes=-5' });
    expect(c.body.equals(full.subarray(size - 5))).toBe(true);

    const d = await download(url, { range: `bytes=${size - 3}-${size + 100}` });
    expect(d.status).toBe(206);
    expect(d.body.equals(full.subarray(size - 3))).toBe(true);

    const e = await download(url, { range: `bytes=${size}-` });
    expect(e.status).toBe(416);
    expect(e.headers.get('content-range')).toBe(`bytes */${size}`);
  });

  it('keeps files for 24 h after completion: then getdownloadurl answers 404 and old URLs stop working', async () => {
    await ctx.admin('POST', '/config', { downloadUrlTtlSeconds: 48 * 3600 });
    const jobId = await createJob(ctx);
    await finishJob(ctx, jobId);
    const { url } = (await urlFor(jobId)).json as { url: string };
    await advance(ctx, 23 * 3600_000);
    expect((await urlFor(jobId)).status).toBe(200);
    await advance(ctx, 3600_000);
    const gone = await urlFor(jobId);
    expect(gone.status).toBe(404);
    expect(gone.json.message).toMatch(/no longer available/);
    expect((await ctx.raw(url)).status).toBe(404);
    await ctx.admin('POST', '/config', { downloadUrlTtlSeconds: 900 });
  });

  describe('usage content', () => {
    beforeAll(async () => {
      await ctx.admin('POST', '/reset');
      const day = (d: number, h: number) => new Date(Date.UTC(2025, 0, d, h)).toISOString();
      /** The measurement the sandbox stores, in the shape its API takes. */
      const m = (
        uid: string,
        meter: string,
        account: string,
        ts: string,
        quantity: number,
        region?: string,
      ) => ({
        uid,
        meter,
        account,
        ts,
        measure: { quantity },
        ...(region ? { where: { region } } : {}),
      });
      const measurements = [
        m('u1', 'api-calls', 'acct-001', day(1, 1), 10, 'eu'),
        m('u2', 'api-calls', 'acct-001', day(1, 5), 5, 'us'),
        m('u3', 'api-calls', 'acct-002', day(1, 7), 7, 'eu'),
        m('u4', 'api-calls', 'acct-001', day(2, 3), 1, 'eu'),
        m('u5', 'storage-gb', 'acct-001', day(1, 2), 100),
        m('u6', 'api-calls', 'acct-001', day(5, 0), 1000), // outside the range
      ];
      expect((await ctx.api('POST', ctx.org('/measurements'), { body: { measurements } })).status).toBe(200);
    });

    const exportCsv = async (body: Record<string, unknown>) => {
      const jobId = await createJob(ctx, {
        sourceType: 'USAGE',
        startDate: '2025-01-01T00:00:00Z',
        endDate: '2025-01-05T00:00:00Z',
        ...body,
      });
      await finishJob(ctx, jobId);
      const [meta] = await jobFiles(jobId);
      expect(meta.name).toBe(`${jobId}_measurements.${body.exportFileFormat === 'JSONL' ? 'jsonl' : 'csv'}`);
      const text = (await download((await urlFor(jobId)).json.url)).body.toString('utf8');
      return text.trim().split('\n');
    };

    it('holds raw measurements filtered by meter, account and [startDate, endDate)', async () => {
      const all = await exportCsv({});
      expect(all[0]).toBe('uid,meter,account,ts,ets,quantity,region');
      expect(all.slice(1).map((l) => l.split(',')[0])).toEqual(['u1', 'u5', 'u2', 'u3', 'u4']);
      const filtered = await exportCsv({ meterIds: ['api-calls'], accountIds: ['acct-001'] });
      expect(filtered.slice(1).map((l) => l.split(',')[0])).toEqual(['u1', 'u2', 'u4']);
      const dims = await exportCsv({
        dimensionFilters: [{ meterId: 'api-calls', fieldCode: 'region', values: ['eu'] }],
      });
      expect(dims.slice(1).map((l) => l.split(',')[0])).toEqual(['u1', 'u5', 'u3', 'u4']);
      const windowed = await exportCsv({
        startDate: '2025-01-01T05:00:00Z',
        endDate: '2025-01-02T03:00:00Z',
      });
      expect(windowed.slice(1).map((l) => l.split(',')[0])).toEqual(['u2', 'u3']);
    });

    it('applies SUM and COUNT with ACCOUNT and TIME (DAY) groups', async () => {
      const rows = await exportCsv({
        meterIds: ['api-calls'],
        aggregations: [
          { meterId: 'api-calls', fieldCode: 'quantity', fieldType: 'MEASURE', function: 'SUM' },
          { meterId: 'api-calls', fieldCode: 'quantity', fieldType: 'MEASURE', function: 'COUNT' },
        ],
        groups: [{ groupType: 'ACCOUNT' }, { groupType: 'TIME', frequency: 'DAY' }],
      });
      expect(rows).toEqual([
        'account,ts,api-calls.quantity.SUM,api-calls.quantity.COUNT',
        'acct-001,2025-01-01T00:00:00.000Z,15,2',
        'acct-001,2025-01-02T00:00:00.000Z,1,1',
        'acct-002,2025-01-01T00:00:00.000Z,7,1',
      ]);
    });

    it('aggregates without groups, with MIN/MAX/MEAN/LATEST/UNIQUE, and writes JSONL on request', async () => {
      const rows = await exportCsv({
        exportFileFormat: 'JSONL',
        aggregations: ['MIN', 'MAX', 'MEAN', 'LATEST']
          .map((fn) => ({ meterId: 'api-calls', fieldCode: 'quantity', fieldType: 'MEASURE', function: fn }))
          .concat([
            { meterId: 'api-calls', fieldCode: 'region', fieldType: 'DIMENSION', function: 'UNIQUE' },
          ]),
      });
      expect(rows.map((l) => JSON.parse(l))).toEqual([
        {
          'api-calls.quantity.MIN': 1,
          'api-calls.quantity.MAX': 10,
          'api-calls.quantity.MEAN': 23 / 4,
          'api-calls.quantity.LATEST': 1,
          'api-calls.region.UNIQUE': 2,
        },
      ]);
      const hourly = await exportCsv({
        aggregations: [
          { meterId: 'api-calls', fieldCode: 'quantity', fieldType: 'MEASURE', function: 'SUM' },
        ],
        groups: [{ groupType: 'TIME', frequency: 'MONTH' }],
      });
      expect(hourly).toEqual(['ts,api-calls.quantity.SUM', '2025-01-01T00:00:00.000Z,23']);
    });
  });

  it('streams large generated usage files of an exact size; ranges agree with the full file and the admin sha256', async () => {
    const size = 3 * 1024 * 1024 + 17;
    await ctx.admin('POST', '/config', { usageFileSizeBytes: size });
    const jobId = await createJob(ctx, usageBody());
    await ctx.admin('POST', '/config', { usageFileSizeBytes: null });
    await finishJob(ctx, jobId);
    const { url } = (await urlFor(jobId)).json as { url: string };
    const full = await download(url);
    expect(full.status).toBe(200);
    expect(full.body.length).toBe(size);
    expect(full.headers.get('content-length')).toBe(String(size));
    const [meta] = await jobFiles(jobId);
    expect(meta).toMatchObject({ bytes: size, sha256: sha(full.body), name: `${jobId}_measurements.csv` });
    expect(full.body.subarray(0, 20).toString()).toMatch(/^uid,meter,account,ts/);
    const mid = await download(url, { range: 'bytes=1000000-1300000' });
    expect(mid.status).toBe(206);
    expect(mid.body.equals(full.body.subarray(1_000_000, 1_300_001))).toBe(true);
    // Later jobs are normal again.
    const normal = await createJob(ctx, usageBody());
    await finishJob(ctx, normal);
    expect((await jobFiles(normal))[0].bytes).toBeLessThan(1000);
  });

  it('cutNextStream breaks a download after N bytes and can expire the URL meanwhile; Range then resumes', async () => {
    await ctx.admin('POST', '/config', { usageFileSizeBytes: 1_000_000 });
    const jobId = await createJob(ctx, usageBody());
    await finishJob(ctx, jobId);
    await ctx.admin('POST', '/config', { usageFileSizeBytes: null });
    const [file] = await jobFiles(jobId);
    const first = (await urlFor(jobId)).json.url as string;
    await ctx.admin('POST', '/faults', {
      route: 'GET /files/:fileId',
      cutNextStream: { count: 1, afterBytes: 300_000, advanceClockMs: 16 * 60_000 },
    });
    const received: Buffer[] = [];
    let failed = false;
    try {
      const res = await fetch(first);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        received.push(Buffer.from(chunk));
    } catch {
      failed = true;
    }
    const head = Buffer.concat(received);
    expect(failed).toBe(true);
    expect(head.length).toBeLessThanOrEqual(300_000);
    expect(head.length).toBeGreaterThan(0);
    // 16 minutes passed in the sandbox: the 15-minute URL no longer works.
    expect((await download(first, { range: `bytes=${head.length}-` })).status).toBe(403);
    const fresh = (await urlFor(jobId)).json.url as string;
    const rest = await download(fresh, { range: `bytes=${head.length}-` });
    expect(rest.status).toBe(206);
    expect(sha(Buffer.concat([head, rest.body]))).toBe(file.sha256);
    await ctx.admin('DELETE', '/faults');
  });
});
