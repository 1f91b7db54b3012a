// Durations as people write them in definition files, CLI flags and environment variables: `90s`, `5m`,
// `30h`, `7d`, `1h30m`, `250ms`. Whole numbers only, units from largest to smallest, each at most once.
//
// Error messages state the rule and never echo the input: a duration may come from an environment
// variable, and values of variables are never printed.

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const EXAMPLES = 'e.g. 90s, 5m, 30h, 7d or 1h30m';
export const DURATION_RULE = `must be a duration such as 90s, 5m, 30h, 7d or 1h30m (units d, h, m, s, ms)`;

/** A duration that does not follow the rules; the message is the rule, without the offending text. */
export class DurationError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

/** `90s` -> 90000. Throws DurationError for anything else, zero and negative durations included. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string' || text.trim() === '') throw new DurationError(DURATION_RULE);
  const s = text.trim();
  if (s.startsWith('-')) throw new DurationError(`must be positive (${EXAMPLES})`);
  if (/^\d+$/.test(s)) throw new DurationError(`needs a unit (${EXAMPLES}; units d, h, m, s, ms)`);
  if (/\d[.,]\d/.test(s)) throw new DurationError(`must use whole numbers (${EXAMPLES}, not 1.5h)`);
  const parts = s.match(/\d+[a-z]+|./gi) ?? [];
  let total = 0;
  let lastUnit = -1;
  for (const part of parts) {
    const m = /^(\d+)([a-z]+)$/i.exec(part);
    if (!m) throw new DurationError(DURATION_RULE);
    const unit = UNITS.findIndex(([name]) => name === m[2]);
    if (unit === -1) throw new DurationError(`has an unknown unit (use d, h, m, s or ms; ${EXAMPLES})`);
    if (unit <= lastUnit) {
      throw new DurationError(`units must go from largest to smallest, each at most once (${EXAMPLES})`);
    }
    lastUnit = unit;
    total += Number(m[1]) * UNITS[unit][1];
  }
  if (!Number.isSafeInteger(total)) throw new DurationError('is too large');
  if (total <= 0) throw new DurationError(`must be greater than 0 (${EXAMPLES})`);
  return total;
}

/** 5400000 -> `1h30m`; the inverse of parseDuration for positive whole milliseconds. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new RangeError('must be a whole number of milliseconds > 0');
  let rest = ms;
  let out = '';
  for (const [name, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${name}`;
      rest -= n * size;
    }
  }
  return out;
}
