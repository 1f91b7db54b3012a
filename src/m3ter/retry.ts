/** Retry delay arithmetic shared by every HTTP caller, kept free of I/O so it can be tested exactly. */

export type Jitter = 'partial' | 'full';

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * `partial`: up to 25 % below the exponential value (what m3ter's official SDKs do);
   * `full`: anywhere in [0, value) which spreads a thundering herd more but may retry at once.
   */
  jitter: Jitter;
  random?: () => number;
}

/** Delay before retry number `retryIndex` (0 for the first retry). */
export function computeBackoffMs(retryIndex: number, opts: BackoffOptions): number {
  const random = opts.random ?? Math.random;
  const exp = Math.min(opts.baseDelayMs * 2 ** Math.max(0, retryIndex), opts.maxDelayMs);
  const r = Math.min(Math.max(random(), 0), 1);
  return opts.jitter === 'full' ? Math.floor(exp * r) : Math.round(exp * (1 - 0.25 * r));
}

type HeaderBag = Record<string, unknown> | { get?: (name: string) => unknown };

function header(headers: HeaderBag | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const raw =
    (headers as Record<string, unknown>)[name] ?? (headers as Record<string, unknown>)[name.toLowerCase()];
  const v = Array.isArray(raw) ? raw[0] : raw;
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/**
 * The server-requested wait in ms from `retry-after-ms`, else `Retry-After` (delta-seconds or an
 * HTTP-date), or undefined when neither is present and parseable. A date in the past means 0.
 * Not clamped here; the caller applies its own ceiling.
 */
export function parseRetryAfterMs(headers: HeaderBag | undefined, nowMs: number): number | undefined {
  const msHeader = header(headers, 'retry-after-ms');
  if (msHeader !== undefined && msHeader.trim() !== '') {
    const n = Number(msHeader);
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  }
  const ra = header(headers, 'retry-after')?.trim();
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.ceil(Number(ra) * 1000);
  // HTTP-dates always name a month; without this, Date.parse reads "-5" as the year -5.
  if (!/[a-z]{3}/i.test(ra)) return undefined;
  const at = Date.parse(ra);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
