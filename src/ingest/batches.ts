// Packs measurements into request bodies: at most `maxCount` measurements and fewer than `maxBytes` bytes
// of JSON body each, measured exactly as the client serialises the body (JSON.stringify, UTF-8).
import { MAX_MEASUREMENTS_PAYLOAD_BYTES, MAX_MEASUREMENTS_PER_REQUEST } from '../m3ter/schemas';
import { BODY_ENVELOPE_BYTES } from './rows';

export interface BatchLimits {
  /** Measurements per request. Default and maximum 1000 (m3ter's limit). */
  maxCount?: number;
  /** A body must be strictly smaller than this. Default and maximum 512,000 (m3ter's limit). */
  maxBytes?: number;
}

export function batchLimits(l: BatchLimits = {}): Required<BatchLimits> {
  return {
    maxCount: Math.min(l.maxCount ?? MAX_MEASUREMENTS_PER_REQUEST, MAX_MEASUREMENTS_PER_REQUEST),
    maxBytes: Math.min(l.maxBytes ?? MAX_MEASUREMENTS_PAYLOAD_BYTES, MAX_MEASUREMENTS_PAYLOAD_BYTES),
  };
}

/** The running size of one request body as measurements are added. */
export class BodySize {
  count = 0;
  bytes = BODY_ENVELOPE_BYTES;

  constructor(private readonly limits: Required<BatchLimits>) {}

  /** Whether a measurement of `itemBytes` still fits. */
  fits(itemBytes: number): boolean {
    if (this.count >= this.limits.maxCount) return false;
    return this.bytes + itemBytes + (this.count > 0 ? 1 : 0) < this.limits.maxBytes;
  }

  add(itemBytes: number): void {
    this.bytes += itemBytes + (this.count > 0 ? 1 : 0);
    this.count += 1;
  }
}

/** Bytes of the body `{"measurements":[...]}` holding measurements of these sizes. */
export function bodyBytes(itemBytes: readonly number[]): number {
  return BODY_ENVELOPE_BYTES + itemBytes.reduce((a, b) => a + b, 0) + Math.max(0, itemBytes.length - 1);
}
