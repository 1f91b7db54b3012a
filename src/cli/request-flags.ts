// Turns CLI flags into m3ter request bodies. Flags only shape the body; the zod schemas in src/m3ter
// decide what is valid, so the CLI and the API client share one set of rules.
import fs from 'node:fs';
import { CliInputError } from './exit-codes';

/** `2025-05-01` is shorthand for midnight UTC; anything else is passed through for the schema to judge. */
export function normaliseDate(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value;
}

/** `--request '{"..."}'` or `--request @file.json`: a whole body, for what flags do not cover. */
export function readRequestOption(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let text = raw;
  if (raw.startsWith('@')) {
    try {
      text = fs.readFileSync(raw.slice(1), 'utf8');
    } catch (err) {
      throw new CliInputError(`--request: cannot read ${raw.slice(1)}: ${(err as Error).message}`);
    }
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new CliInputError(`--request: must be a JSON object (${(err as Error).message})`);
  }
}

function list(values: string[] | undefined): string[] | undefined {
  const out = (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return out.length ? out : undefined;
}

/** `meterId:fieldCode:MEASURE:SUM` */
function parseAggregation(spec: string) {
  const [meterId, fieldCode, fieldType, fn, ...rest] = spec.split(':');
  if (!meterId || !fieldCode || !fieldType || !fn || rest.length) {
    throw new CliInputError(`--aggregation: "${spec}" must be meterId:fieldCode:MEASURE|DIMENSION:FUNCTION`);
  }
  return { meterId, fieldCode, fieldType: fieldType.toUpperCase(), function: fn.toUpperCase() };
}

/** `account`, `time:DAY`, `dimension:meterId:fieldCode` */
function parseGroup(spec: string) {
  const [kind, a, b, ...rest] = spec.split(':');
  switch (kind?.toLowerCase()) {
    case 'account':
      if (a || rest.length) break;
      return { groupType: 'ACCOUNT' };
    case 'time':
      if (!a || b) break;
      return { groupType: 'TIME', frequency: a.toUpperCase() };
    case 'dimension':
      if (!a || !b || rest.length) break;
      return { groupType: 'DIMENSION', meterId: a, fieldCode: b };
  }
  throw new CliInputError(
    `--group: "${spec}" must be account, time:DAY|HOUR|WEEK|MONTH|QUARTER or dimension:meterId:fieldCode`,
  );
}

/** `account=acme,globex` (filter values; `*` matches all) */
function parseDimension(spec: string) {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new CliInputError(`--dimension: "${spec}" must be name=value[,value...]`);
  return {
    name: spec.slice(0, eq),
    filter: spec
      .slice(eq + 1)
      .split(',')
      .filter(Boolean),
  };
}

function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

export interface UsageFlags {
  start?: string;
  end?: string;
  meter?: string[];
  account?: string[];
  aggregation?: string[];
  group?: string[];
  format?: string;
  destination?: string[];
  request?: string;
}
export function usageRequestFromFlags(f: UsageFlags): Record<string, unknown> {
  return defined({
    ...readRequestOption(f.request),
    sourceType: 'USAGE',
    ...defined({
      startDate: normaliseDate(f.start),
      endDate: normaliseDate(f.end),
      meterIds: list(f.meter),
      accountIds: list(f.account),
      aggregations: f.aggregation?.length ? f.aggregation.map(parseAggregation) : undefined,
      groups: f.group?.length ? f.group.map(parseGroup) : undefined,
      exportFileFormat: f.format?.toUpperCase(),
      destinationIds: list(f.destination),
    }),
  });
}

export interface OperationalFlags {
  types?: string[];
  start?: string;
  format?: string;
  destination?: string[];
  request?: string;
}
export function operationalRequestFromFlags(f: OperationalFlags): Record<string, unknown> {
  return defined({
    ...readRequestOption(f.request),
    sourceType: 'OPERATIONAL',
    ...defined({
      operationalDataTypes: list(f.types)?.map((t) => t.toUpperCase()),
      startDate: normaliseDate(f.start),
      exportFileFormat: f.format?.toUpperCase(),
      destinationIds: list(f.destination),
    }),
  });
}

export interface BillsFlags {
  start?: string;
  end?: string;
  lineItemTypes?: string[];
  dimension?: string[];
  limit?: string;
  request?: string;
}
export function billsRequestFromFlags(f: BillsFlags): Record<string, unknown> {
  let limit: number | string | undefined = f.limit;
  if (f.limit !== undefined && /^-?\d+$/.test(f.limit)) limit = Number(f.limit);
  return defined({
    ...readRequestOption(f.request),
    ...defined({
      startDate: normaliseDate(f.start),
      endDate: normaliseDate(f.end),
      lineItemTypes: list(f.lineItemTypes)?.map((t) => t.toUpperCase()),
      dimensions: f.dimension?.length ? f.dimension.map(parseDimension) : undefined,
      limit,
    }),
  });
}
