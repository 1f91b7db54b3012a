import { startCtx, type Ctx } from './helpers';

// docs/m3ter-api.md, Error body: every 4xx/5xx is {"message": ...}. The sandbox never crashes on bad input.
describe('sandbox: malformed requests and unknown routes', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startCtx();
  });
  afterAll(() => ctx.close());

  const adhoc = (body: string, contentType: string) =>
    ctx.api('POST', ctx.org('/dataexports/adhoc'), { body, headers: { 'content-type': contentType } });

  it.each([
    ['malformed JSON', '{"sourceType": "USAGE",', 'application/json'],
    ['a JSON string instead of an object', '"USAGE"', 'application/json'],
    ['JSON null', 'null', 'application/json'],
    ['an empty JSON body', '', 'application/json'],
    ['a text/plain body', 'sourceType=USAGE', 'text/plain'],
    ['an XML body', '<adhoc/>', 'application/xml'],
    ['a form body', 'sourceType=USAGE', 'application/x-www-form-urlencoded'],
    [
      'a 2 MB body',
      JSON.stringify({
        sourceType: 'OPERATIONAL',
        operationalDataTypes: ['ACCOUNTS'],
        pad: 'x'.repeat(2_000_000),
      }),
      'application/json',
    ],
  ])('answers %s with 400 {message}', async (_n, body, type) => {
    const r = await adhoc(body, type);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ message: expect.any(String) });
  });

  it('answers unknown routes with 404 {message}, on m3ter paths and admin paths', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/organizations/x/dataexports/schedules/unknown/thing'],
      ['DELETE', '/organizations/x/dataexports/jobs'],
      ['GET', '/_sandbox/nothing'],
    ]) {
      const r = await ctx.raw(`${ctx.sb.baseUrl}${path}`, { method });
      expect(r.status).toBe(404);
      expect(r.json).toEqual({ message: expect.any(String) });
    }
  });

  it('is still healthy after all that', async () => {
    expect((await ctx.api('GET', ctx.org('/dataexports/jobs'))).status).toBe(200);
  });
});
