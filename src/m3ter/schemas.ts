/**
 * Request and response schemas for the m3ter endpoints the worker uses (see docs/m3ter-api.md).
 *
 * Requests are strict: an unknown field is refused, because m3ter silently ignores fields it does
 * not know and a typo (or the superseded export shape) would otherwise export the wrong data.
 * Responses are loose: unknown fields pass through so that an API addition never breaks us.
 * Dates stay ISO strings (not Date objects) so values survive Temporal's JSON payloads unchanged.
 */
import { z } from 'zod';
import { validateRequest } from './validation';

// ---------------------------------------------------------------------------------------------
// Enums

export const SOURCE_TYPES = ['USAGE', 'OPERATIONAL'] as const;
export const SourceType = z.enum(SOURCE_TYPES);
export type SourceType = z.infer<typeof SourceType>;

export const EXPORT_JOB_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export const ExportJobStatus = z.enum(EXPORT_JOB_STATUSES);
export type ExportJobStatus = z.infer<typeof ExportJobStatus>;

export const OPERATIONAL_DATA_TYPES = [
  'BILLS',
  'COMMITMENTS',
  'ACCOUNTS',
  'BALANCES',
  'CONTRACTS',
  'ACCOUNT_PLANS',
  'AGGREGATIONS',
  'PLANS',
  'PRICING',
  'PRICING_BANDS',
  'BILL_LINE_ITEMS',
  'METERS',
  'PRODUCTS',
  'COMPOUND_AGGREGATIONS',
  'PLAN_GROUPS',
  'PLAN_GROUP_LINKS',
  'PLAN_TEMPLATES',
  'BALANCE_TRANSACTIONS',
  'TRANSACTION_TYPES',
  'CHARGES',
] as const;
export const OperationalDataType = z.enum(OPERATIONAL_DATA_TYPES);
export type OperationalDataType = z.infer<typeof OperationalDataType>;

export const LINE_ITEM_TYPES = [
  'STANDING_CHARGE',
  'USAGE',
  'COUNTER_RUNNING_TOTAL_CHARGE',
  'COUNTER_ADJUSTMENT_DEBIT',
  'COUNTER_ADJUSTMENT_CREDIT',
  'USAGE_CREDIT',
  'MINIMUM_SPEND',
  'MINIMUM_SPEND_REFUND',
  'CREDIT_DEDUCTION',
  'MANUAL_ADJUSTMENT',
  'CREDIT_MEMO',
  'DEBIT_MEMO',
  'COMMITMENT_CONSUMED',
  'COMMITMENT_FEE',
  'OVERAGE_SURCHARGE',
  'OVERAGE_USAGE',
  'BALANCE_CONSUMED',
  'BALANCE_FEE',
  'AD_HOC',
] as const;
export const LineItemType = z.enum(LINE_ITEM_TYPES);
export type LineItemType = z.infer<typeof LineItemType>;

export const EXPORT_FILE_FORMATS = ['CSV', 'JSONL'] as const;
export const ExportFileFormat = z.enum(EXPORT_FILE_FORMATS);
export type ExportFileFormat = z.infer<typeof ExportFileFormat>;

export const AGGREGATION_FUNCTIONS = ['SUM', 'MIN', 'MAX', 'COUNT', 'LATEST', 'MEAN', 'UNIQUE'] as const;
export const FIELD_TYPES = ['MEASURE', 'DIMENSION'] as const;
/** Which aggregation functions suit which field type (docs/m3ter-api.md, Usage exports). */
export const ALLOWED_FUNCTIONS_BY_FIELD_TYPE: Readonly<
  Record<(typeof FIELD_TYPES)[number], readonly string[]>
> = {
  MEASURE: ['SUM', 'MIN', 'MAX', 'COUNT', 'LATEST', 'MEAN'],
  DIMENSION: ['COUNT', 'UNIQUE'],
};
export const TIME_GROUP_FREQUENCIES = ['DAY', 'HOUR', 'WEEK', 'MONTH', 'QUARTER'] as const;

