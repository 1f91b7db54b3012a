// Export windows: which [start, end) of data one scheduled run, backfill step or re-run exports.
//
// All time-zone arithmetic goes through `Intl.DateTimeFormat`, i.e. through the ICU time-zone data of the
// Node.js process that runs it. That data changes between Node releases (and tzdata updates), so these
// functions must NEVER run inside workflow code: a replay on a worker with other tz data would compute a
// different window. The scheduled-export workflow calls them from a LOCAL ACTIVITY, whose result is
// recorded in history and reused on replay; the CLI and backfill planning call them directly.
//
// Definitions (every boundary is an instant; windows are [start, end) and never empty):
// - hour: the boundaries are the instants at which the zone's wall clock reads a whole hour (hh:00:00).
//   In whole-hour-offset zones these are UTC hours; in +05:30 Asia/Kolkata they fall at :30 UTC. A
//   repeated hour at a fall-back (01:00 twice in Europe/London on 2026-10-25) gives two distinct windows,
//   [00:00Z, 01:00Z) and [01:00Z, 02:00Z); a skipped hour at a spring-forward simply has no window. In
//   the few zones whose offset changes by a fraction of an hour (Australia/Lord_Howe, 30 minutes), the
//   hour spanning the change is 90 minutes long.
// - day: from the first instant of a local date to the first instant of the next one. Usually local
//   midnight to local midnight (23 or 25 hours on DST days). Where midnight does not exist (zones that
//   change clocks at 00:00, e.g. America/Santiago, Asia/Beirut), the day starts at the first instant
//   that exists on that date (01:00 local on a spring-forward day); where midnight repeats, at the first
//   occurrence. A date that a zone skipped entirely (Pacific/Apia, 2011-12-30) has no window.
// - week: ISO weeks, from the start of a Monday (as for days) to the start of the next Monday.
// - month: from the start of the 1st to the start of the 1st of the next month.
//
// Window strings are UTC ISO 8601 with milliseconds and 'Z' (2026-03-29T00:00:00.000Z), as produced by
// `Date.prototype.toISOString`.

export { WindowUnit, WINDOW_UNITS } from '../contract/vocabulary';
import { WindowUnit, WINDOW_UNITS } from '../contract/vocabulary';

/** [start, end) in UTC ISO 8601 with milliseconds and 'Z'. */
export interface ExportWindow {
  start: string;
  end: string;
}

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Inputs

// An ISO string without an offset would be read in the host's time zone by `Date.parse`, which is exactly
// the kind of hidden host dependency this module exists to avoid; so instants must carry Z or an offset.
const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

function toMs(value: Date | string, what: string): number {
  if (value instanceof Date) {
    const t = value.getTime();
    if (Number.isNaN(t)) throw new RangeError(`${what}: invalid Date`);
    return t;
  }
  if (typeof value === 'string' && INSTANT_PATTERN.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  throw new RangeError(
    `${what}: must be a Date or an ISO 8601 instant with Z or an offset (e.g. 2026-03-30T02:00:00Z)`,
  );
}

function checkUnit(unit: WindowUnit): void {
  if (!WINDOW_UNITS.includes(unit)) {
    throw new RangeError(`unit: must be one of ${WINDOW_UNITS.join(', ')}`);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// Time zones

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    if (!isValidTimeZone(timeZone)) {
      throw new RangeError('timeZone: must be an IANA time zone name such as Europe/London or UTC');
    }
    // A fixed locale and numeric fields, so the output format does not depend on the host's locale.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * True for an IANA zone name that Intl knows, spelled as the tz database spells it. Intl also accepts
 * other casings ("europe/london") and, in newer Node versions, offsets ("+05:30"); the Temporal server
 * resolves schedule time zones through its own tz database, case-sensitively, so those are refused.
 */
export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz === '' || tz.trim() !== tz) return false;
  // Every segment of a tz database name starts with an uppercase letter ("America/Port-au-Prince",
  // "Etc/GMT+5", "UTC").
  if (!tz.split('/').every((segment) => /^[A-Z][A-Za-z0-9_+-]*$/.test(segment))) return false;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  // Same name in another casing: Intl fixed the case for us, so the input was not the canonical spelling.
  return resolved === tz || resolved.toLowerCase() !== tz.toLowerCase();
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;

const FORMAT_PATTERN = /^(\d+)\/(\d+)\/(\d+) (AD|BC), (\d+):(\d+):(\d+)$/;

/** Civil fields encoded as milliseconds since the epoch "as if UTC" (so plain arithmetic works on them). */
function civilMs(year: number, month: number, day: number, h = 0, mi = 0, s = 0): number {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(h, mi, s, 0);
  return d.getTime();
}

/** The zone's wall-clock time at instant `t`, encoded as civil milliseconds (see civilMs). */
function wallClock(t: number, timeZone: string): number {
  // Intl formats whole seconds; the sub-second part is the same in every zone (offsets are whole seconds).
  const text = formatterFor(timeZone)
    .format(t)
    .replace(/[\u200e\u200f\u202f\u00a0]/g, ' ');
  const m = FORMAT_PATTERN.exec(text);
  if (!m) throw new Error(`unexpected Intl output for ${timeZone}`);
  const year = m[4] === 'BC' ? 1 - Number(m[3]) : Number(m[3]);
  return civilMs(year, Number(m[1]), Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7])) + mod(t, SECOND);
}

