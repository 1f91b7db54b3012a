import { waitFor } from '../../support/wait-for';
import { advance, createJob, finishJob, startCtx, usageBody, type Ctx } from './helpers';

// docs/m3ter-api.md: Export jobs, Job list filters, Pagination, Array query parameters.
describe('sandbox: export jobs', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startCtx({ jobTiming: { pendingMs: 2_000, runningMs: 3_000 } });
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    await ctx.admin('POST', '/reset');
    await ctx.admin('POST', '/config', {
      jobTiming: { pendingMs: 2_000, runningMs: 3_000 },
      nextJobOutcome: 'SUCCEEDED',
    });
  });

  const getJob = (id: string) => ctx.api('GET', ctx.org(`/dataexports/jobs/${id}`));
  const list = (query: string) => ctx.api('GET', ctx.org(`/dataexports/jobs${query}`));

  it('moves PENDING → RUNNING (startedAt) → SUCCEEDED on the sandbox clock', async () => {
    const id = await createJob(ctx, usageBody());
    const pending = await getJob(id);
    expect(pending.status).toBe(200);
    expect(pending.json).toMatchObject({
      id,
      sourceType: 'USAGE',
      status: 'PENDING',
      dateCreated: expect.any(String),
    });
    expect(pending.json.startedAt).toBeUndefined();
    expect(pending.json.scheduleId).toBeUndefined();

    await advance(ctx, 2_100);
    const running = await getJob(id);
    expect(running.json.status).toBe('RUNNING');
    expect(Date.parse(running.json.startedAt)).toBe(Date.parse(running.json.dateCreated) + 2_000);

    await advance(ctx, 3_000);
    const done = await getJob(id);
    expect(done.json.status).toBe('SUCCEEDED');
    expect(done.json.startedAt).toBe(running.json.startedAt);
    // No error, completion time or file list on JobResponse (docs/m3ter-api.md, Export jobs).
    expect(Object.keys(done.json).sort()).toEqual([
      'dateCreated',
      'id',
      'sourceType',
      'startedAt',
      'status',
      'version',
    ]);
  });

  it('also progresses in real time with short timings', async () => {
    await ctx.admin('POST', '/config', { jobTiming: { pendingMs: 50, runningMs: 100 } });
    const id = await createJob(ctx);
    await waitFor(async () => (await getJob(id)).json.status === 'SUCCEEDED', 'the job to succeed', {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
  });

  it('spreads RUNNING times evenly over runningSpreadMs, each job its own', async () => {
    await ctx.admin('POST', '/config', {
      jobTiming: { pendingMs: 2_000, runningMs: 3_000, runningSpreadMs: 10_000 },
    });
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await createJob(ctx));
    const running = await Promise.all(
      ids.map(async (id) => (await ctx.admin('GET', `/jobs/${id}`)).json.runningMs as number),
    );
    expect(running.every((ms) => ms >= 3_000 && ms <= 13_000)).toBe(true);
    expect(new Set(running).size).toBe(10);
    // Even: ten jobs cover most of the range, not one corner of it.
    expect(Math.max(...running) - Math.min(...running)).toBeGreaterThan(7_000);
  });

  it('fails jobs on demand: nextJobOutcome and per-job admin force', async () => {
    await ctx.admin('POST', '/config', { nextJobOutcome: 'FAILED' });
    const failing = await createJob(ctx);
    await ctx.admin('POST', '/config', { nextJobOutcome: 'SUCCEEDED' });
    const ok = await createJob(ctx);
    await advance(ctx, 6_000);
    expect((await getJob(failing)).json.status).toBe('FAILED');
    expect((await getJob(ok)).json.status).toBe('SUCCEEDED');

    const forced = await createJob(ctx);
    const r = await ctx.admin('POST', `/jobs/${forced}`, { status: 'FAILED', error: 'disk full' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: forced, status: 'FAILED', errorMessage: 'disk full' });
    expect((await getJob(forced)).json.status).toBe('FAILED');

    const retimed = await createJob(ctx);
    await ctx.admin('POST', `/jobs/${retimed}`, { status: 'RUNNING', runningMs: 60_000 });
    expect((await getJob(retimed)).json.status).toBe('RUNNING');
    await advance(ctx, 59_000);
    expect((await getJob(retimed)).json.status).toBe('RUNNING');
    await advance(ctx, 1_000);
    expect((await getJob(retimed)).json.status).toBe('SUCCEEDED');
  });

  it('answers 404 {message} for an unknown job id', async () => {
    const r = await getJob('00000000-0000-4000-8000-000000000000');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ message: expect.any(String) });
  });

  it('lists newest first across pages; the last page omits nextToken', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      ids.push(await createJob(ctx));
      await advance(ctx, 1_000);
    }
    const seen: string[] = [];
    let token: string | undefined;
    const sizes: number[] = [];
    do {
      const r = await list(`?pageSize=10${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`);
      expect(r.status).toBe(200);
      sizes.push(r.json.data.length);
      seen.push(...r.json.data.map((j: { id: string }) => j.id));
      token = r.json.nextToken;
      if (token !== undefined) expect(typeof token).toBe('string');
      else expect('nextToken' in r.json).toBe(false);
    } while (token);
    expect(sizes).toEqual([10, 10, 3]);
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by ids given repeated or comma-joined, and paginates within them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createJob(ctx));
    const wanted = [ids[0], ids[2], ids[3], ids[5]];
    const repeated = wanted.map((id) => `ids=${id}`).join('&');
    const joined = `ids=${wanted.join(',')}`;
    for (const q of [repeated, joined, `ids=${wanted[0]},${wanted[1]}&ids=${wanted[2]}&ids=${wanted[3]}`]) {
      const first = await list(`?${q}&pageSize=3`);
      expect(first.json.data).toHaveLength(3);
      expect(first.json.nextToken).toEqual(expect.any(String));
      const second = await list(`?${q}&pageSize=3&nextToken=${encodeURIComponent(first.json.nextToken)}`);
      expect(second.json.data).toHaveLength(1);
      expect(second.json.nextToken).toBeUndefined();
      const got = [...first.json.data, ...second.json.data].map((j: { id: string }) => j.id);
      expect(got).toEqual([...wanted].reverse());
    }
  });

  it('filters by status and scheduleId', async () => {
    const a = await createJob(ctx);
    const b = await createJob(ctx);
    await finishJob(ctx, a, 'SUCCEEDED');
    await finishJob(ctx, b, 'FAILED');
    const c = await createJob(ctx);
    expect((await list('?status=SUCCEEDED')).json.data.map((j: { id: string }) => j.id)).toEqual([a]);
    expect((await list('?status=FAILED')).json.data.map((j: { id: string }) => j.id)).toEqual([b]);
    expect((await list('?status=PENDING')).json.data.map((j: { id: string }) => j.id)).toEqual([c]);
    expect((await list('?scheduleId=some-schedule')).json.data).toEqual([]);
  });

  it('filters dateCreatedStart (inclusive) and dateCreatedEnd (exclusive), in the documented format and full ISO', async () => {
    const a = await createJob(ctx);
    await advance(ctx, 3_600_000);
    const b = await createJob(ctx);
    await advance(ctx, 3_600_000);
    const c = await createJob(ctx);
    const created = async (id: string) =>
      (await ctx.api('GET', ctx.org(`/dataexports/jobs/${id}`))).json.dateCreated as string;
    const bCreated = await created(b);
    const seconds = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');
    const names = (r: { json: { data: Array<{ id: string }> } }) => r.json.data.map((j) => j.id);

    // yyyy-MM-dd'T'HH:mm:ss'Z' (seconds precision)
    expect(names(await list(`?dateCreatedStart=${seconds(bCreated)}`))).toEqual([c, b]);
    expect(names(await list(`?dateCreatedEnd=${seconds(await created(c))}`))).toEqual([b, a]);
    expect(
      names(await list(`?dateCreatedStart=${seconds(bCreated)}&dateCreatedEnd=${seconds(await created(c))}`)),
    ).toEqual([b]);
    // Full ISO with millis: start is inclusive, end exclusive at the exact instant.
    expect(names(await list(`?dateCreatedStart=${bCreated}`))).toEqual([c, b]);
    expect(names(await list(`?dateCreatedEnd=${bCreated}`))).toEqual([a]);
  });

  it.each([
    ['?pageSize=0', 'pageSize'],
    ['?pageSize=101', 'pageSize'],
    ['?pageSize=ten', 'pageSize'],
    ['?status=DONE', 'status'],
    ['?dateCreatedStart=yesterday', 'dateCreatedStart'],
    ['?dateCreatedEnd=2025-01-01', 'dateCreatedEnd'],
    ['?nextToken=garbage', 'nextToken'],
  ])('refuses %s with 400 naming %s', async (query, field) => {
    const r = await list(query);
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(new RegExp(`^${field}:`));
  });

  it('accepts pageSize 1 and 100', async () => {
    await createJob(ctx);
    await createJob(ctx);
    const one = await list('?pageSize=1');
    expect(one.json.data).toHaveLength(1);
    expect(one.json.nextToken).toEqual(expect.any(String));
    expect((await list('?pageSize=100')).json.data).toHaveLength(2);
  });
});
