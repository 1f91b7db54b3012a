// Progress of one download attempt: heartbeats that say how many bytes are stored and how fast, a
// minimum throughput over a sliding window (a server that trickles, or stalls with the connection open,
// fails the attempt in minutes; the next attempt resumes), and the per-export size limit.
import { failure, FailureType } from '../src/contract/failures';

export interface DownloadLimits {
  /** Largest file an export may store (EXPORT_MAX_BYTES); none when absent. */
  maxBytes?: number;
  /** Minimum bytes per second over `throughputWindowMs` (DOWNLOAD_MIN_BYTES_PER_SECOND); 0 turns it off. */
  minBytesPerSecond?: number;
  /** The window over which throughput is measured (DOWNLOAD_THROUGHPUT_WINDOW). */
  throughputWindowMs?: number;
}

export const DEFAULT_MIN_BYTES_PER_SECOND = 16 * 1024;
export const DEFAULT_THROUGHPUT_WINDOW_MS = 2 * 60_000;

/** Samples the bytes received on every tick; `slow()` names the reason once a whole window moved too little. */
export class ThroughputWatch {
  private samples: Array<{ at: number; bytes: number }> = [];
  private readonly minRate: number;
  private readonly windowMs: number;

  constructor(limits: DownloadLimits) {
    this.minRate = limits.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND;
    this.windowMs = limits.throughputWindowMs ?? DEFAULT_THROUGHPUT_WINDOW_MS;
  }

  /** Records a sample; returns bytes per second over the samples held (for the heartbeat). */
  sample(at: number, bytes: number): number {
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1].at >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    return at > first.at ? Math.round(((bytes - first.bytes) * 1000) / (at - first.at)) : 0;
  }

  /** Why the attempt should stop, when the last whole window moved less than the minimum. */
  slow(): string | undefined {
    if (this.minRate <= 0 || this.samples.length < 2) return undefined;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const span = last.at - first.at;
    if (span < this.windowMs) return undefined;
    const rate = ((last.bytes - first.bytes) * 1000) / span;
    if (rate >= this.minRate) return undefined;
    return (
      `download slower than ${this.minRate} B/s over the last ${Math.round(span / 1000)} s ` +
      `(${Math.round(rate)} B/s); giving up this attempt`
    );
  }
}

export function tooLarge(bytes: number, maxBytes: number, announced: boolean) {
  return failure(
    FailureType.ExportTooLarge,
    `the export file is ${announced ? '' : 'at least '}${bytes} bytes, more than EXPORT_MAX_BYTES (${maxBytes})`,
    { details: { bytes, maxBytes } },
  );
}
