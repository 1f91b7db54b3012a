/**
 * The sandbox's notion of "now". Everything time-dependent (token expiry, presigned URL expiry,
 * job state, the 24 h download window, the 28-day event purge) reads this clock, so tests can jump
 * forward with `POST /_sandbox/clock` instead of sleeping.
 */
export class SandboxClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Time only moves forward: going back would let expired tokens and URLs come back to life. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('advanceMs must be a non-negative number');
    this.offsetMs += ms;
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** Used when reloading a data file, so a restart does not rewind an advanced clock. */
  restoreOffset(ms: number): void {
    if (Number.isFinite(ms) && ms > this.offsetMs) this.offsetMs = ms;
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Start of the UTC day containing `ms`. */
export function startOfUtcDay(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}
