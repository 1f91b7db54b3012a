import {
  BillsCsvRequestSchema,
  DownloadUrlResponseSchema,
  ExportJobSchema,
  LINE_ITEM_TYPES,
  ListEventsQuerySchema,
  ListExportJobsQuerySchema,
  M3terEventSchema,
  MeasurementSchema,
  OPERATIONAL_DATA_TYPES,
  SubmitMeasurementsRequestSchema,
  formatJobListDate,
  latestUsageEndDate,
  pageSchema,
  parseAdhocExportRequest,
} from '../../../src/m3ter/schemas';
import { M3terRequestValidationError, M3terResponseValidationError } from '../../../src/m3ter/errors';
import { validateRequest, validateResponse } from '../../../src/m3ter/validation';
import type { z } from 'zod';

const NOW = Date.UTC(2025, 4, 20, 15, 30, 0); // 2025-05-20T15:30:00Z
const usage = (over: Record<string, unknown> = {}) => ({
  sourceType: 'USAGE',
  startDate: '2025-05-19T00:00:00Z',
  endDate: '2025-05-20T00:00:00Z',
  ...over,
});

/** Runs `fn`, expects a request validation error and returns it. */
function refused(fn: () => unknown): M3terRequestValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(M3terRequestValidationError);
    return e as M3terRequestValidationError;
  }
  throw new Error('expected the input to be refused');
}
const adhocRefused = (input: unknown, now = NOW) => refused(() => parseAdhocExportRequest(input, now));
const issueAt = (e: M3terRequestValidationError, path: string) => e.issues.find((i) => i.path === path);
const check = (schema: z.ZodType, input: unknown, what = 'request') =>
  refused(() => validateRequest(schema, input, what));

