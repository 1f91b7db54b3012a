import { advance, createJob, finishJob, startCtx, UUID_RE, type Ctx } from './helpers';

// docs/m3ter-api.md: Events, DataExportJobFailure, Retention (28 days), Assumptions (payload,
// includeActioned).
describe('sandbox: events', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startCtx();
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    await ctx.admin('POST', '/reset');
  });

  const list = (query = '') => ctx.api('GET', ctx.org(`/events${query}`));
  const failJob = async (): Promise<string> => {
    const id = await createJob(ctx);
    await finishJob(ctx, id, 'FAILED');
    return id;
  };

  it('emits exactly one dataexport.job.failure event per FAILED job', async () => {
    await ctx.admin('POST', '/config', {
      nextJobOutcome: 'FAILED',
      jobTiming: { pendingMs: 10, runningMs: 10 },
    });
    const jobId = await createJob(ctx);
    await ctx.admin('POST', '/config', {
      nextJobOutcome: 'SUCCEEDED',
      jobTiming: { pendingMs: 100, runningMs: 150 },
    });
    await advance(ctx, 1_000);
    for (let i = 0; i < 3; i++)
      expect((await ctx.api('GET', ctx.org(`/dataexports/jobs/${jobId}`))).json.status).toBe('FAILED');
    const r = await list('?eventType=DataExportJobFailure');
    expect(r.status).toBe(200);
    expect(r.json.data).toHaveLength(1);
    const e = r.json.data[0];
    expect(Object.keys(e).sort()).toEqual(['dtActioned', 'eventName', 'eventTime', 'id', 'm3terEvent']);
    expect(e).toMatchObject({
      id: expect.stringMatching(UUID_RE),
      eventName: 'dataexport.job.failure',
      dtActioned: null,
    });
    // The payload is an assumption (documented): eventData carries the job id, source type and error.
    expect(e.m3terEvent.eventData).toMatchObject({
      jobId,
      sourceType: 'OPERATIONAL',
      status: 'FAILED',
      errorMessage: expect.any(String),
      scheduleId: null,
    });
    const one = await ctx.api('GET', ctx.org(`/events/${e.id}`));
    expect(one.json).toEqual(e);
    expect((await list('?eventType=IngestValidationFailure')).json.data).toEqual([]);
  });

  it('answers 404 for an unknown event id', async () => {
    const r = await ctx.api('GET', ctx.org('/events/00000000-0000-4000-8000-000000000000'));
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ message: expect.any(String) });
  });

  it('pages newest first with nextToken; the last page omits it', async () => {
    const jobIds: string[] = [];
    for (let i = 0; i < 12; i++) {
      jobIds.push(await failJob());
      await advance(ctx, 1_000);
    }
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const r = await list(
        `?eventName=dataexport.job.failure&pageSize=5${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
      );
      pages.push(
        r.json.data.map(
          (e: { m3terEvent: { eventData: { jobId: string } } }) => e.m3terEvent.eventData.jobId,
        ),
      );
      token = r.json.nextToken;
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
    expect(pages.flat()).toEqual([...jobIds].reverse());
  });

  it('accepts ids alone (repeated or comma-joined) and refuses ids with another filter', async () => {
    await failJob();
    await failJob();
    await failJob();
    const all = (await list()).json.data.map((e: { id: string }) => e.id) as string[];
    expect(all).toHaveLength(3);
    const [a, , c] = all;
    for (const q of [`?ids=${a}&ids=${c}`, `?ids=${a},${c}`]) {
      expect((await list(q)).json.data.map((e: { id: string }) => e.id)).toEqual([a, c]);
    }
    for (const extra of [
      'eventType=DataExportJobFailure',
      'eventName=dataexport.job.failure',
      'includeActioned=true',
      'accountId=x',
      'resourceId=x',
      'notificationId=x',
      'notificationCode=x',
    ]) {
      const r = await list(`?ids=${a}&${extra}`);
      expect(r.status).toBe(400);
      expect(r.json.message).toMatch(/^ids:/);
    }
  });

  it('marks events actioned through the admin API; includeActioned=false hides them (default includes)', async () => {
    await failJob();
    await failJob();
    const [newest, oldest] = (await list()).json.data as Array<{ id: string }>;
    const actioned = await ctx.admin('POST', `/events/${oldest.id}/action`);
    expect(actioned.status).toBe(200);
    expect(actioned.json.dtActioned).toEqual(expect.any(String));
    expect((await ctx.api('GET', ctx.org(`/events/${oldest.id}`))).json.dtActioned).toBe(
      actioned.json.dtActioned,
    );
    expect((await list()).json.data).toHaveLength(2);
    expect((await list('?includeActioned=true')).json.data).toHaveLength(2);
    expect((await list('?includeActioned=false')).json.data.map((e: { id: string }) => e.id)).toEqual([
      newest.id,
    ]);
    expect((await list('?includeActioned=maybe')).status).toBe(400);
    expect((await ctx.admin('POST', '/events/00000000-0000-4000-8000-000000000000/action')).status).toBe(404);
  });

  it('filters by eventName, resourceId (the job id) and accountId', async () => {
    const jobId = await failJob();
    await failJob();
    expect((await list('?eventName=dataexport.job.failure')).json.data).toHaveLength(2);
    expect((await list('?eventName=configuration.account.created')).json.data).toHaveLength(0);
    const byResource = await list(`?resourceId=${jobId}`);
    expect(
      byResource.json.data.map(
        (e: { m3terEvent: { eventData: { jobId: string } } }) => e.m3terEvent.eventData.jobId,
      ),
    ).toEqual([jobId]);
    expect((await list('?accountId=acct-001')).json.data).toHaveLength(0);
  });

  it.each(['?pageSize=0', '?pageSize=101', '?nextToken=%%%'])('refuses %s with 400', async (q) => {
    expect((await list(q)).status).toBe(400);
  });

  it('purges events 28 days after creation (sandbox clock)', async () => {
    await failJob();
    const [e] = (await list()).json.data as Array<{ id: string }>;
    await advance(ctx, 28 * 24 * 3600_000 - 60_000);
    expect((await list()).json.data).toHaveLength(1);
    await advance(ctx, 61_000);
    expect((await list()).json.data).toHaveLength(0);
    expect((await ctx.api('GET', ctx.org(`/events/${e.id}`))).status).toBe(404);
  });

  it('emits an ingest.validation.failure (DuplicateUid) event for a repeated uid', async () => {
    const m = {
      uid: 'dup-1',
      meter: 'api-calls',
      account: 'acct-001',
      ts: '2025-01-01T00:00:00Z',
      measure: { quantity: 1 },
    };
    expect((await ctx.api('POST', ctx.org('/measurements'), { body: { measurements: [m] } })).status).toBe(
      200,
    );
    expect((await ctx.api('POST', ctx.org('/measurements'), { body: { measurements: [m] } })).status).toBe(
      200,
    );
    expect((await ctx.admin('GET', '/measurements')).json.count).toBe(1);
    const r = await list('?eventType=IngestValidationFailure');
    expect(r.json.data).toHaveLength(1);
    expect(r.json.data[0].eventName).toBe('ingest.validation.failure');
    expect(r.json.data[0].m3terEvent.eventData).toMatchObject({ failureType: 'DuplicateUid', uid: 'dup-1' });
  });

  it('lists event types and event fields', async () => {
    const types = await ctx.api('GET', ctx.org('/events/types'));
    expect(types.json.events).toEqual(
      expect.arrayContaining([
        'dataexport.job.failure',
        'ingest.validation.failure',
        'configuration.account.created',
      ]),
    );
    const fields = await ctx.api('GET', ctx.org('/events/fields?eventName=dataexport.job.failure'));
    expect(fields.json.events['dataexport.job.failure']).toMatchObject({
      jobId: 'string',
      errorMessage: 'string',
    });
    const updated = await ctx.api('GET', ctx.org('/events/fields?eventName=configuration.account.updated'));
    expect(updated.json.events['configuration.account.updated']).toMatchObject({
      'new.amount': 'int',
      'old.amount': 'int',
    });
    expect((await ctx.api('GET', ctx.org('/events/fields?eventName=no.such.event'))).status).toBe(400);
  });
});
