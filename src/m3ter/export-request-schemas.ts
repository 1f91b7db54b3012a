/**
 * The export request schemas the workflows validate with (ad-hoc export, Data Explorer bill CSV), as
 * builders: this module builds no schema when it loads. src/m3ter/schemas.ts builds the m3ter client's
 * schemas from these same builders, so the client, the CLI and the workflows validate with one set of rules.
 *
 * Why builders: the workflow bundle evaluates its modules once per workflow run (and again after each cache
 * eviction), so a schema built at module load costs heap in every cached run. Built inside the validation
 * call, it is garbage once the input is parsed. See workflows/shared-modules.ts.
 */
import { z } from 'zod';
import { M3TER_ID_PATTERN, M3TER_ID_RULE } from '../contract/vocabulary';

// ---------------------------------------------------------------------------------------------
// Enums (plain arrays: free to load; schemas.ts builds its enum schemas from them)

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

export const EXPORT_FILE_FORMATS = ['CSV', 'JSONL'] as const;

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

// ---------------------------------------------------------------------------------------------
// Building blocks (shared with schemas.ts)

export const dateTime = () => z.iso.datetime({ offset: true });
export const nonEmpty = () => z.string().min(1);
/** An identifier m3ter hands out or that we send back to it (src/contract/vocabulary.ts, M3TER_ID_PATTERN). */
export const m3terId = () => z.string().regex(M3TER_ID_PATTERN, { error: M3TER_ID_RULE });
export const idList = () => z.array(m3terId());

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

export const dimensionFilterSchema = () =>
  z.strictObject({
    meterId: nonEmpty(),
    fieldCode: nonEmpty(),
    values: z.array(z.string()).min(1),
  });

export const aggregationSchema = () =>
  z
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

export const groupSchema = () =>
  z.discriminatedUnion('groupType', [
    z.strictObject({ groupType: z.literal('ACCOUNT') }),
    z.strictObject({ groupType: z.literal('DIMENSION'), meterId: nonEmpty(), fieldCode: nonEmpty() }),
    z.strictObject({ groupType: z.literal('TIME'), frequency: z.enum(TIME_GROUP_FREQUENCIES) }),
  ]);

const commonExportFields = () => ({
  destinationIds: idList().optional(),
  exportFileFormat: z.enum(EXPORT_FILE_FORMATS).optional(),
  // Inherited from m3ter's AbstractRequest; meaningless here but accepted by the API
  // (docs/m3ter-api.md, Entity versions).
  version: z.int().optional(),
});

// The superseded ad-hoc shape (docs/m3ter-api.md, Superseded export shape). Named explicitly so the
// message says what to do instead of just "unrecognised field".
const superseded = () =>
  z
    .never({
      error: 'belongs to the superseded ad-hoc export shape; use startDate/endDate, aggregations and groups',
    })
    .optional();

const usageAdhocBase = () =>
  z.strictObject({
    sourceType: z.literal('USAGE'),
    // ASSUMPTION (docs/m3ter-api.md, Assumptions): the schema marks startDate/endDate optional but the
    // operation's description says both are required for usage exports; we enforce the description.
    startDate: dateTime(),
    endDate: dateTime(),
    meterIds: idList().optional(),
    accountIds: idList().optional(),
    dimensionFilters: z.array(dimensionFilterSchema()).optional(),
    aggregations: z.array(aggregationSchema()).optional(),
    groups: z.array(groupSchema()).optional(),
    ...commonExportFields(),
    timePeriod: superseded(),
    aggregationFrequency: superseded(),
    aggregation: superseded(),
  });

const operationalAdhocSchema = () =>
  z.strictObject({
    sourceType: z.literal('OPERATIONAL'),
    operationalDataTypes: z.array(z.enum(OPERATIONAL_DATA_TYPES)).min(1),
    startDate: dateTime().optional(),
    ...commonExportFields(),
  });

export type UsageAdhocExportRequest = Omit<
  z.infer<ReturnType<typeof usageAdhocBase>>,
  'timePeriod' | 'aggregationFrequency' | 'aggregation'
>;
export type OperationalAdhocExportRequest = z.infer<ReturnType<typeof operationalAdhocSchema>>;
export type AdhocExportRequest = UsageAdhocExportRequest | OperationalAdhocExportRequest;

/**
 * Builds the ad-hoc export schema. The usage `endDate` limit depends on the current day, so the
 * clock is a parameter (tests and workflows pass their own notion of "now").
 */
export function createAdhocExportRequestSchema(now: () => number = Date.now) {
  const usage = usageAdhocBase().superRefine((v, ctx) => {
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
  return z.discriminatedUnion('sourceType', [usage, operationalAdhocSchema()]);
}

// ---------------------------------------------------------------------------------------------
// Data Explorer bill CSV (docs/m3ter-api.md, Data Explorer bill CSV)

export const billsCsvDimensionSchema = () =>
  z.strictObject({
    name: nonEmpty(),
    filter: z.array(z.string()).min(1),
    attributes: z.array(z.string()).optional(),
  });

export const createBillsCsvRequestSchema = () =>
  z
    .strictObject({
      startDate: dateTime(),
      endDate: dateTime(),
      lineItemTypes: z.array(z.enum(LINE_ITEM_TYPES)).min(1),
      dimensions: z.array(billsCsvDimensionSchema()).max(100).optional(),
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
export type BillsCsvRequest = z.infer<ReturnType<typeof createBillsCsvRequestSchema>>;
