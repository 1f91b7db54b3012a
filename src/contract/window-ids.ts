// The workflow id of one export window: `export:<kind>:<name>:<windowStartUTC>`, e.g.
// `export:usage:nightly-usage:2026-03-29T00:00:00Z`.
//
// The schedule, a backfill and a re-run of a window all start its export under this id, so a window never
// has two exports running and "the latest run of this id" is the window's state. Pure (no Node built-ins,
// no time-zone data), so workflow code may import this file; it must not import ./windows, whose Intl
// arithmetic is not replay-safe.
import {
  EXPORT_KINDS,
  EXPORT_NAME_PATTERN,
  EXPORT_NAME_RULE,
  UTC_INSTANT_PATTERN,
  type ExportKind,
} from './vocabulary';

export { EXPORT_NAME_PATTERN };

const ID_PATTERN =
  /^export:(usage|operational|bills):([a-z0-9-]{1,40}):(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z)$/;

/**
 * A window start as written in ids: the UTC instant without milliseconds (`2026-03-29T00:00:00Z`).
 * Window boundaries are whole seconds, so nothing is lost; a start with milliseconds keeps them rather
 * than collide with another window.
 */
export function windowStartForId(windowStartUtc: string | Date): string {
  const t = windowStartUtc instanceof Date ? windowStartUtc.getTime() : parseUtc(windowStartUtc);
  if (Number.isNaN(t)) {
    throw new RangeError('windowStart: must be a UTC instant such as 2026-03-29T00:00:00.000Z');
  }
  return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}

function parseUtc(s: string): number {
  // Only explicit UTC: a string without a zone would be read in the host's time zone.
  return typeof s === 'string' && UTC_INSTANT_PATTERN.test(s) ? Date.parse(s) : NaN;
}

/** `export:<kind>:<name>:<windowStartUTC>` for one window of a named export definition. */
export function windowWorkflowId(kind: ExportKind, name: string, windowStartUtc: string | Date): string {
  if (!(EXPORT_KINDS as readonly string[]).includes(kind))
    throw new RangeError(`kind: must be one of ${EXPORT_KINDS.join(', ')}`);
  if (typeof name !== 'string' || !EXPORT_NAME_PATTERN.test(name)) {
    throw new RangeError(`name: ${EXPORT_NAME_RULE}`);
  }
  return `${windowIdPrefix(kind, name)}${windowStartForId(windowStartUtc)}`;
}

/** Alias of `windowWorkflowId`. */
export const windowId = windowWorkflowId;

/** `export:<kind>:<name>:`, the common prefix of every window id of one export (for STARTS_WITH queries). */
export function windowIdPrefix(kind: ExportKind, name: string): string {
  return `export:${kind}:${name}:`;
}

/** The parts of a window workflow id, or undefined for any other id (ad-hoc ids end with a hash). */
export function parseWindowWorkflowId(
  id: string,
): { kind: ExportKind; name: string; windowStart: string } | undefined {
  const m = typeof id === 'string' ? ID_PATTERN.exec(id) : null;
  if (!m || Number.isNaN(Date.parse(m[3]))) return undefined;
  return { kind: m[1] as ExportKind, name: m[2], windowStart: new Date(Date.parse(m[3])).toISOString() };
}
