import type { RateClass, RateLimitSpec } from './types';

/**
 * Token buckets per organization and API class (docs/m3ter-api.md, Rate limits): a bucket holds up
 * to `burst` tokens and refills at `ratePerSec`. Buckets use the real monotonic clock, not the sandbox clock: jumping
 * the sandbox clock forward must not hand out a burst of free requests to concurrent tests.
 */
export const DEFAULT_RATE_LIMITS: Record<RateClass, RateLimitSpec> = {
  config: { ratePerSec: 50, burst: 50 },
  dataExplorer: { ratePerSec: 1, burst: 10 },
  ingest: { ratePerSec: 50, burst: 50 },
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private buckets = new Map<string, Bucket>();

  constructor(private limits: Record<RateClass, RateLimitSpec>) {}

  setLimits(limits: Record<RateClass, RateLimitSpec>): void {
    this.limits = limits;
    this.buckets.clear();
  }

  getLimits(): Record<RateClass, RateLimitSpec> {
    return this.limits;
  }

  reset(): void {
    this.buckets.clear();
  }

  /** Takes one token; when none is left, returns how many whole seconds until one is (at least 1). */
  take(
    orgId: string,
    cls: RateClass,
    nowMs: number = performance.now(),
  ): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const spec = this.limits[cls];
    const key = `${orgId}|${cls}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: spec.burst, updatedAt: nowMs };
      this.buckets.set(key, bucket);
    }
    const elapsedSec = Math.max(0, nowMs - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(spec.burst, bucket.tokens + elapsedSec * spec.ratePerSec);
    bucket.updatedAt = nowMs;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    const waitSec = spec.ratePerSec > 0 ? (1 - bucket.tokens) / spec.ratePerSec : 60;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitSec)) };
  }
}
