// Client-side pacing, so one worker stays inside m3ter's published limits (docs/m3ter-api.md, Rate limits)
// instead of learning them from 429s: the Config API allows 50 requests per second per Organization,
// shared by every client of that org; Data Explorer 1 per second with bursts of 10; the Ingest API 50 per second per org
// and ~16 per second per source IP. A token bucket per API class; callers wait their turn in FIFO order.

export interface RateLimitSpec {
  /** Sustained requests per second. */
  ratePerSec: number;
  /** Requests allowed at once after a quiet period. */
  burst: number;
}

export type RateClass = 'config' | 'dataExplorer' | 'ingest';

/**
 * Defaults for ONE client. Config is half the org-wide limit, leaving the rest to other workers, the m3ter
 * console and integrations of the same org; `M3TER_MAX_REQUESTS_PER_SECOND` changes it.
 */
export const DEFAULT_CLIENT_RATE_LIMITS: Record<RateClass, RateLimitSpec> = {
  config: { ratePerSec: 25, burst: 25 },
  dataExplorer: { ratePerSec: 1, burst: 10 },
  ingest: { ratePerSec: 15, burst: 15 },
};

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly spec: RateLimitSpec,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.tokens = spec.burst;
    this.updatedAt = now();
  }

  /** Resolves when the caller may send one request. */
  take(): Promise<void> {
    const turn = this.tail.then(async () => {
      this.refill();
      if (this.tokens < 1) {
        await this.sleep(Math.ceil(((1 - this.tokens) / this.spec.ratePerSec) * 1000));
        this.refill();
      }
      this.tokens -= 1;
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(
      this.spec.burst,
      this.tokens + ((t - this.updatedAt) / 1000) * this.spec.ratePerSec,
    );
    this.updatedAt = t;
  }
}