export const EVENT_TYPES = [
  'Notification',
  'IntegrationEvent',
  'IngestValidationFailure',
  'DataExportJobFailure',
] as const;

// ---------------------------------------------------------------------------------------------
// Building blocks

const dateTime = () => z.iso.datetime({ offset: true });
const nonEmpty = () => z.string().min(1);
const idList = () => z.array(nonEmpty());

/**
 * m3ter "code" pattern (docs/m3ter-api.md, Code fields): no control characters, no edge whitespace,
 * only plain spaces inside.
 */
export const CODE_PATTERN = /^(?! )(?!.* $)(?:[^\s\p{Cc}]| )+$/u;
const code = () =>
  z.string().min(1).max(80).regex(CODE_PATTERN, {
    error:
      'must not contain control characters, leading/trailing whitespace or whitespace other than plain spaces',
  });

/** Date.parse that tolerates anything (refinements run on partially-invalid input). */
function ms(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** The latest allowed usage `endDate`: tomorrow 00:00:00.000 UTC relative to `now` (docs/m3ter-api.md). */
export function latestUsageEndDate(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

// Refinements that compare fields must also run when some other field is already invalid, so that
// one error lists every problem; `when: () => true` opts out of zod's skip-after-failure default.
const always = { when: () => true } as const;

// ---------------------------------------------------------------------------------------------
// Ad-hoc export (docs/m3ter-api.md, Ad-hoc export request)

export const DimensionFilterSchema = z.strictObject({
  meterId: nonEmpty(),
  fieldCode: nonEmpty(),
  values: z.array(z.string()).min(1),
});

export const AggregationSchema = z
  .strictObject({
    meterId: nonEmpty(),
    fieldCode: nonEmpty(),
    fieldType: z.enum(FIELD_TYPES),
    function: z.enum(AGGREGATION_FUNCTIONS),
  })
  .superRefine((a, ctx) => {
    const allowed = ALLOWED_FUNCTIONS_BY_FIELD_TYPE[a.fieldType];
    if (!allowed.includes(a.function)) {
      ctx.addIssue({
        code: 'custom',
        path: ['function'],
        message: `${a.function} is not allowed for a ${a.fieldType} field (allowed: ${allowed.join(', ')})`,
      });
    }
  });

export const GroupSchema = z.discriminatedUnion('groupType', [
  z.strictObject({ groupType: z.literal('ACCOUNT') }),
  z.strictObject({ groupType: z.literal('DIMENSION'), meterId: nonEmpty(), fieldCode: nonEmpty() }),
  z.strictObject({ groupType: z.literal('TIME'), frequency: z.enum(TIME_GROUP_FREQUENCIES) }),
]);

const commonExportFields = {
  destinationIds: idList().optional(),
  exportFileFormat: ExportFileFormat.optional(),
  // Inherited from m3ter's AbstractRequest; meaningless here but accepted by the API
  // (docs/m3ter-api.md, Entity versions).
  version: z.int().optional(),
};

// The superseded ad-hoc shape (docs/m3ter-api.md, Superseded export shape). Named explicitly so the
// message says what to do instead of just "unrecognised field".
const superseded = () =>
  z
    .never({
      error: 'belongs to the superseded ad-hoc export shape; use startDate/endDate, aggregations and groups',
    })
    .optional();

const UsageAdhocBase = z.strictObject({
  sourceType: z.literal('USAGE'),
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): the schema marks startDate/endDate optional but the
  // operation's description says both are required for usage exports; we enforce the description.
  startDate: dateTime(),
  endDate: dateTime(),
  meterIds: idList().optional(),
  accountIds: idList().optional(),
  dimensionFilters: z.array(DimensionFilterSchema).optional(),
  aggregations: z.array(AggregationSchema).optional(),
  groups: z.array(GroupSchema).optional(),
  ...commonExportFields,
  timePeriod: superseded(),
  aggregationFrequency: superseded(),
  aggregation: superseded(),
});

const OperationalAdhocBase = z.strictObject({
  sourceType: z.literal('OPERATIONAL'),
  operationalDataTypes: z.array(OperationalDataType).min(1),
  startDate: dateTime().optional(),
  ...commonExportFields,
});

export type UsageAdhocExportRequest = Omit<
  z.infer<typeof UsageAdhocBase>,
  'timePeriod' | 'aggregationFrequency' | 'aggregation'
>;
export type OperationalAdhocExportRequest = z.infer<typeof OperationalAdhocBase>;
export type AdhocExportRequest = UsageAdhocExportRequest | OperationalAdhocExportRequest;

/**
 * Builds the ad-hoc export schema. The usage `endDate` limit depends on the current day, so the
 * clock is a parameter (tests and workflows pass their own notion of "now").
 */
export function createAdhocExportRequestSchema(now: () => number = Date.now) {
  const usage = UsageAdhocBase.superRefine((v, ctx) => {
    const raw = v as Record<string, unknown>;
    const start = ms(raw.startDate);
    const end = ms(raw.endDate);
    if (start !== undefined && end !== undefined && end <= start) {
      ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'must be after startDate' });
    }
    if (end !== undefined) {
      const limit = latestUsageEndDate(now());
      if (end > limit) {
        ctx.addIssue({
          code: 'custom',
          path: ['endDate'],
          message: `must be <= tomorrow 00:00:00.000 UTC (${new Date(limit).toISOString()})`,
        });
      }
    }
    const groups = raw.groups;
    const aggregations = raw.aggregations;
    if (
      Array.isArray(groups) &&
      groups.length > 0 &&
      !(Array.isArray(aggregations) && aggregations.length > 0)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['groups'],
        message: 'requires at least one aggregation (grouping without aggregations is an error)',
      });
    }
  }, always);
  return z.discriminatedUnion('sourceType', [usage, OperationalAdhocBase]);
}

