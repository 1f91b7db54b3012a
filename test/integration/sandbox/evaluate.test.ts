import { createJob, finishJob, startCtx, type Ctx } from './helpers';

// docs/m3ter-api.md: Notification calculations (eventName wins over eventId; {success, errorMessage}),
// Assumptions (meaning of success).
describe('sandbox: POST /notifications/evaluate', () => {
  let ctx: Ctx;
  let failureEventId: string;
  beforeAll(async () => {
    ctx = await startCtx();
    const jobId = await createJob(ctx);
    await finishJob(ctx, jobId, 'FAILED');
    failureEventId = (await ctx.api('GET', ctx.org('/events?eventType=DataExportJobFailure'))).json.data[0]
      .id;
  });
  afterAll(() => ctx.close());

  const evaluate = (body: unknown) => ctx.api('POST', ctx.org('/notifications/evaluate'), { body });

  it.each([
    ['new.amount >= 100', true],
    ['new.amount > 100', false],
    ['(new.amount >= old.amount*1.9) AND (old.amount == 50)', true],
    ['new.amount - old.amount == 50 and new.currency == "USD"', true],
    ['new.amount / 4 + 1 == 26 && !(new.active == false)', true],
    ["NOT new.active OR new.code != 'sample'", false],
    ['new.missing_thing == null', null],
  ])('evaluates %s against the sample configuration.account.updated event', async (calculation, expected) => {
    const r = await evaluate({ calculation, eventName: 'configuration.account.updated' });
    expect(r.status).toBe(200);
    if (expected === null) {
      expect(r.json.success).toBe(false);
      expect(r.json.errorMessage).toMatch(/Unknown field/);
    } else {
      expect(r.json).toEqual({ success: expected, errorMessage: null });
    }
  });

  it('reports parse errors and non-boolean results as success:false with an errorMessage', async () => {
    for (const calculation of ['new.amount >=', '(new.amount > 1', 'new.amount + 1', 'new.amount @ 2', '']) {
      const r = await evaluate({ calculation, eventName: 'configuration.account.updated' });
      expect(r.status).toBe(200);
      expect(r.json.success).toBe(false);
      expect(r.json.errorMessage).toEqual(expect.any(String));
    }
  });

  it('evaluates against a real event by eventId (DataExportJobFailure payload)', async () => {
    const yes = await evaluate({
      calculation: "status == 'FAILED' AND sourceType == 'OPERATIONAL' AND scheduleId == null",
      eventId: failureEventId,
    });
    expect(yes.json).toEqual({ success: true, errorMessage: null });
    const unknown = await evaluate({ calculation: 'new.amount > 1', eventId: failureEventId });
    expect(unknown.json.success).toBe(false);
  });

  it('lets eventName win over eventId', async () => {
    const r = await evaluate({
      calculation: 'new.amount >= 100',
      eventId: failureEventId,
      eventName: 'configuration.account.updated',
    });
    expect(r.json).toEqual({ success: true, errorMessage: null });
  });

  it('refuses a missing calculation, a missing event reference and an unknown eventId', async () => {
    const noCalc = await evaluate({ eventName: 'dataexport.job.failure' });
    expect(noCalc.status).toBe(400);
    expect(noCalc.json.message).toMatch(/^calculation:/);
    expect((await evaluate({ calculation: 'true' })).status).toBe(400);
    expect(
      (await evaluate({ calculation: 'true', eventId: '00000000-0000-4000-8000-000000000000' })).status,
    ).toBe(404);
    const unknownName = await evaluate({ calculation: 'true', eventName: 'no.such.event' });
    expect(unknownName.json.success).toBe(false);
  });
});