describe('ad-hoc export request: USAGE', () => {
  it('accepts a minimal valid usage request', () => {
    expect(parseAdhocExportRequest(usage(), NOW)).toEqual(usage());
  });

  it.each(['startDate', 'endDate'])('refuses a missing %s, naming it', (field) => {
    const input: Record<string, unknown> = usage();
    delete input[field];
    const e = adhocRefused(input);
    expect(issueAt(e, field)?.message).toBe('is required');
    expect(e.message).toContain(`Invalid adhoc export request: ${field}: is required`);
  });

  it('refuses endDate equal to startDate and before it', () => {
    for (const endDate of ['2025-05-19T00:00:00Z', '2025-05-18T23:59:59Z']) {
      const e = adhocRefused(usage({ endDate }));
      expect(issueAt(e, 'endDate')?.message).toBe('must be after startDate');
    }
  });

  it('compares instants, not strings, across offsets', () => {
    // 01:00+02:00 is 23:00Z the day before: before startDate.
    const e = adhocRefused(
      usage({ startDate: '2025-05-19T00:00:00Z', endDate: '2025-05-19T01:00:00+02:00' }),
    );
    expect(issueAt(e, 'endDate')?.message).toBe('must be after startDate');
  });

  it('allows endDate exactly at tomorrow 00:00:00.000 UTC and refuses 1 ms later', () => {
    expect(parseAdhocExportRequest(usage({ endDate: '2025-05-21T00:00:00.000Z' }), NOW).sourceType).toBe(
      'USAGE',
    );
    const e = adhocRefused(usage({ endDate: '2025-05-21T00:00:00.001Z' }));
    expect(issueAt(e, 'endDate')?.message).toMatch(
      /^must be <= tomorrow 00:00:00.000 UTC \(2025-05-21T00:00:00.000Z\)$/,
    );
  });

  it('computes "tomorrow" from the injected clock, in UTC, at the day boundaries', () => {
    const lastMs = Date.UTC(2025, 4, 20, 23, 59, 59, 999);
    expect(new Date(latestUsageEndDate(lastMs)).toISOString()).toBe('2025-05-21T00:00:00.000Z');
    expect(new Date(latestUsageEndDate(Date.UTC(2025, 4, 21))).toISOString()).toBe(
      '2025-05-22T00:00:00.000Z',
    );
    expect(new Date(latestUsageEndDate(Date.UTC(2024, 11, 31, 12))).toISOString()).toBe(
      '2025-01-01T00:00:00.000Z',
    );
    // The same request is fine a day later.
    const req = usage({ endDate: '2025-05-22T00:00:00Z' });
    adhocRefused(req, lastMs);
    expect(() => parseAdhocExportRequest(req, Date.UTC(2025, 4, 21))).not.toThrow();
  });

  it('refuses date-times without a zone and non-dates', () => {
    const e = adhocRefused(usage({ startDate: '2025-05-19T00:00:00', endDate: 'tomorrow' }));
    expect(issueAt(e, 'startDate')?.message).toMatch(/ISO 8601 date-time/);
    expect(issueAt(e, 'endDate')?.message).toMatch(/ISO 8601 date-time/);
  });

  it('refuses an unknown sourceType with the allowed values', () => {
    const e = adhocRefused({ sourceType: 'BILLING' });
    expect(issueAt(e, 'sourceType')?.message).toBe('must be one of USAGE, OPERATIONAL');
  });

  it('refuses groups without aggregations', () => {
    const e = adhocRefused(usage({ groups: [{ groupType: 'ACCOUNT' }] }));
    expect(issueAt(e, 'groups')?.message).toMatch(/requires at least one aggregation/);
    const e2 = adhocRefused(usage({ groups: [{ groupType: 'ACCOUNT' }], aggregations: [] }));
    expect(issueAt(e2, 'groups')).toBeDefined();
  });

  it('refuses functions not allowed for the field type', () => {
    const e = adhocRefused(
      usage({
        aggregations: [
          { meterId: 'm', fieldCode: 'f', fieldType: 'MEASURE', function: 'SUM' },
          { meterId: 'm', fieldCode: 'region', fieldType: 'DIMENSION', function: 'SUM' },
          { meterId: 'm', fieldCode: 'x', fieldType: 'MEASURE', function: 'UNIQUE' },
        ],
      }),
    );
    expect(e.issues).toEqual([
      {
        path: 'aggregations[1].function',
        message: 'SUM is not allowed for a DIMENSION field (allowed: COUNT, UNIQUE)',
      },
      {
        path: 'aggregations[2].function',
        message: 'UNIQUE is not allowed for a MEASURE field (allowed: SUM, MIN, MAX, COUNT, LATEST, MEAN)',
      },
    ]);
  });

  it('accepts every allowed function/field-type pair and all three group shapes', () => {
    const aggregations = [
      ...['SUM', 'MIN', 'MAX', 'COUNT', 'LATEST', 'MEAN'].map((f) => ({
        meterId: 'm',
        fieldCode: 'q',
        fieldType: 'MEASURE',
        function: f,
      })),
      ...['COUNT', 'UNIQUE'].map((f) => ({
        meterId: 'm',
        fieldCode: 'd',
        fieldType: 'DIMENSION',
        function: f,
      })),
    ];
    const groups = [
      { groupType: 'ACCOUNT' },
      { groupType: 'DIMENSION', meterId: 'm', fieldCode: 'd' },
      ...['DAY', 'HOUR', 'WEEK', 'MONTH', 'QUARTER'].map((frequency) => ({ groupType: 'TIME', frequency })),
    ];
    expect(() =>
      parseAdhocExportRequest(usage({ aggregations, groups, exportFileFormat: 'JSONL' }), NOW),
    ).not.toThrow();
  });

  it('refuses malformed group shapes', () => {
    const e = adhocRefused(
      usage({
        aggregations: [{ meterId: 'm', fieldCode: 'q', fieldType: 'MEASURE', function: 'SUM' }],
        groups: [
          { groupType: 'TIME', frequency: 'YEAR' },
          { groupType: 'DIMENSION', meterId: 'm' },
          { groupType: 'PLANET' },
        ],
      }),
    );
    expect(issueAt(e, 'groups[0].frequency')?.message).toBe('must be one of DAY, HOUR, WEEK, MONTH, QUARTER');
    expect(issueAt(e, 'groups[1].fieldCode')?.message).toBe('is required');
    expect(issueAt(e, 'groups[2].groupType')?.message).toBe('must be one of ACCOUNT, DIMENSION, TIME');
  });

  it('refuses dimension filters without values', () => {
    const e = adhocRefused(usage({ dimensionFilters: [{ meterId: 'm', fieldCode: 'f', values: [] }] }));
    expect(issueAt(e, 'dimensionFilters[0].values')?.message).toBe('must contain at least 1 item');
  });

  it('refuses the superseded shape with a pointer to the current one', () => {
    const e = adhocRefused(usage({ timePeriod: 'TODAY', aggregationFrequency: 'DAY' }));
    expect(issueAt(e, 'timePeriod')?.message).toMatch(/superseded/);
    expect(issueAt(e, 'aggregationFrequency')?.message).toMatch(/superseded/);
  });

  it('refuses unknown fields and bad exportFileFormat', () => {
    const e = adhocRefused(usage({ meterIDs: ['x'], exportFileFormat: 'JSON' }));
    expect(e.issues).toEqual(
      expect.arrayContaining([
        { path: 'exportFileFormat', message: 'must be one of CSV, JSONL' },
        { path: 'meterIDs', message: 'is not a recognised field' },
      ]),
    );
  });

  it('lists every issue in one message', () => {
    const e = adhocRefused(
      usage({ endDate: '2025-05-18T00:00:00Z', exportFileFormat: 'XML', groups: [{ groupType: 'ACCOUNT' }] }),
    );
    expect(e.message).toContain('exportFileFormat: must be one of CSV, JSONL');
    expect(e.message).toContain('endDate: must be after startDate');
    expect(e.message).toContain('groups: requires at least one aggregation');
  });
});

