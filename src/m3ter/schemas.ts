/**
 * Request and response schemas for the m3ter endpoints the worker uses (see docs/m3ter-api.md).
 *
 * Requests are strict: an unknown field is refused, because m3ter silently ignores fields it does
 * not know and a typo (or the superseded export shape) would otherwise export the wrong data.
 * Responses are loose: unknown fields pass through so that an API addition never breaks us.
 * Dates stay ISO strings (not Date objects) so values survive Temporal's JSON payloads unchanged.
 *
 * The export requests the workflows validate too (ad-hoc, bill CSV) are defined once, as builders, in
 * ./export-request-schemas; the schemas here are built from them.
 */
import { z } from 'zod';
import {
  aggregationSchema,
  billsCsvDimensionSchema,
  createAdhocExportRequestSchema,
  createBillsCsvRequestSchema,
  dateTime,
  dimensionFilterSchema,
  EXPORT_FILE_FORMATS,
  groupSchema,
  idList,
  LINE_ITEM_TYPES,
  m3terId,
  nonEmpty,
  OPERATIONAL_DATA_TYPES,
  type AdhocExportRequest,
} from './export-request-schemas';
import { validateRequest } from './validation';
import { MAX_URL_LENGTH } from '../net/url-guard';

export {
  AGGREGATION_FUNCTIONS,
  ALLOWED_FUNCTIONS_BY_FIELD_TYPE,
  createAdhocExportRequestSchema,
  createBillsCsvRequestSchema,
  EXPORT_FILE_FORMATS,
  FIELD_TYPES,
  latestUsageEndDate,
  LINE_ITEM_TYPES,
  OPERATIONAL_DATA_TYPES,
  TIME_GROUP_FREQUENCIES,
  type AdhocExportRequest,
  type BillsCsvRequest,
  type OperationalAdhocExportRequest,
  type UsageAdhocExportRequest,
} from './export-request-schemas';

// ---------------------------------------------------------------------------------------------
// Enums

export const SOURCE_TYPES = ['USAGE', 'OPERATIONAL'] as const;
export const SourceType = z.enum(SOURCE_TYPES);
export type SourceType = z.infer<typeof SourceType>;

export const EXPORT_JOB_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export const ExportJobStatus = z.enum(EXPORT_JOB_STATUSES);
export type ExportJobStatus = z.infer<typeof ExportJobStatus>;

export const OperationalDataType = z.enum(OPERATIONAL_DATA_TYPES);
export type OperationalDataType = z.infer<typeof OperationalDataType>;

export const LineItemType = z.enum(LINE_ITEM_TYPES);
export type LineItemType = z.infer<typeof LineItemType>;

export const ExportFileFormat = z.enum(EXPORT_FILE_FORMATS);
export type ExportFileFormat = z.infer<typeof ExportFileFormat>;

export const EVENT_TYPES = [
  'Notification',
  'IntegrationEvent',
  'IngestValidationFailure',
  'DataExportJobFailure',
] as const;

// ---------------------------------------------------------------------------------------------
// Building blocks

/**
 * m3ter "code" pattern (docs/m3ter-api.md, Code fields): no control characters, no edge whitespace,
 * only plain spaces inside.
 */
export const CODE_PATTERN = /^(?! )(?!.* $)(?:[^\s\p{Cc}]| )+$/u;
/** Bounded and free of whitespace and control characters; the rules on what it may reach are url-guard's. */
const downloadUrl = () =>
  z
    .string()
    .min(1)
    .max(MAX_URL_LENGTH)
    .regex(/^[^\s\p{Cc}]+$/u, { error: 'must not contain whitespace or control characters' });

const code = () =>
  z.string().min(1).max(80).regex(CODE_PATTERN, {
    error:
      'must not contain control characters, leading/trailing whitespace or whitespace other than plain spaces',
  });

// ---------------------------------------------------------------------------------------------
// Ad-hoc export (docs/m3ter-api.md, Ad-hoc export request; built in ./export-request-schemas)

export const DimensionFilterSchema = dimensionFilterSchema();
export const AggregationSchema = aggregationSchema();
export const GroupSchema = groupSchema();
export const AdhocExportRequestSchema = createAdhocExportRequestSchema();

/** Validates an ad-hoc export request against m3ter's rules as of `now` (ms since epoch). */
export function parseAdhocExportRequest(input: unknown, now: number = Date.now()): AdhocExportRequest {
  return validateRequest(
    createAdhocExportRequestSchema(() => now),
    input,
    'adhoc export request',
  );
}

export const AdhocExportResponseSchema = z.looseObject({ jobId: m3terId() });

// ---------------------------------------------------------------------------------------------
// Export jobs (docs/m3ter-api.md, Export jobs)