export const AdhocExportRequestSchema = createAdhocExportRequestSchema();

/** Validates an ad-hoc export request against m3ter's rules as of `now` (ms since epoch). */
export function parseAdhocExportRequest(input: unknown, now: number = Date.now()): AdhocExportRequest {
  return validateRequest(
    createAdhocExportRequestSchema(() => now),
    input,
    'adhoc export request',
  );
}

export const AdhocExportResponseSchema = z.looseObject({ jobId: nonEmpty() });

// ---------------------------------------------------------------------------------------------
// Export jobs (docs/m3ter-api.md, Export jobs)

export const ExportJobSchema = z.looseObject({
  id: nonEmpty(),
  status: ExportJobStatus,
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): only `id` is marked required in JobResponse; `status` is the
  // field we cannot work without, the rest may be absent (e.g. scheduleId on ad-hoc jobs).
  sourceType: SourceType.optional(),
  dateCreated: z.string().optional(),
  startedAt: z.string().optional(),
  scheduleId: z.string().optional(),
  version: z.number().optional(),
});
export type ExportJob = z.infer<typeof ExportJobSchema>;

/** Format m3ter requires for `dateCreatedStart`/`dateCreatedEnd`: yyyy-MM-dd'T'HH:mm:ss'Z'. */
export const JOB_LIST_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Formats a Date (or epoch ms) for the job-list date filters, dropping milliseconds. */
export function formatJobListDate(d: Date | number): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const jobListDate = () =>
  z.union(
    [
      z
        .string()
        .regex(JOB_LIST_DATE_PATTERN, { error: "must match yyyy-MM-dd'T'HH:mm:ss'Z' (no milliseconds)" }),
      z.date().transform((d) => formatJobListDate(d)),
    ],
    { error: "must be a Date or a string in yyyy-MM-dd'T'HH:mm:ss'Z'" },
  );

const pageSize = () => z.int().min(1).max(100);

export const ListExportJobsQuerySchema = z.strictObject({
  ids: idList().optional(),
  scheduleId: nonEmpty().optional(),
  status: ExportJobStatus.optional(),
  dateCreatedStart: jobListDate().optional(),
  dateCreatedEnd: jobListDate().optional(),
  pageSize: pageSize().optional(),
  nextToken: z.string().optional(),
});
export type ListExportJobsQuery = z.input<typeof ListExportJobsQuerySchema>;

