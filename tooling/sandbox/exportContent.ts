import { iso } from './clock';
import { toCsv, toJsonl } from './csv';
import type { Entity, OperationalDataType } from './seed';
import type { SandboxState } from './state';
import type { Measurement } from './types';

/**
 * What an export file holds. Column layouts are undocumented (docs/m3ter-api.md, Assumptions); the
 * choices here are listed in docs/sandbox.md.
 */
export interface UsageRequest {
  startDate: string;
  endDate: string;
  meterIds?: string[];
  accountIds?: string[];
  dimensionFilters?: Array<{ meterId: string; fieldCode: string; values: string[] }>;
  aggregations?: Array<{
    meterId: string;
    fieldCode: string;
    fieldType: 'DIMENSION' | 'MEASURE';
    function: AggFunction;
  }>;
  groups?: Array<
    | { groupType: 'ACCOUNT' }
    | { groupType: 'DIMENSION'; meterId: string; fieldCode: string }
    | { groupType: 'TIME'; frequency: TimeFrequency }
  >;
  exportFileFormat?: 'CSV' | 'JSONL';
}
export type AggFunction = 'SUM' | 'MIN' | 'MAX' | 'COUNT' | 'LATEST' | 'MEAN' | 'UNIQUE';
export type TimeFrequency = 'DAY' | 'HOUR' | 'WEEK' | 'MONTH' | 'QUARTER';

export interface FileContent {
  name: string;
  contentType: string;
  data: Buffer;
}

const DIMENSION_MAPS = ['who', 'where', 'what', 'other'] as const;
const NUMERIC_MAPS = ['measure', 'cost', 'income'] as const;

/** A meter selector matches the measurement's meter code, or the id of the seeded meter with that code. */
function meterMatches(state: SandboxState, meterCode: string, selector: string): boolean {
  if (selector === meterCode) return true;
  return state.world.meters.some((m) => m.id === selector && m.code === meterCode);
}

function accountMatches(state: SandboxState, accountCode: string, selector: string): boolean {
  if (selector === accountCode) return true;
  return state.allAccounts().some((a) => a.id === selector && a.code === accountCode);
}

function dimensionValue(m: Measurement, field: string): string | undefined {
  for (const k of DIMENSION_MAPS) {
    const v = m[k]?.[field];
    if (v !== undefined) return v;
  }
  return undefined;
}

function numericValue(m: Measurement, field: string): number | undefined {
  for (const k of NUMERIC_MAPS) {
    const v = m[k]?.[field];
    if (v !== undefined) return v;
  }
  return undefined;
}

export function timeBucket(ms: number, frequency: TimeFrequency): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  switch (frequency) {
    case 'HOUR':
      return Date.UTC(y, mo, d.getUTCDate(), d.getUTCHours());
    case 'DAY':
      return Date.UTC(y, mo, d.getUTCDate());
    case 'WEEK': {
      // ASSUMPTION (docs/m3ter-api.md, Assumptions): weeks start on Monday, as in schedule windows.
      const day = Date.UTC(y, mo, d.getUTCDate());
      const dow = (d.getUTCDay() + 6) % 7;
      return day - dow * 86_400_000;
    }
    case 'MONTH':
      return Date.UTC(y, mo, 1);
    case 'QUARTER':
      return Date.UTC(y, mo - (mo % 3), 1);
  }
}

export function selectMeasurements(state: SandboxState, req: UsageRequest): Measurement[] {
  const start = Date.parse(req.startDate);
  const end = Date.parse(req.endDate);
  return state.measurements.filter((m) => {
    if (m.tsMs < start || m.tsMs >= end) return false;
    if (req.meterIds?.length && !req.meterIds.some((s) => meterMatches(state, m.meter, s))) return false;
    if (req.accountIds?.length && !req.accountIds.some((s) => accountMatches(state, m.account, s)))
      return false;
    // A dimension filter constrains the rows of its own meter; other meters' rows pass through.
    for (const f of req.dimensionFilters ?? []) {
      if (meterMatches(state, m.meter, f.meterId)) {
        const v = dimensionValue(m, f.fieldCode);
        if (v === undefined || !f.values.includes(v)) return false;
      }
    }
    return true;
  });
}

function aggregate(
  fn: AggFunction,
  values: Array<{ v: number | string; ts: number }>,
): number | string | null {
  if (fn === 'COUNT') return values.length;
  if (fn === 'UNIQUE') return new Set(values.map((x) => x.v)).size;
  if (values.length === 0) return null;
  if (fn === 'LATEST') return values.reduce((a, b) => (b.ts >= a.ts ? b : a)).v;
  const nums = values.map((x) => Number(x.v));
  switch (fn) {
    case 'SUM':
      return nums.reduce((a, b) => a + b, 0);
    case 'MIN':
      return Math.min(...nums);
    case 'MAX':
      return Math.max(...nums);
    case 'MEAN':
      return nums.reduce((a, b) => a + b, 0) / nums.length;
  }
}

