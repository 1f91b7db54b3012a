// The `webhook` channel: the alert as JSON, signed so the receiver can tell it came from us and is fresh.
//
//   X-M3ter-Exports-Timestamp: <unix seconds>
//   X-M3ter-Exports-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
//
// A receiver recomputes the HMAC over the raw body bytes it received (before any JSON parsing), compares in
// constant time, and rejects timestamps too far from its clock (replays). docs/operations.md, "Alerts and re-runs".
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'X-M3ter-Exports-Timestamp';
export const SIGNATURE_HEADER = 'X-M3ter-Exports-Signature';

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function signedHeaders(secret: string, body: string, now: Date = new Date()): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body) };
}

/** The receiver's check, as documented: signature over "<timestamp>.<body>" and a tolerance on the clock. */
export function verifyWebhookSignature(opts: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  toleranceSeconds?: number;
  now?: Date;
}): boolean {
  if (!opts.timestamp || !opts.signature || !/^\d+$/.test(opts.timestamp)) return false;
  const age = Math.abs((opts.now ?? new Date()).getTime() / 1000 - Number(opts.timestamp));
  if (age > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(webhookSignature(opts.secret, opts.timestamp, opts.body));
  const got = Buffer.from(opts.signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