export const DownloadUrlResponseSchema = z.looseObject({
  // The schema marks `url` optional; without it there is nothing to download, so we require it.
  url: nonEmpty(),
  expirationTime: z.string().optional(),
});
export type DownloadUrlResponse = z.infer<typeof DownloadUrlResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Export schedules (docs/m3ter-api.md, Export schedules)

export const ExportScheduleSchema = z.looseObject({
  id: nonEmpty(),
  version: z.number().optional(),
  name: z.string().optional(),
  code: z.string().optional(),
  sourceType: SourceType.optional(),
  destinationIds: z.array(z.string()).optional(),
  // Kept as plain strings: the list endpoint has returned other spellings before (HOURLY/DAILY, JSON
  // in the superseded shape) and a listing should not fail over a value we only display.
  scheduleType: z.string().optional(),
  period: z.number().optional(),
  offset: z.number().optional(),
  cronExpression: z.string().nullish(),
  exportFileFormat: z.string().optional(),
  dtCreated: z.string().optional(),
  dtLastModified: z.string().optional(),
  createdBy: z.string().optional(),
  lastModifiedBy: z.string().optional(),
});
export type ExportSchedule = z.infer<typeof ExportScheduleSchema>;

export const ListExportSchedulesQuerySchema = z.strictObject({
  ids: idList().optional(),
  pageSize: pageSize().optional(),
  nextToken: z.string().optional(),
});
export type ListExportSchedulesQuery = z.input<typeof ListExportSchedulesQuerySchema>;

// ---------------------------------------------------------------------------------------------
// Events (docs/m3ter-api.md, Events)

export const M3terEventSchema = z.looseObject({
  id: nonEmpty(),
  eventName: z.string(),
  eventTime: z.string(),
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): dtActioned is marked required but is surely null or
  // absent on events nobody has actioned; accept both.
  dtActioned: z.string().nullish(),
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): the payload shape (e.g. of dataexport.job.failure) is
  // unknown, so it stays an untyped record for callers to probe defensively.
  m3terEvent: z.record(z.string(), z.unknown()),
});
export type M3terEvent = z.infer<typeof M3terEventSchema>;

export const ListEventsQuerySchema = z
  .strictObject({
    ids: idList().optional(),
    eventType: z.enum(EVENT_TYPES).optional(),
    eventName: nonEmpty().optional(),
    // ASSUMPTION (docs/m3ter-api.md, Assumptions): the server default of includeActioned is unknown;
    // we send it only when the caller sets it.
    includeActioned: z.boolean().optional(),
    notificationId: nonEmpty().optional(),
    notificationCode: nonEmpty().optional(),
    accountId: nonEmpty().optional(),
    resourceId: nonEmpty().optional(),
    pageSize: pageSize().optional(),
    nextToken: z.string().optional(),
  })
  .superRefine((q, ctx) => {
    if (!q.ids || q.ids.length === 0) return;
    const filters = [
      'eventType',
      'eventName',
      'includeActioned',
      'notificationId',
      'notificationCode',
      'accountId',
      'resourceId',
    ] as const;
    const combined = filters.filter((k) => q[k] !== undefined);
    if (combined.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['ids'],
        message: `cannot be combined with other filters (${combined.join(', ')})`,
      });
    }
  });
export type ListEventsQuery = z.input<typeof ListEventsQuerySchema>;

// ---------------------------------------------------------------------------------------------
// Data Explorer bill CSV (docs/m3ter-api.md, Data Explorer bill CSV)

export const BillsCsvDimensionSchema = z.strictObject({
  name: nonEmpty(),
  filter: z.array(z.string()).min(1),
  attributes: z.array(z.string()).optional(),
});