describe('ad-hoc export request: OPERATIONAL', () => {
  it('accepts every documented data type and an optional startDate', () => {
    expect(OPERATIONAL_DATA_TYPES).toHaveLength(20);
    const req = {
      sourceType: 'OPERATIONAL',
      operationalDataTypes: [...OPERATIONAL_DATA_TYPES],
      startDate: '2025-01-01T00:00:00Z',
    };
    expect(parseAdhocExportRequest(req, NOW)).toEqual(req);
  });

  it('refuses an empty or missing operationalDataTypes', () => {
    const e = adhocRefused({ sourceType: 'OPERATIONAL', operationalDataTypes: [] });
    expect(e.message).toBe(
      'Invalid adhoc export request: operationalDataTypes: must contain at least 1 item',
    );
    expect(issueAt(adhocRefused({ sourceType: 'OPERATIONAL' }), 'operationalDataTypes')?.message).toBe(
      'is required',
    );
  });

  it('refuses a bad enum value, naming its index', () => {
    const e = adhocRefused({ sourceType: 'OPERATIONAL', operationalDataTypes: ['BILLS', 'INVOICES'] });
    expect(issueAt(e, 'operationalDataTypes[1]')?.message).toMatch(/^must be one of BILLS, COMMITMENTS, /);
  });

  it('refuses usage-only fields such as endDate', () => {
    const e = adhocRefused({
      sourceType: 'OPERATIONAL',
      operationalDataTypes: ['BILLS'],
      endDate: '2025-05-20T00:00:00Z',
    });
    expect(e.message).toContain('endDate: is not a recognised field');
  });
});

describe('bills CSV request', () => {
  const ok = { startDate: '2025-05-01T00:00:00Z', endDate: '2025-06-01T00:00:00Z', lineItemTypes: ['USAGE'] };
  it('accepts a valid request and every line item type', () => {
    expect(LINE_ITEM_TYPES).toHaveLength(19);
    expect(
      validateRequest(BillsCsvRequestSchema, { ...ok, lineItemTypes: [...LINE_ITEM_TYPES], limit: 2000 }, 'x')
        .limit,
    ).toBe(2000);
  });
  it.each([0, 2001, 1.5])('refuses limit %p', (limit) => {
    const e = check(BillsCsvRequestSchema, { ...ok, limit });
    expect(issueAt(e, 'limit')?.message).toMatch(/^must be (>= 1|<= 2000|an integer)$/);
  });
  it('refuses 101 dimensions and accepts 100', () => {
    const dim = { name: 'account', filter: ['*'] };
    const e = check(BillsCsvRequestSchema, { ...ok, dimensions: Array.from({ length: 101 }, () => dim) });
    expect(issueAt(e, 'dimensions')?.message).toBe('must contain at most 100 items');
    expect(() =>
      validateRequest(
        BillsCsvRequestSchema,
        { ...ok, dimensions: Array.from({ length: 100 }, () => dim) },
        'x',
      ),
    ).not.toThrow();
  });
  it('refuses bad dimension items', () => {
    const e = check(BillsCsvRequestSchema, { ...ok, dimensions: [{ name: '', filter: [] }] });
    expect(issueAt(e, 'dimensions[0].name')?.message).toBe('must be at least 1 character long');
    expect(issueAt(e, 'dimensions[0].filter')?.message).toBe('must contain at least 1 item');
  });
  it('refuses missing dates, empty lineItemTypes and an unknown type', () => {
    const e = check(BillsCsvRequestSchema, { lineItemTypes: [] });
    expect(e.issues.map((i) => i.path).sort()).toEqual(['endDate', 'lineItemTypes', 'startDate']);
    expect(
      issueAt(check(BillsCsvRequestSchema, { ...ok, lineItemTypes: ['TAX'] }), 'lineItemTypes[0]'),
    ).toBeDefined();
  });
});