export function usageRows(
  state: SandboxState,
  req: UsageRequest,
): { columns: string[]; rows: Array<Record<string, unknown>> } {
  const selected = selectMeasurements(state, req);
  if (!req.aggregations?.length) {
    // Raw rows: fixed columns, then every field code seen, sorted (a stable layout for tests).
    const fields = new Set<string>();
    for (const m of selected)
      for (const k of [...DIMENSION_MAPS, ...NUMERIC_MAPS, 'metadata'] as const)
        for (const f of Object.keys(m[k] ?? {})) fields.add(f);
    const fieldCols = [...fields].sort();
    const rows = [...selected]
      .sort((a, b) => a.tsMs - b.tsMs)
      .map((m) => {
        const r: Record<string, unknown> = {
          uid: m.uid,
          meter: m.meter,
          account: m.account,
          ts: iso(m.tsMs),
          ets: m.ets,
        };
        for (const k of [...DIMENSION_MAPS, 'metadata', ...NUMERIC_MAPS] as const)
          Object.assign(r, m[k] ?? {});
        return r;
      });
    return { columns: ['uid', 'meter', 'account', 'ts', 'ets', ...fieldCols], rows };
  }

  const groups = req.groups ?? [];
  const groupCols = groups.map((g) =>
    g.groupType === 'ACCOUNT' ? 'account' : g.groupType === 'TIME' ? 'ts' : g.fieldCode,
  );
  const aggCols = req.aggregations.map((a) => `${a.meterId}.${a.fieldCode}.${a.function}`);
  const buckets = new Map<
    string,
    { key: Record<string, unknown>; values: Array<Array<{ v: number | string; ts: number }>> }
  >();
  for (const m of selected) {
    const inputs = req.aggregations.map((a) => {
      if (!meterMatches(state, m.meter, a.meterId)) return undefined;
      return a.fieldType === 'MEASURE' ? numericValue(m, a.fieldCode) : dimensionValue(m, a.fieldCode);
    });
    if (inputs.every((v) => v === undefined)) continue;
    const key: Record<string, unknown> = {};
    groups.forEach((g, i) => {
      if (g.groupType === 'ACCOUNT') key[groupCols[i]] = m.account;
      else if (g.groupType === 'TIME') key[groupCols[i]] = iso(timeBucket(m.tsMs, g.frequency));
      else
        key[groupCols[i]] = meterMatches(state, m.meter, g.meterId)
          ? (dimensionValue(m, g.fieldCode) ?? '')
          : '';
    });
    const k = JSON.stringify(groupCols.map((c) => key[c]));
    let bucket = buckets.get(k);
    if (!bucket) {
      bucket = { key, values: req.aggregations.map(() => []) };
      buckets.set(k, bucket);
    }
    inputs.forEach((v, i) => {
      if (v !== undefined) bucket.values[i].push({ v, ts: m.tsMs });
    });
  }
  const rows = [...buckets.values()]
    .map((b) => {
      const r: Record<string, unknown> = { ...b.key };
      req.aggregations!.forEach((a, i) => (r[aggCols[i]] = aggregate(a.function, b.values[i])));
      return r;
    })
    .sort((a, b) => {
      for (const c of groupCols) {
        const cmp = String(a[c]).localeCompare(String(b[c]));
        if (cmp !== 0) return cmp;
      }
      return 0;
    });
  return { columns: [...groupCols, ...aggCols], rows };
}

export function usageFile(state: SandboxState, jobId: string, req: UsageRequest): FileContent {
  const { columns, rows } = usageRows(state, req);
  if (req.exportFileFormat === 'JSONL') {
    return {
      name: `${jobId}_measurements.jsonl`,
      contentType: 'application/x-ndjson',
      data: Buffer.from(toJsonl(rows)),
    };
  }
  // SIMPLIFICATION: plain CSV, not gzip (m3ter writes <uuid>_measurements.csv.gz to buckets).
  return {
    name: `${jobId}_measurements.csv`,
    contentType: 'text/csv; charset=utf-8',
    data: Buffer.from(toCsv(columns, rows)),
  };
}

export function entitiesOf(state: SandboxState, type: OperationalDataType): Entity[] {
  const w = state.world;
  switch (type) {
    case 'ACCOUNTS':
      return state.allAccounts();
    case 'METERS':
      return w.meters;
    case 'PRODUCTS':
      return w.products;
    case 'PLANS':
      return w.plans;
    case 'BILLS':
      return w.bills;
    case 'BILL_LINE_ITEMS':
      return w.billLines.map((l) => ({ ...l, id: l.billLineItemId, dtCreated: l.billDate }));
    default:
      return w.generic.get(type) ?? [];
  }
}

/**
 * ASSUMPTION (docs/m3ter-api.md, Assumptions): one `url` for a multi-type export serves ONE file. Each row
 * starts with an `entityType` column (JSONL: an `entityType` property) naming its operational type.
 */
export function operationalFile(
  state: SandboxState,
  jobId: string,
  types: OperationalDataType[],
  startDate: string | undefined,
  format: 'CSV' | 'JSONL' | undefined,
): FileContent {
  const since = startDate ? Date.parse(startDate) : undefined;
  const rows: Array<Record<string, unknown>> = [];
  const columns = ['entityType'];
  for (const type of types) {
    for (const e of entitiesOf(state, type)) {
      const changed = Date.parse(String(e.dtLastModified ?? e.dtCreated ?? ''));
      if (since !== undefined && !(changed >= since)) continue;
      for (const k of Object.keys(e)) if (!columns.includes(k)) columns.push(k);
      rows.push({ entityType: type, ...e });
    }
  }
  const base = types.length === 1 ? `${jobId}_${types[0].toLowerCase()}` : `${jobId}_operational`;
  if (format === 'JSONL')
    return { name: `${base}.jsonl`, contentType: 'application/x-ndjson', data: Buffer.from(toJsonl(rows)) };
  return {
    name: `${base}.csv`,
    contentType: 'text/csv; charset=utf-8',
    data: Buffer.from(toCsv(columns, rows)),
  };
}