/** UTC offset (ms) of the zone at instant `t`: wall clock minus UTC. */
function offsetAt(t: number, timeZone: string): number {
  return wallClock(t, timeZone) - t;
}

/**
 * The first instant in (lo, hi] whose offset is `offsetAt(hi)`, given that `offsetAt(lo)` differs: the
 * offset change between them. Assumes one change in the interval (tz data has none closer than days).
 */
function findTransition(lo: number, hi: number, timeZone: string): number {
  const target = offsetAt(hi, timeZone);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, timeZone) === target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The earliest instant at which the zone's wall clock reads `wall` or later. For an ordinary wall time
 * that is the instant it occurs; for a repeated one, its first occurrence; for a skipped one (a DST gap),
 * the instant the clocks jump over it.
 */
function firstInstantAtOrAfter(wall: number, timeZone: string): number {
  // Offsets lie within [-12h, +14h], so the instant sought is within a day of `wall`; sampling the
  // offsets a day either side finds both offsets of any change in between.
  const offsets = [...new Set([wall - DAY, wall, wall + DAY].map((t) => offsetAt(t, timeZone)))];
  let best = Infinity;
  for (const o of offsets) {
    const t = wall - o;
    if (t < best && offsetAt(t, timeZone) === o) best = t;
  }
  if (best !== Infinity) return best;
  // A gap: no instant reads exactly `wall`. Wall time rises with the instant across a spring-forward, so
  // search for the first instant reading at least `wall`.
  let lo = wall - Math.max(...offsets); // reads earlier than `wall`
  let hi = wall - Math.min(...offsets); // reads later than `wall`
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClock(mid, timeZone) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

// ---------------------------------------------------------------------------------------------
// Hour boundaries: instants whose wall clock reads hh:00:00.

/** The latest hour boundary <= t. */
function hourFloor(t: number, timeZone: string): number {
  const o = offsetAt(t, timeZone);
  const candidate = t - mod(t + o, HOUR);
  const oc = offsetAt(candidate, timeZone);
  // Same offset: no change in between. A whole-hour change keeps hour boundaries aligned, so the
  // candidate still reads a whole hour and nothing later does.
  if (oc === o || mod(candidate + oc, HOUR) === 0) return candidate;
  // A fractional-hour change in (candidate, t]: no boundary after it (candidate was the last one under
  // the new offset), so the answer is the last boundary under the old offset.
  const change = findTransition(candidate, t, timeZone);
  const before = change - 1;
  return before - mod(before + offsetAt(before, timeZone), HOUR);
}

/** The earliest hour boundary > s, and the offset there (callers iterating pass it back in). */
function hourNext(s: number, timeZone: string, offsetAtS = offsetAt(s, timeZone)): [number, number] {
  const candidate = s + HOUR - mod(s + offsetAtS, HOUR);
  const oc = offsetAt(candidate, timeZone);
  if (oc === offsetAtS || mod(candidate + oc, HOUR) === 0) return [candidate, oc];
  const change = findTransition(s, candidate, timeZone);
  const next = change + mod(-(change + oc), HOUR);
  return [next, oc];
}

// ---------------------------------------------------------------------------------------------
// Day, week and month boundaries: the first instant of a local date (see firstInstantAtOrAfter).

type CalendarUnit = Exclude<WindowUnit, 'hour'>;

/** The civil date (as civil ms at 00:00) that starts the unit's period containing civil date `date`. */
function alignDate(date: number, unit: CalendarUnit): number {
  const d = new Date(date);
  if (unit === 'day') return date;
  if (unit === 'week') return date - mod(d.getUTCDay() - 1, 7) * DAY; // ISO weeks start on Monday
  return civilMs(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function nextDate(date: number, unit: CalendarUnit): number {
  if (unit === 'day') return date + DAY;
  if (unit === 'week') return date + 7 * DAY;
  const d = new Date(date);
  return civilMs(d.getUTCFullYear(), d.getUTCMonth() + 2, 1);
}

/** The latest boundary <= t and the aligned civil date it starts. */
function calendarFloor(t: number, unit: CalendarUnit, timeZone: string): { start: number; date: number } {
  const wall = wallClock(t, timeZone);
  let date = alignDate(wall - mod(wall, DAY), unit);
  let start = firstInstantAtOrAfter(date, timeZone);
  // Where a fall-back crosses midnight backwards, an instant can read an earlier date than a period that
  // already started; move forward to the period it is really in.
  for (;;) {
    const following = nextDate(date, unit);
    const followingStart = firstInstantAtOrAfter(following, timeZone);
    if (followingStart > t) return { start, date };
    date = following;
    start = followingStart;
  }
}

/** The earliest boundary > the boundary `start` of aligned civil date `date`. */
function calendarNext(start: number, date: number, unit: CalendarUnit, timeZone: string) {
  let following = nextDate(date, unit);
  let followingStart = firstInstantAtOrAfter(following, timeZone);
  // A date the zone skipped shares its start with the next one: no empty windows.
  while (followingStart <= start) {
    following = nextDate(following, unit);
    followingStart = firstInstantAtOrAfter(following, timeZone);
  }
  return { start: followingStart, date: following };
}

// ---------------------------------------------------------------------------------------------
// Periods

/** The latest period start <= t. */
function floorStart(t: number, unit: WindowUnit, timeZone: string): number {
  return unit === 'hour' ? hourFloor(t, timeZone) : calendarFloor(t, unit, timeZone).start;
}

/**
 * Lazily walks consecutive periods starting with the one that contains `t`. Each step costs a few
 * Intl calls (one for hours), which keeps counting tens of thousands of hourly windows well under a
 * second.
 */
function* periodsFrom(t: number, unit: WindowUnit, timeZone: string): Generator<[number, number]> {
  if (unit === 'hour') {
    let start = hourFloor(t, timeZone);
    let offset = offsetAt(start, timeZone);
    for (;;) {
      const [end, offsetAtEnd] = hourNext(start, timeZone, offset);
      yield [start, end];
      start = end;
      offset = offsetAtEnd;
    }
  } else {
    let cur = calendarFloor(t, unit, timeZone);
    for (;;) {
      const next = calendarNext(cur.start, cur.date, unit, timeZone);
      yield [cur.start, next.start];
      cur = next;
    }
  }
}

function periodAt(t: number, unit: WindowUnit, timeZone: string): [number, number] {
  const first = periodsFrom(t, unit, timeZone).next();
  if (first.done) throw new Error('unreachable: periodsFrom is infinite');
  return first.value;
}

/** The period (of `unit` in `timeZone`) that contains `instant`. */
export function periodContaining(instant: Date | string, unit: WindowUnit, timeZone: string): ExportWindow {
  checkUnit(unit);
  const [start, end] = periodAt(toMs(instant, 'instant'), unit, timeZone);
  return { start: iso(start), end: iso(end) };
}

/**
 * The window a run with this nominal (scheduled) time exports: the period that ENDS at the start of the
 * nominal time's own period, in `timeZone`. E.g. day, nominal 2026-03-30T02:00 Europe/London ->
 * [2026-03-29T00:00Z, 2026-03-29T23:00Z) (29 March is 23 hours long there).
 */
export function windowForNominalTime(
  nominal: Date | string,
  unit: WindowUnit,
  timeZone: string,
): ExportWindow {
  checkUnit(unit);
  const ownStart = floorStart(toMs(nominal, 'nominal'), unit, timeZone);
  const start = floorStart(ownStart - 1, unit, timeZone);
  return { start: iso(start), end: iso(ownStart) };
}

export interface WindowsInRangeOptions {
  /** At most this many windows (a page). */
  limit?: number;
  /** A window start (UTC ISO): return only windows that start strictly after it (the next page). */
  after?: string;
}

/**
 * Lazily yields every window [start, end) of `unit` whose start is in [from, to), in order; `from` is first
 * floored to the start of its period. Consecutive windows touch: each end is the next start.
 */
export function* iterateWindowsInRange(
  from: Date | string,
  to: Date | string,
  unit: WindowUnit,
  timeZone: string,
  opts: { after?: string } = {},
): Generator<ExportWindow> {
  checkUnit(unit);
  const fromMs = toMs(from, 'from');
  const toMsValue = toMs(to, 'to');
  let begin = floorStart(fromMs, unit, timeZone);
  if (opts.after !== undefined) {
    const afterMs = toMs(opts.after, 'after');
    // The first window starting strictly after `after` (also when `after` is not itself a window start).
    if (afterMs >= begin) begin = periodAt(afterMs, unit, timeZone)[1];
  }
  if (begin >= toMsValue) return;
  for (const [start, end] of periodsFrom(begin, unit, timeZone)) {
    if (start >= toMsValue) return;
    yield { start: iso(start), end: iso(end) };
  }
}

/**
 * Every window [start, end) of `unit` whose start is in [from, to), in order, `from` floored to its
 * period start. Page through long ranges with `limit` and `after` (the last start of the previous page).
 */
export function windowsInRange(
  from: Date | string,
  to: Date | string,
  unit: WindowUnit,
  timeZone: string,
  opts: WindowsInRangeOptions = {},
): ExportWindow[] {
  const limit = opts.limit ?? Infinity;
  if (limit !== Infinity && !(Number.isInteger(limit) && limit >= 1)) {
    throw new RangeError('limit: must be a whole number >= 1');
  }
  const out: ExportWindow[] = [];
  for (const w of iterateWindowsInRange(from, to, unit, timeZone, { after: opts.after })) {
    out.push(w);
    if (out.length >= limit) break;
  }
  return out;
}

/** How many windows `windowsInRange(from, to, unit, timeZone)` returns, without building them. */
export function countWindowsInRange(
  from: Date | string,
  to: Date | string,
  unit: WindowUnit,
  timeZone: string,
): number {
  checkUnit(unit);
  const fromMs = toMs(from, 'from');
  const toMsValue = toMs(to, 'to');
  const begin = floorStart(fromMs, unit, timeZone);
  if (begin >= toMsValue) return 0;
  let n = 0;
  for (const [start] of periodsFrom(begin, unit, timeZone)) {
    if (start >= toMsValue) break;
    n++;
  }
  return n;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The start of local date `date` (YYYY-MM-DD) in `timeZone`, as a UTC instant: local midnight, or the
 * first instant of that date where midnight does not exist. Used for CLI --from/--to dates.
 */
export function localMidnight(date: string, timeZone: string): Date {
  const m = typeof date === 'string' ? DATE_PATTERN.exec(date) : null;
  const civil = m ? civilMs(Number(m[1]), Number(m[2]), Number(m[3])) : NaN;
  // Round-tripping catches 2026-02-30 and friends, which Date would silently roll over.
  if (!m || new Date(civil).toISOString().slice(0, 10) !== date) {
    throw new RangeError('date: must be a calendar date written YYYY-MM-DD (e.g. 2026-03-29)');
  }
  return new Date(firstInstantAtOrAfter(civil, timeZoneChecked(timeZone)));
}

function timeZoneChecked(timeZone: string): string {
  formatterFor(timeZone);
  return timeZone;
}
