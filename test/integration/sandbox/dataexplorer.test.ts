import { startCtx, type Ctx } from './helpers';

// docs/m3ter-api.md: Data Explorer bill CSV, Rate limits (Data Explorer 1 rps, burst 10).
describe('sandbox: Data Explorer bill CSV', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    // Data Explorer limits out of the way here; the 429 test below uses its own sandbox with the defaults.
    ctx = await startCtx({ rateLimits: { dataExplorer: { ratePerSec: 10_000, burst: 10_000 } } });
  });
  afterAll(() => ctx.close());

  const post = (body: unknown, c: Ctx = ctx) =>
    c.api('POST', c.org('/dataexplorer/bills/download/csv'), { body });
  const range = () => {
    const now = new Date();
    return {
      startDate: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 12, 1)).toISOString(),
      endDate: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
    };
  };
  const valid = (o: Record<string, unknown> = {}) => ({
    ...range(),
    lineItemTypes: ['STANDING_CHARGE', 'USAGE'],
    ...o,
  });

  const invalid: Array<[string, unknown, string]> = [
    ['no startDate', valid({ startDate: undefined }), 'startDate'],
    ['no endDate', valid({ endDate: undefined }), 'endDate'],
    ['a malformed startDate', valid({ startDate: 'last month' }), 'startDate'],
    [
      'endDate before startDate',
      valid({ startDate: '2025-02-01T00:00:00Z', endDate: '2025-01-01T00:00:00Z' }),
      'endDate',
    ],
    ['no lineItemTypes', valid({ lineItemTypes: undefined }), 'lineItemTypes'],
    ['empty lineItemTypes', valid({ lineItemTypes: [] }), 'lineItemTypes'],
    ['an unknown line item type', valid({ lineItemTypes: ['USAGE', 'TAX'] }), 'lineItemTypes[1]'],
    [
      '101 dimensions',
      valid({ dimensions: Array.from({ length: 101 }, () => ({ name: 'account', filter: ['*'] })) }),
      'dimensions',
    ],
    [
      'a dimension with an empty name',
      valid({ dimensions: [{ name: '', filter: ['*'] }] }),
      'dimensions[0].name',
    ],
    ['a dimension without filter', valid({ dimensions: [{ name: 'account' }] }), 'dimensions[0].filter'],
    [
      'a dimension with an empty filter',
      valid({ dimensions: [{ name: 'account', filter: [] }] }),
      'dimensions[0].filter',
    ],
    ['limit 0', valid({ limit: 0 }), 'limit'],
    ['limit 2001', valid({ limit: 2001 }), 'limit'],
    ['a fractional limit', valid({ limit: 1.5 }), 'limit'],
  ];

  it.each(invalid)('refuses %s with 400 naming the field', async (_n, body, field) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.json.message.startsWith(`${field}:`)).toBe(true);
  });

  it('answers {downloadUrl} to a presigned CSV of seeded bill line items, filtered and capped', async () => {
    const r = await post(
      valid({
        limit: 2000,
        dimensions: Array.from({ length: 100 }, () => ({ name: 'account', filter: ['*'] })),
      }),
    );
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['downloadUrl']);
    expect(r.json.downloadUrl.startsWith(`${ctx.sb.baseUrl}/files/`)).toBe(true);
    const csv = (await (await fetch(r.json.downloadUrl)).text()).trim().split('\n');
    const header = csv[0].split(',');
    expect(header).toEqual(
      expect.arrayContaining([
        'billId',
        'billDate',
        'accountCode',
        'lineItemType',
        'productName',
        'quantity',
        'subtotal',
        'currency',
      ]),
    );
    const typeCol = header.indexOf('lineItemType');
    const rows = csv.slice(1).map((l) => l.split(','));
    expect(rows.length).toBeGreaterThan(10);
    expect(new Set(rows.map((row) => row[typeCol]))).toEqual(new Set(['STANDING_CHARGE', 'USAGE']));

    const capped = await post(valid({ limit: 3 }));
    expect((await (await fetch(capped.json.downloadUrl)).text()).trim().split('\n')).toHaveLength(4);

    const oneAccount = await post(valid({ dimensions: [{ name: 'account', filter: ['acct-002'] }] }));
    const accRows = (await (await fetch(oneAccount.json.downloadUrl)).text()).trim().split('\n').slice(1);
    expect(accRows.length).toBeGreaterThan(0);
    expect(accRows.every((l) => l.includes(',acct-002,'))).toBe(true);

    const tampered = r.json.downloadUrl.replace(
      /sig=([0-9a-f])/,
      (_m: string, c: string) => `sig=${c === 'a' ? 'b' : 'a'}`,
    );
    expect((await fetch(tampered)).status).toBe(403);
  });

  it('rate limits Data Explorer at burst 10: 10 quick calls succeed, the 11th gets 429 with Retry-After', async () => {
    const fresh = await startCtx({ rateLimits: { dataExplorer: { ratePerSec: 1, burst: 10 } } });
    try {
      const token = await fresh.token();
      const results = [];
      for (let i = 0; i < 11; i++)
        results.push(
          await fresh.api('POST', fresh.org('/dataexplorer/bills/download/csv'), {
            body: valid({ limit: 1 }),
            token,
          }),
        );
      expect(results.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(200));
      const limited = results[10];
      expect(limited.status).toBe(429);
      expect(limited.json).toEqual({ message: expect.any(String) });
      const retryAfter = limited.headers.get('retry-after');
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      // Other API classes have their own buckets.
      expect((await fresh.api('GET', fresh.org('/dataexports/jobs'), { token })).status).toBe(200);
      // After Retry-After seconds, a call succeeds again.
      await new Promise((r) => setTimeout(r, Number(retryAfter) * 1000));
      expect(
        (
          await fresh.api('POST', fresh.org('/dataexplorer/bills/download/csv'), {
            body: valid({ limit: 1 }),
            token,
          })
        ).status,
      ).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});
