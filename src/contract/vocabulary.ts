// The project's vocabulary, declared once: what kinds of export there are, where a file can go, how windows
// are cut, what a backfill re-runs, how export names and instants are written. Pure (no Node built-ins), so
// workflows, activities, the CLI and the definitions parser all import it.

/** What an export exports: m3ter usage data, operational data, or the Data Explorer bill CSV. */
export const ExportKind = { usage: 'usage', operational: 'operational', bills: 'bills' } as const;
export type ExportKind = (typeof ExportKind)[keyof typeof ExportKind];
export const EXPORT_KINDS = ['usage', 'operational', 'bills'] as const satisfies readonly ExportKind[];

/**
 * Where an export's file goes. `none`: no download; the result holds the job id and URL expiry only.
 * Bill CSVs have no job to come back to, so they refuse `none` (see `storageRuleFor`).
 */
export const StorageMode = { local: 'local', none: 'none', s3: 's3' } as const;
export type StorageMode = (typeof StorageMode)[keyof typeof StorageMode];
export const STORAGE_MODES = ['local', 'none', 's3'] as const satisfies readonly StorageMode[];

/** The storage backends a file can land in: every StorageMode except `none`. */
export type FileStorageMode = Exclude<StorageMode, 'none'>;
export const FILE_STORAGE_MODES = ['local', 's3'] as const satisfies readonly FileStorageMode[];

/** The one rule about storage per kind; undefined when the pair is allowed. */
export function storageRuleFor(kind: ExportKind, storage: StorageMode): string | undefined {
  return kind === ExportKind.bills && storage === StorageMode.none
    ? 'bills exports are always stored: must be local or s3'
    : undefined;
}

/** The length of a window: the calendar period in the definition's time zone. */
export const WindowUnit = { hour: 'hour', day: 'day', week: 'week', month: 'month' } as const;
export type WindowUnit = (typeof WindowUnit)[keyof typeof WindowUnit];
export const WINDOW_UNITS = ['hour', 'day', 'week', 'month'] as const satisfies readonly WindowUnit[];
/** A definition's `window`: a unit, or `none` for a snapshot (operational exports without dates). */
export type DefinitionWindow = WindowUnit | 'none';
export const DEFINITION_WINDOWS = [...WINDOW_UNITS, 'none'] as const;

/** Which windows that already have a run a backfill exports again. */
export const Reprocess = {
  /** Only windows that were never exported (running ones are awaited). */
  none: 'none',
  /** Also windows whose latest run failed (the default). */
  failed: 'failed',
  /** Every window, even those already exported successfully. */
  all: 'all',
} as const;
export type Reprocess = (typeof Reprocess)[keyof typeof Reprocess];
export const REPROCESS_VALUES = ['none', 'failed', 'all'] as const satisfies readonly Reprocess[];

/**
 * Export names (definitions, `--name`, backfills): lowercase letters, digits and dashes, because a name is
 * part of workflow ids, search attributes, file names and shell commands.
 */
export const EXPORT_NAME_PATTERN = /^[a-z0-9-]{1,40}$/;
export const EXPORT_NAME_RULE = 'must match ^[a-z0-9-]{1,40}$ (lowercase letters, digits and dashes)';

/** A UTC instant as ids and window boundaries write it: `2026-03-29T00:00:00Z`, milliseconds optional. */
export const UTC_INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
/** An ISO 8601 instant with `Z` or an offset, as people type them in flags and inputs. */
export const ISO_INSTANT_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
export const ISO_INSTANT_RULE = 'must be an ISO 8601 instant with Z or an offset (e.g. 2026-01-01T00:00:00Z)';

/** The export kind a request describes: USAGE/OPERATIONAL ad-hoc exports, or the bill CSV. */
export function exportKindOf(request: { sourceType?: string } | undefined): ExportKind {
  if (request?.sourceType === 'USAGE') return ExportKind.usage;
  if (request?.sourceType === 'OPERATIONAL') return ExportKind.operational;
  return ExportKind.bills;
}

/**
 * Every identifier m3ter hands us (job, event, schedule ids) before it names anything: a workflow id, a
 * search attribute, a claim, a file, a line on a terminal. m3ter's own ids are UUIDs; the shape leaves
 * room for others while keeping out path separators, whitespace, control characters and oversized values.
 */
export const M3TER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const M3TER_ID_RULE =
  'must be 1-128 characters of letters, digits, . _ : - starting with a letter or digit';
export const isM3terId = (v: unknown): v is string => typeof v === 'string' && M3TER_ID_PATTERN.test(v);