describe('measurements', () => {
  const m = (over: Record<string, unknown> = {}) => ({
    meter: 'api_calls',
    account: 'acme corp',
    ts: '2025-05-20T10:00:00Z',
    ...over,
  });
  const submit = (measurements: unknown[]) => check(SubmitMeasurementsRequestSchema, { measurements });

  it('accepts a full measurement', () => {
    const full = m({
      uid: 'u'.repeat(50),
      ets: '2025-05-20T11:00:00Z',
      who: { a: 'b' },
      measure: { q: 1.5 },
      cost: { c: -2 },
      income: { i: 0 },
      metadata: { k: 'v' },
    });
    expect(validateRequest(MeasurementSchema, full, 'x')).toEqual(full);
  });
  it('refuses 0 and 1001 items', () => {
    expect(issueAt(submit([]), 'measurements')?.message).toBe('must contain at least 1 item');
    expect(issueAt(submit(Array.from({ length: 1001 }, () => m())), 'measurements')?.message).toBe(
      'must contain at most 1000 items',
    );
    expect(() =>
      validateRequest(
        SubmitMeasurementsRequestSchema,
        { measurements: Array.from({ length: 1000 }, () => m()) },
        'x',
      ),
    ).not.toThrow();
  });
  it('refuses a payload of exactly 512,000 bytes and accepts 511,999', () => {
    const sized = (bytes: number) => {
      const base = JSON.stringify({ measurements: [m({ other: { pad: '' } })] }).length;
      return { measurements: [m({ other: { pad: 'x'.repeat(bytes - base) } })] };
    };
    expect(Buffer.byteLength(JSON.stringify(sized(512_000)))).toBe(512_000);
    const e = refused(() =>
      validateRequest(SubmitMeasurementsRequestSchema, sized(512_000), 'measurements request'),
    );
    expect(issueAt(e, 'measurements')?.message).toMatch(/^JSON payload must be < 512000 bytes \(is 512000\)/);
    expect(() => validateRequest(SubmitMeasurementsRequestSchema, sized(511_999), 'x')).not.toThrow();
  });
  it('counts bytes, not characters', () => {
    const base = JSON.stringify({ measurements: [m({ other: { pad: '' } })] }).length;
    const chars = Math.ceil((512_000 - base) / 2); // 'é' is 2 bytes in UTF-8
    const e = submit([m({ other: { pad: 'é'.repeat(chars) } })]);
    expect(issueAt(e, 'measurements')).toBeDefined();
  });
  it('refuses a 51-character uid', () => {
    expect(issueAt(submit([m({ uid: 'u'.repeat(51) })]), 'measurements[0].uid')?.message).toBe(
      'must be at most 50 characters long',
    );
  });
  it.each([' api_calls', 'api_calls ', 'api\tcalls', 'api\u0000calls', 'a\ncalls', '', 'x'.repeat(81)])(
    'refuses meter %j',
    (meter) => {
      const e = submit([m({ meter })]);
      expect(issueAt(e, 'measurements[0].meter')).toBeDefined();
    },
  );
  it('accepts inner plain spaces and 80 characters', () => {
    expect(() =>
      validateRequest(MeasurementSchema, m({ meter: 'a b c', account: 'y'.repeat(80) }), 'x'),
    ).not.toThrow();
  });
  it('refuses missing required fields, string measures and numeric dimensions', () => {
    const e = submit([{ measure: { q: '1' }, who: { a: 1 } }]);
    expect(e.issues.map((i) => i.path).sort()).toEqual(
      [
        'measurements[0].account',
        'measurements[0].measure.q',
        'measurements[0].meter',
        'measurements[0].ts',
        'measurements[0].who.a',
      ].sort(),
    );
  });
});

