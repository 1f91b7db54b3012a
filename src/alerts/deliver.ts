// One HTTP POST of an alert, retried with the project's one retry policy: the status classifier in
// src/contract/failures.ts decides what is worth retrying, src/m3ter/retry.ts computes the backoff and honours Retry-After.
// Never logs or returns the URL: incoming-webhook URLs carry their token in the path.
import axios from 'axios';
import { classifyHttpStatus } from '../contract/failures';
import type { PostedMessage } from '../contract/incidents';
import { redact } from '../log/redact';
import { computeBackoffMs, parseRetryAfterMs } from '../m3ter/retry';

export interface PostOptions {
  /** Attempts in total (default 5). */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Strings to scrub from error messages (the channel's URL and secret). */
  secrets?: string[];
  /** Slack's Web API, for slack channels with a bot token (default https://slack.com/api). */
  slackApiUrl?: string;
}

export interface PostResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
  /** A 2xx answer's body (at most 64 KiB), for channels whose API answers with data (Slack's Web API). */
  body?: string;
  /** The message the channel posted, when it can edit it later (src/alerts/slack-api.ts). */
  posted?: PostedMessage;
}

export const DEFAULT_POST_OPTIONS = { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000, timeoutMs: 10_000 };

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function postJsonWithRetry(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: PostOptions = {},
): Promise<PostResult> {
  const attempts = Math.max(1, opts.attempts ?? DEFAULT_POST_OPTIONS.attempts);
  const sleep = opts.sleep ?? sleepMs;
  let last: PostResult = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let retryAfterMs: number | undefined;
    try {
      const res = await axios.post(url, body, {
        timeout: opts.timeoutMs ?? DEFAULT_POST_OPTIONS.timeoutMs,
        headers: { 'content-type': 'application/json', ...headers },
        validateStatus: () => true,
        // A redirect could forward the alert (and its signature) somewhere unexpected.
        maxRedirects: 0,
        transformRequest: [(d: unknown) => d],
        responseType: 'text',
        // An answer is read only to find a posted message's id: a receiver cannot make it grow unbounded.
        maxContentLength: 1_048_576,
      });
      if (res.status >= 200 && res.status < 300)
        return {
          ok: true,
          attempts: attempt,
          status: res.status,
          ...(typeof res.data === 'string' ? { body: res.data.slice(0, 65_536) } : {}),
        };
      last = { ok: false, attempts: attempt, status: res.status, error: `HTTP ${res.status}` };
      if (!classifyHttpStatus(res.status).retryable) return last;
      retryAfterMs = parseRetryAfterMs(res.headers as Record<string, unknown>, Date.now());
    } catch (err) {
      last = {
        ok: false,
        attempts: attempt,
        error: redact((err as Error).message ?? String(err), opts.secrets),
      };
    }
    if (attempt < attempts) {
      const backoff = computeBackoffMs(attempt - 1, {
        baseDelayMs: opts.baseDelayMs ?? DEFAULT_POST_OPTIONS.baseDelayMs,
        maxDelayMs: opts.maxDelayMs ?? DEFAULT_POST_OPTIONS.maxDelayMs,
        jitter: 'partial',
      });
      // A server's Retry-After wins, within a ceiling that keeps one delivery inside its activity.
      await sleep(retryAfterMs === undefined ? backoff : Math.min(retryAfterMs, 60_000));
    }
  }
  return last;
}