export const BillsCsvRequestSchema = z
  .strictObject({
    startDate: dateTime(),
    endDate: dateTime(),
    lineItemTypes: z.array(LineItemType).min(1),
    dimensions: z.array(BillsCsvDimensionSchema).max(100).optional(),
    limit: z.int().min(1).max(2000).optional(),
    version: z.int().optional(),
  })
  .superRefine((v, ctx) => {
    const start = ms((v as Record<string, unknown>).startDate);
    const end = ms((v as Record<string, unknown>).endDate);
    if (start !== undefined && end !== undefined && end <= start) {
      ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'must be after startDate' });
    }
  }, always);
export type BillsCsvRequest = z.infer<typeof BillsCsvRequestSchema>;

export const BillsCsvResponseSchema = z.looseObject({ downloadUrl: nonEmpty() });

// ---------------------------------------------------------------------------------------------
// Measurements (docs/m3ter-api.md, Submit measurements)

export const MAX_MEASUREMENTS_PER_REQUEST = 1000;
/** The ingest body must be strictly smaller than this (m3ter answers 403 otherwise). */
export const MAX_MEASUREMENTS_PAYLOAD_BYTES = 512_000;

const stringMap = () => z.record(z.string(), z.string());
const numberMap = () => z.record(z.string(), z.number());

export const MeasurementSchema = z.strictObject({
  uid: z.string().max(50).optional(),
  meter: code(),
  account: code(),
  ts: dateTime(),
  ets: dateTime().optional(),
  who: stringMap().optional(),
  where: stringMap().optional(),
  what: stringMap().optional(),
  other: stringMap().optional(),
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): "max 256 chars" on metadata is read as a per-value limit.
  metadata: z.record(z.string(), z.string().max(256)).optional(),
  measure: numberMap().optional(),
  cost: numberMap().optional(),
  income: numberMap().optional(),
});
export type Measurement = z.infer<typeof MeasurementSchema>;

export const SubmitMeasurementsRequestSchema = z
  .strictObject({
    measurements: z.array(MeasurementSchema).min(1).max(MAX_MEASUREMENTS_PER_REQUEST),
  })
  .superRefine((v, ctx) => {
    // Measured on exactly what the client sends (JSON.stringify of the validated body).
    const bytes = Buffer.byteLength(JSON.stringify(v), 'utf8');
    if (bytes >= MAX_MEASUREMENTS_PAYLOAD_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['measurements'],
        message: `JSON payload must be < ${MAX_MEASUREMENTS_PAYLOAD_BYTES} bytes (is ${bytes}); split the batch`,
      });
    }
  });
export type SubmitMeasurementsRequest = z.infer<typeof SubmitMeasurementsRequestSchema>;

export const SubmitMeasurementsResponseSchema = z.looseObject({ result: z.string() });

// ---------------------------------------------------------------------------------------------
// Notifications evaluate (docs/m3ter-api.md, Notification calculations)

export const EvaluateNotificationRequestSchema = z.strictObject({
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): whether `calculation` is required is not stated; an
  // evaluation without one is meaningless, so we require it.
  calculation: nonEmpty(),
  eventId: nonEmpty().optional(),
  eventName: nonEmpty().optional(),
});
export type EvaluateNotificationRequest = z.infer<typeof EvaluateNotificationRequestSchema>;

// ASSUMPTION (docs/m3ter-api.md, Assumptions): `success` may mean "valid" or "evaluated to true"; we
// pass it on unchanged and do not interpret it.
export const EvaluateNotificationResponseSchema = z.looseObject({
  success: z.boolean(),
  errorMessage: z.string().nullish(),
});

// ---------------------------------------------------------------------------------------------
// OAuth token and pages (docs/m3ter-api.md, Access token; Pagination)

export const TokenResponseSchema = z.looseObject({
  access_token: nonEmpty(),
  expires_in: z.number().positive(),
  token_type: z.string().nullish(),
  scope: z.string().nullish(),
});

export type Page<T> = { data: T[]; nextToken?: string };

/** `{data, nextToken}`; a missing, null or empty nextToken all mean "last page" (docs/m3ter-api.md). */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z
    .looseObject({ data: z.array(item), nextToken: z.string().nullish() })
    .transform((p): Page<z.output<T>> =>
      p.nextToken ? { data: p.data, nextToken: p.nextToken } : { data: p.data },
    );
}