describe('list queries', () => {
  it('refuses ids combined with another event filter', () => {
    const e = check(ListEventsQuerySchema, { ids: ['a'], eventType: 'DataExportJobFailure' });
    expect(issueAt(e, 'ids')?.message).toBe('cannot be combined with other filters (eventType)');
    expect(() =>
      validateRequest(ListEventsQuerySchema, { ids: ['a', 'b'], pageSize: 10 }, 'x'),
    ).not.toThrow();
  });
  it('refuses bad pageSize and unknown event types', () => {
    expect(issueAt(check(ListEventsQuerySchema, { pageSize: 101 }), 'pageSize')?.message).toBe(
      'must be <= 100',
    );
    expect(issueAt(check(ListEventsQuerySchema, { pageSize: 0 }), 'pageSize')?.message).toBe('must be >= 1');
    expect(issueAt(check(ListEventsQuerySchema, { eventType: 'Bogus' }), 'eventType')).toBeDefined();
  });
  it("enforces yyyy-MM-dd'T'HH:mm:ss'Z' on job date filters and formats Dates", () => {
    const e = check(ListExportJobsQuerySchema, { dateCreatedStart: '2025-05-20T10:00:00.000Z' });
    expect(issueAt(e, 'dateCreatedStart')).toBeDefined();
    const q = validateRequest(
      ListExportJobsQuerySchema,
      { dateCreatedStart: new Date('2025-05-20T10:00:00.123Z') },
      'x',
    );
    expect(q.dateCreatedStart).toBe('2025-05-20T10:00:00Z');
    expect(formatJobListDate(Date.UTC(2025, 0, 2, 3, 4, 5, 678))).toBe('2025-01-02T03:04:05Z');
  });
});

describe('responses', () => {
  const ctx = { method: 'GET', path: '/organizations/o/dataexports/jobs' };
  it('names the path of a violation inside a page', () => {
    const data = [0, 1, 2, 3].map((i) => ({ id: `j${i}`, status: i === 3 ? 'EXPLODED' : 'PENDING' }));
    try {
      validateResponse(pageSchema(ExportJobSchema), { data }, ctx);
      throw new Error('expected failure');
    } catch (e) {
      expect(e).toBeInstanceOf(M3terResponseValidationError);
      const err = e as M3terResponseValidationError;
      expect(err.issues[0]?.path).toBe('data[3].status');
      expect(err.message).toBe(
        'Invalid response from GET /organizations/o/dataexports/jobs: data[3].status: must be one of PENDING, RUNNING, SUCCEEDED, FAILED',
      );
      expect(err.message).not.toContain('EXPLODED');
    }
  });
  it('passes unknown fields through and normalises empty nextToken', () => {
    const page = validateResponse(
      pageSchema(ExportJobSchema),
      { data: [{ id: 'j', status: 'RUNNING', brandNew: { x: 1 } }], nextToken: '' },
      ctx,
    );
    expect(page).toEqual({ data: [{ id: 'j', status: 'RUNNING', brandNew: { x: 1 } }] });
    expect(validateResponse(pageSchema(ExportJobSchema), { data: [], nextToken: null }, ctx)).toEqual({
      data: [],
    });
  });
  it('accepts events with null or missing dtActioned', () => {
    const ev = {
      id: 'e',
      eventName: 'dataexport.job.failure',
      eventTime: '2025-05-20T00:00:00Z',
      m3terEvent: {},
    };
    expect(validateResponse(M3terEventSchema, { ...ev, dtActioned: null }, ctx).dtActioned).toBeNull();
    expect(validateResponse(M3terEventSchema, ev, ctx).id).toBe('e');
  });
});

describe('download URL responses', () => {
  const ctx = { method: 'GET', path: '/organizations/o/dataexports/jobs/j/getdownloadurl' };
  it('refuses an expiration time carrying terminal escapes, naming the field', () => {
    const answer = { url: 'https://files.example/j.csv', expirationTime: '\u001b[2J2026-12-02T17:00:00Z' };
    expect(() => validateResponse(DownloadUrlResponseSchema, answer, ctx)).toThrow(
      M3terResponseValidationError,
    );
    expect(() => validateResponse(DownloadUrlResponseSchema, answer, ctx)).toThrow(/expirationTime/);
  });
});
