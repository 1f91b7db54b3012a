import { sandboxNow, startCtx, usageBody, UUID_RE, type Ctx } from './helpers';
import { OPERATIONAL_DATA_TYPES } from '../../../src/m3ter/export-request-schemas';

// docs/m3ter-api.md, Ad-hoc export request: the validation rules the sandbox reproduces.
describe('sandbox: POST /dataexports/adhoc validation', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startCtx();
  });
  afterAll(() => ctx.close());

  const post = (body: unknown) => ctx.api('POST', ctx.org('/dataexports/adhoc'), { body });
  const agg = (o: Record<string, unknown> = {}) => ({
    meterId: 'api-calls',
    fieldCode: 'quantity',
    fieldType: 'MEASURE',
    function: 'SUM',
    ...o,
  });

  const ALL_TYPES = [...OPERATIONAL_DATA_TYPES];

  const invalid: Array<[string, unknown, string]> = [
    ['a non-object body', [1, 2], 'body'],
    ['no sourceType', { operationalDataTypes: ['ACCOUNTS'] }, 'sourceType'],
    ['an unknown sourceType', { sourceType: 'BILLING' }, 'sourceType'],
    ['OPERATIONAL without operationalDataTypes', { sourceType: 'OPERATIONAL' }, 'operationalDataTypes'],
    [
      'OPERATIONAL with empty operationalDataTypes',
      { sourceType: 'OPERATIONAL', operationalDataTypes: [] },
      'operationalDataTypes',
    ],
    [
      'OPERATIONAL with an unknown type',
      { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS', 'INVOICES'] },
      'operationalDataTypes[1]',
    ],
    [
      'OPERATIONAL with a malformed startDate',
      { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'], startDate: '2025-13-01' },
      'startDate',
    ],
    ['USAGE without startDate', usageBody({ startDate: undefined }), 'startDate'],
    ['USAGE without endDate', usageBody({ endDate: undefined }), 'endDate'],
    ['USAGE with a date without zone', usageBody({ startDate: '2025-01-01T00:00:00' }), 'startDate'],
    [
      'USAGE with endDate equal to startDate',
      usageBody({ startDate: '2025-01-01T00:00:00Z', endDate: '2025-01-01T00:00:00Z' }),
      'endDate',
    ],
    [
      'USAGE with endDate before startDate',
      usageBody({ startDate: '2025-01-02T00:00:00Z', endDate: '2025-01-01T00:00:00Z' }),
      'endDate',
    ],
    [
      'a MEASURE aggregation with UNIQUE',
      usageBody({ aggregations: [agg({ function: 'UNIQUE' })] }),
      'aggregations[0].function',
    ],
    [
      'a DIMENSION aggregation with SUM',
      usageBody({ aggregations: [agg({ fieldType: 'DIMENSION', function: 'SUM' })] }),
      'aggregations[0].function',
    ],
    [
      'a DIMENSION aggregation with MEAN',
      usageBody({ aggregations: [agg(), agg({ fieldType: 'DIMENSION', function: 'MEAN' })] }),
      'aggregations[1].function',
    ],
    [
      'an unknown aggregation function',
      usageBody({ aggregations: [agg({ function: 'MEDIAN' })] }),
      'aggregations[0].function',
    ],
    [
      'an unknown fieldType',
      usageBody({ aggregations: [agg({ fieldType: 'METRIC' })] }),
      'aggregations[0].fieldType',
    ],
    [
      'an aggregation without meterId',
      usageBody({ aggregations: [agg({ meterId: undefined })] }),
      'aggregations[0].meterId',
    ],
    [
      'an aggregation without fieldCode',
      usageBody({ aggregations: [agg({ fieldCode: '' })] }),
      'aggregations[0].fieldCode',
    ],
    ['groups without aggregations', usageBody({ groups: [{ groupType: 'ACCOUNT' }] }), 'groups'],
    [
      'a TIME group without frequency',
      usageBody({ aggregations: [agg()], groups: [{ groupType: 'TIME' }] }),
      'groups[0].frequency',
    ],
    [
      'a TIME group with frequency YEAR',
      usageBody({
        aggregations: [agg()],
        groups: [{ groupType: 'ACCOUNT' }, { groupType: 'TIME', frequency: 'YEAR' }],
      }),
      'groups[1].frequency',
    ],
    [
      'a group with an unknown groupType',
      usageBody({ aggregations: [agg()], groups: [{ groupType: 'PRODUCT' }] }),
      'groups[0].groupType',
    ],
    ['a group without groupType', usageBody({ aggregations: [agg()], groups: [{}] }), 'groups[0].groupType'],
    [
      'a DIMENSION group without fieldCode',
      usageBody({ aggregations: [agg()], groups: [{ groupType: 'DIMENSION', meterId: 'api-calls' }] }),
      'groups[0].fieldCode',
    ],
    [
      'a dimension filter with no values',
      usageBody({ dimensionFilters: [{ meterId: 'api-calls', fieldCode: 'region', values: [] }] }),
      'dimensionFilters[0].values',
    ],
    [
      'a dimension filter without meterId',
      usageBody({ dimensionFilters: [{ fieldCode: 'region', values: ['x'] }] }),
      'dimensionFilters[0].meterId',
    ],
    ['an unknown exportFileFormat', usageBody({ exportFileFormat: 'XML' }), 'exportFileFormat'],
    ['meterIds that is not an array', usageBody({ meterIds: 'api-calls' }), 'meterIds'],
    ['accountIds with a number', usageBody({ accountIds: [42] }), 'accountIds[0]'],
    ['destinationIds that is not an array', usageBody({ destinationIds: 'd1' }), 'destinationIds'],
  ];

  it.each(invalid)('refuses %s with 400 naming the field', async (_name, body, field) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(Object.keys(r.json)).toEqual(['message']);
    expect(r.json.message.startsWith(`${field}:`)).toBe(true);
  });

  it('refuses a usage endDate later than tomorrow 00:00 UTC (sandbox clock), accepts exactly that instant', async () => {
    const now = await sandboxNow(ctx);
    const tomorrow = new Date(now);
    tomorrow.setUTCHours(24, 0, 0, 0);
    const tooLate = await post(usageBody({ endDate: new Date(tomorrow.getTime() + 1).toISOString() }));
    expect(tooLate.status).toBe(400);
    expect(tooLate.json.message).toMatch(/^endDate:/);
    const ok = await post(usageBody({ endDate: tomorrow.toISOString() }));
    expect(ok.status).toBe(200);
  });

  it('accepts a full usage request and answers {jobId}', async () => {
    const r = await post(
      usageBody({
        meterIds: ['api-calls'],
        accountIds: ['acct-001'],
        dimensionFilters: [{ meterId: 'api-calls', fieldCode: 'region', values: ['eu-west-1'] }],
        aggregations: [
          agg(),
          agg({ function: 'COUNT' }),
          agg({ fieldType: 'DIMENSION', fieldCode: 'region', function: 'UNIQUE' }),
        ],
        groups: [
          { groupType: 'ACCOUNT' },
          { groupType: 'TIME', frequency: 'DAY' },
          { groupType: 'DIMENSION', meterId: 'api-calls', fieldCode: 'region' },
        ],
        exportFileFormat: 'CSV',
        destinationIds: [],
        version: 1,
      }),
    );
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ jobId: expect.stringMatching(UUID_RE) });
  });

  it('accepts every one of the 20 operational data types, with or without startDate', async () => {
    expect((await post({ sourceType: 'OPERATIONAL', operationalDataTypes: ALL_TYPES })).status).toBe(200);
    expect(
      (
        await post({
          sourceType: 'OPERATIONAL',
          operationalDataTypes: ['ACCOUNTS'],
          startDate: '2024-01-01T00:00:00Z',
          exportFileFormat: 'JSONL',
        })
      ).status,
    ).toBe(200);
  });

  it('has no idempotency: the same body twice makes two jobs', async () => {
    const body = usageBody();
    const a = await post(body);
    const b = await post(body);
    expect(a.json.jobId).not.toBe(b.json.jobId);
    const list = await ctx.api('GET', ctx.org(`/dataexports/jobs?ids=${a.json.jobId},${b.json.jobId}`));
    expect(list.json.data).toHaveLength(2);
  });
});