export const ExportJobSchema = z.looseObject({
  id: m3terId(),
  status: ExportJobStatus,
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): only `id` is marked required in JobResponse; `status` is the
  // field we cannot work without, the rest may be absent (e.g. scheduleId on ad-hoc jobs).
  sourceType: SourceType.optional(),
  dateCreated: z.string().optional(),
  startedAt: z.string().optional(),
  scheduleId: m3terId().optional(),
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
  scheduleId: m3terId().optional(),
  status: ExportJobStatus.optional(),
  dateCreatedStart: jobListDate().optional(),
  dateCreatedEnd: jobListDate().optional(),
  pageSize: pageSize().optional(),
  nextToken: z.string().optional(),
});
export type ListExportJobsQuery = z.input<typeof ListExportJobsQuerySchema>;

export const DownloadUrlResponseSchema = z.looseObject({
  // The schema marks `url` optional; without it there is nothing to download, so we require it. Its scheme
  // and address are checked where it is fetched (src/net/url-guard.ts), which knows the API's origin.
  url: downloadUrl(),
  // Printed to terminals by `export --storage none --wait`: bounded and free of control characters.
  expirationTime: z
    .string()
    .max(64)
    .regex(/^[^\s\p{Cc}]+$/u, { error: 'must not contain whitespace or control characters' })
    .optional(),
});
export type DownloadUrlResponse = z.infer<typeof DownloadUrlResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Export schedules (docs/m3ter-api.md, Export schedules)

export const ExportScheduleSchema = z.looseObject({
  id: m3terId(),
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
  id: m3terId(),
  eventName: z.string().max(200),
  // The monitor walks events newest first down to a cutoff: a time it cannot read could not end the walk.
  eventTime: dateTime(),
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

export const BillsCsvDimensionSchema = billsCsvDimensionSchema();
export const BillsCsvRequestSchema = createBillsCsvRequestSchema();

export const BillsCsvResponseSchema = z.looseObject({ downloadUrl: downloadUrl() });

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

/** A measurements request without its size rule, which needs the body's JSON text: see `payloadSizeIssue`. */
export const MeasurementsBatchSchema = z.strictObject({
  measurements: z.array(MeasurementSchema).min(1).max(MAX_MEASUREMENTS_PER_REQUEST),
});

/** The size rule of a measurements request, on exactly the JSON text sent; undefined when it fits. */
export function payloadSizeIssue(jsonText: string): { path: string; message: string } | undefined {
  const bytes = Buffer.byteLength(jsonText, 'utf8');
  if (bytes < MAX_MEASUREMENTS_PAYLOAD_BYTES) return undefined;
  return {
    path: 'measurements',
    message: `JSON payload must be < ${MAX_MEASUREMENTS_PAYLOAD_BYTES} bytes (is ${bytes}); split the batch`,
  };
}

export const SubmitMeasurementsRequestSchema = MeasurementsBatchSchema.superRefine((v, ctx) => {
  const issue = payloadSizeIssue(JSON.stringify(v));
  if (issue) ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
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

/** A token living shorter than this would mean a token request before nearly every call. */
export const MIN_TOKEN_LIFETIME_SECONDS = 60;

export const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1).max(8192),
  expires_in: z.number().min(MIN_TOKEN_LIFETIME_SECONDS),
  token_type: z.string().nullish(),
  scope: z.string().nullish(),
});

/** `rejected`: items of a lenient page dropped because they broke their schema. */
export type Page<T> = { data: T[]; nextToken?: string; rejected?: number };

/** m3ter pages hold at most 100 items (pageSize's maximum); a few more are tolerated, not thousands. */
export const MAX_PAGE_ITEMS = 200;
const MAX_PAGE_TOKEN_LENGTH = 4096;
const pageToken = () => z.string().max(MAX_PAGE_TOKEN_LENGTH).nullish();

/** `{data, nextToken}`; a missing, null or empty nextToken all mean "last page" (docs/m3ter-api.md). */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z
    .looseObject({ data: z.array(item).max(MAX_PAGE_ITEMS), nextToken: pageToken() })
    .transform((p): Page<z.output<T>> =>
      p.nextToken ? { data: p.data, nextToken: p.nextToken } : { data: p.data },
    );
}

/**
 * Like `pageSchema`, but an item that breaks its schema is dropped and counted instead of failing the
 * page: one poisoned event must not stop the failure monitor from seeing every other one.
 */
export function lenientPageSchema<T extends z.ZodType>(item: T) {
  return z
    .looseObject({ data: z.array(z.unknown()).max(MAX_PAGE_ITEMS), nextToken: pageToken() })
    .transform((p): Page<z.output<T>> => {
      const data: z.output<T>[] = [];
      for (const raw of p.data) {
        const r = item.safeParse(raw);
        if (r.success) data.push(r.data);
      }
      const rejected = p.data.length - data.length;
      return {
        data,
        ...(p.nextToken ? { nextToken: p.nextToken } : {}),
        ...(rejected > 0 ? { rejected } : {}),
      };
    });
}
