/**
 * The transport: one axios instance per client, one retry policy, one error taxonomy.
 *
 * Retries: connection errors, timeouts, 408, 409, 429 and 5xx, bounded by `maxAttempts`; the
 * server's `retry-after-ms` / `Retry-After` wins over backoff (clamped to `maxRetryAfterMs`);
 * `x-should-retry: true|false` overrides the status check as in m3ter's own SDKs (docs/m3ter-api.md,
 * "Official SDK transport behaviour"). The status rules themselves are `classifyHttpStatus` (src/contract/failures.ts).
 *
 * `retry: 'safe-only'` is for non-idempotent calls (the ad-hoc export has no idempotency key, so a
 * duplicate POST creates a second job). It retries only when the request provably did not take
 * effect: the connection was never established (ECONNREFUSED, ENOTFOUND, EAI_AGAIN) or m3ter
 * answered 429, which it returns before processing a throttled request. A 5xx, a timeout or a
 * connection dropped mid-request may all follow a committed request, so they are not retried there;
 * the error's `mayHaveBeenProcessed` tells the caller to reconcile (e.g. list recent jobs) instead.
 *
 * Every response is bounded (`maxResponseBytes`, counted after decompression, so a gzip bomb is cut off
 * at the cap too); a larger one fails with M3terResponseTooLargeError and is not retried here.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import type { Redactor } from '../log/redact';
import { classifyHttpStatus, HttpOutcome } from '../contract/failures';
import { computeBackoffMs, parseRetryAfterMs, type Jitter } from './retry';
import {
  M3terAuthenticationError,
  M3terConnectionError,
  M3terError,
  M3terResponseTooLargeError,
  M3terTimeoutError,
  cleanText,
  errorClassForStatus,
} from './errors';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type RetryMode = 'standard' | 'safe-only' | 'none';

export interface M3terLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface AuthHooks {
  getToken(): Promise<string>;
  /** Drops the cached token if it is still `token` (another caller may already have refreshed it). */
  invalidate(token: string): void;
}

export interface TransportOptions {
  timeoutMs: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  jitter: Jitter;
  redactor: Redactor;
  logger?: M3terLogger;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  userAgent: string;
}

export interface RequestSpec {
  method: HttpMethod;
  /** Absolute base, e.g. https://api.m3ter.com */
  baseUrl: string;
  /** Path only (no query); it is what errors and logs show. */
  path: string;
  query?: URLSearchParams;
  /** A value to send as JSON, or its JSON text already serialized (`JsonText`), sent as is. */
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  retry: RetryMode;
  auth?: AuthHooks;
  /** Paces every attempt, retries included. */
  limiter?: { take(): Promise<void> };
  /** Cap of the (decompressed) response body; default DEFAULT_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** A page of 100 jobs or events is tens of KiB; this leaves ample room and stays far from harm. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** The largest request the client sends (a measurements batch is < 512,000 bytes). */
const MAX_REQUEST_BYTES = 1024 * 1024;

/** A JSON body serialized by the caller, who measured or checked that very text. */
export class JsonText {
  constructor(readonly text: string) {}
}

export interface TransportResponse {
  status: number;
  body: unknown;
  requestId?: string;
  attempts: number;
}

// Errors raised before a single byte reached the server: safe to retry even for non-idempotent calls.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const CONNECTION_CODES = new Set([
  ...NOT_SENT_CODES,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  error: M3terError;
  retryable: boolean;
  safeToRetry: boolean;
  retryAfterMs?: number;
}

export class Transport {
  private readonly axios: AxiosInstance;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  // Non-idempotent requests get a fresh connection: on a pooled keep-alive socket the server may
  // have just closed, the write fails with ECONNRESET and we could not tell whether it arrived.
  // On a new socket the only pre-send failures are refusal/DNS, which are provably safe to retry.
  private readonly freshHttpAgent = new http.Agent({ keepAlive: false });
  private readonly freshHttpsAgent = new https.Agent({ keepAlive: false });

  constructor(private readonly opts: TransportOptions) {
    this.axios = axios.create({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // Status handling and JSON parsing are ours: axios would otherwise throw objects carrying the
      // request config (with the Authorization header) and silently keep unparseable JSON as text.
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      // Bodies are serialized here already; axios would parse a JSON string again to check it.
      transformRequest: [(data: unknown) => data],
      maxRedirects: 0,
      maxContentLength: DEFAULT_MAX_RESPONSE_BYTES,
      maxBodyLength: MAX_REQUEST_BYTES,
    });
  }

  /** Releases pooled keep-alive sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.freshHttpAgent.destroy();
    this.freshHttpsAgent.destroy();
  }

  async request(spec: RequestSpec): Promise<TransportResponse> {
    const { maxAttempts } = this.opts;
    let attempts = 0;
    let budgetUsed = 0; // attempts counted against maxAttempts (the one 401 re-auth retry is not)
    let reauthenticated = false;

    for (;;) {
      attempts++;
      budgetUsed++;
      const token = spec.auth ? await spec.auth.getToken() : undefined;
      await spec.limiter?.take();
      const started = this.opts.now();
      let outcome: Outcome;
      try {
        const res = await this.send(spec, token, attempts);
        const requestId = requestIdOf(res);
        this.log(
          'debug',
          {
            method: spec.method,
            path: spec.path,
            status: res.status,
            attempt: attempts,
            durationMs: this.opts.now() - started,
            requestId,
          },
          'm3ter response',
        );
        if (res.status >= 200 && res.status < 300) {
          return { status: res.status, body: parseBody(res.data), requestId, attempts };
        }
        if (res.status === 401 && spec.auth && token !== undefined && !reauthenticated) {
          // An expired or revoked token: fetch a fresh one and try again once, outside the budget.
          reauthenticated = true;
          budgetUsed--;
          spec.auth.invalidate(token);
          this.log(
            'warn',
            { method: spec.method, path: spec.path, attempt: attempts, requestId },
            'm3ter rejected the access token; refreshing it and retrying once',
          );
          continue;
        }
        outcome = this.statusOutcome(spec, res, attempts, reauthenticated);
      } catch (err) {
        if (err instanceof M3terError) throw err;
        outcome = this.errorOutcome(spec, err, attempts);
      }

      const allowed =
        spec.retry === 'standard'
          ? outcome.retryable
          : spec.retry === 'safe-only'
            ? outcome.safeToRetry
            : false;
      if (!allowed || budgetUsed >= maxAttempts) {
        outcome.error.attempts = attempts;
        throw outcome.error;
      }
      const delay =
        outcome.retryAfterMs !== undefined
          ? outcome.retryAfterMs
          : computeBackoffMs(budgetUsed - 1, {
              baseDelayMs: this.opts.baseDelayMs,
              maxDelayMs: this.opts.maxDelayMs,
              jitter: this.opts.jitter,
              random: this.opts.random,
            });
      this.log(
        'warn',
        {
          method: spec.method,
          path: spec.path,
          attempt: attempts,
          status: outcome.error.status,
          error: outcome.error.name,
          delayMs: delay,
          requestId: outcome.error.requestId,
        },
        'm3ter request failed; retrying',
      );
      await this.opts.sleep(delay);
    }
  }

  private async send(
    spec: RequestSpec,
    token: string | undefined,
    attempt: number,
  ): Promise<AxiosResponse<unknown>> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.opts.userAgent,
      ...spec.headers,
    };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (attempt > 1) headers['X-Retry-Count'] = String(attempt - 1);
    let data: string | undefined;
    if (spec.form) {
      data = new URLSearchParams(spec.form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (spec.json !== undefined) {
      data = spec.json instanceof JsonText ? spec.json.text : JSON.stringify(spec.json);
      headers['Content-Type'] = 'application/json';
    }
    const qs = spec.query?.toString();
    const url = `${spec.baseUrl}${spec.path}${qs ? `?${qs}` : ''}`;

    // A wall-clock deadline for the whole exchange, body included; axios' own `timeout` is a socket
    // idle timer that a slowly trickling response never trips.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.opts.timeoutMs);
    try {
      return await this.axios.request<unknown>({
        method: spec.method,
        url,
        headers,
        data,
        signal: controller.signal,
        maxContentLength: spec.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        ...(spec.retry === 'safe-only'
          ? { httpAgent: this.freshHttpAgent, httpsAgent: this.freshHttpsAgent }
          : {}),
      });
    } catch (err) {
      if (timedOut) throw new TimeoutMarker();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private statusOutcome(
    spec: RequestSpec,
    res: AxiosResponse<unknown>,
    attempts: number,
    reauthenticated: boolean,
  ): Outcome {
    const status = res.status;
    const requestId = requestIdOf(res);
    const body = safeParse(res.data);
    const m3terMessage =
      body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string'
        ? cleanText(this.opts.redactor.redact((body as { message: string }).message))
        : undefined;
    const shouldRetryHeader = headerOf(res, 'x-should-retry');
    const cls = classifyHttpStatus(status);
    let retryable = cls.retryable;
    if (shouldRetryHeader === 'true') retryable = true;
    if (shouldRetryHeader === 'false') retryable = false;
    // Throttled requests were not processed: safe to resend even when the call is not idempotent.
    const safeToRetry = cls.outcome === HttpOutcome.Throttled && shouldRetryHeader !== 'false';
    const rawRetryAfter = parseRetryAfterMs(res.headers as Record<string, unknown>, this.opts.now());
    const retryAfterMs =
      rawRetryAfter === undefined ? undefined : Math.min(rawRetryAfter, this.opts.maxRetryAfterMs);

    const detail = m3terMessage ?? snippet(typeof res.data === 'string' ? res.data : '');
    let message = `m3ter ${spec.method} ${spec.path} failed with HTTP ${status}${detail ? `: ${detail}` : ''}`;
    if (status === 401 && reauthenticated) message += ' (also after refreshing the access token)';
    if (requestId) message += ` [request id ${requestId}]`;
    const ErrorClass = status === 401 ? M3terAuthenticationError : errorClassForStatus(status);
    const error = new ErrorClass(this.opts.redactor.redact(message), {
      status,
      m3terMessage,
      requestId,
      retryable,
      retryAfterMs,
      method: spec.method,
      path: spec.path,
      attempts,
      mayHaveBeenProcessed: cls.mayHaveBeenProcessed,
    });
    return { error, retryable, safeToRetry, retryAfterMs };
  }

  private errorOutcome(spec: RequestSpec, err: unknown, attempts: number): Outcome {
    const base = { method: spec.method, path: spec.path, attempts };
    if (err instanceof TimeoutMarker) {
      const error = new M3terTimeoutError(
        `m3ter ${spec.method} ${spec.path} timed out after ${this.opts.timeoutMs} ms`,
        {
          ...base,
          retryable: true,
          mayHaveBeenProcessed: true,
          cause: { code: 'ETIMEDOUT' },
        },
      );
      return { error, retryable: true, safeToRetry: false };
    }
    const code = errorCode(err);
    const rawMessage = err instanceof Error ? err.message : String(err);
    if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(rawMessage)) {
      const limit = spec.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
      const error = new M3terResponseTooLargeError(
        `Response from ${spec.method} ${spec.path} too large`,
        [{ path: '', message: `exceeds ${limit} bytes (after decompression); refused` }],
        { ...base },
      );
      return { error, retryable: false, safeToRetry: false };
    }
    const isConnection =
      (code !== undefined && CONNECTION_CODES.has(code)) || /socket hang up|network/i.test(rawMessage);
    const notSent = code !== undefined && NOT_SENT_CODES.has(code);
    const safeMessage = this.opts.redactor.redact(rawMessage);
    // The cause keeps only the code and a redacted message: never the axios error, whose config
    // and request carry the Authorization header.
    const cause = { code: code ?? 'UNKNOWN', message: safeMessage };
    if (isConnection) {
      const error = new M3terConnectionError(
        `m3ter ${spec.method} ${spec.path} failed: connection error (${code ?? safeMessage})`,
        { ...base, retryable: true, mayHaveBeenProcessed: !notSent, cause },
      );
      return { error, retryable: true, safeToRetry: notSent };
    }
    const error = new M3terError(`m3ter ${spec.method} ${spec.path} failed: ${safeMessage}`, {
      ...base,
      retryable: false,
      mayHaveBeenProcessed: false,
      cause,
    });
    return { error, retryable: false, safeToRetry: false };
  }

  private log(level: 'debug' | 'warn', obj: Record<string, unknown>, msg: string): void {
    const logger = this.opts.logger;
    if (!logger) return;
    const clean = this.opts.redactor.redactValue(dropUndefined(obj));
    logger[level](clean, this.opts.redactor.redact(msg));
  }
}

class TimeoutMarker extends Error {}

function errorCode(err: unknown): string | undefined {
  if (isAxiosError(err)) {
    const causeCode = (err.cause as { code?: unknown } | undefined)?.code;
    if (typeof causeCode === 'string' && causeCode !== err.code) return causeCode;
    return err.code;
  }
  const c = (err as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

function headerOf(res: AxiosResponse<unknown>, name: string): string | undefined {
  const v = (res.headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v.trim().toLowerCase() : undefined;
}

function requestIdOf(res: AxiosResponse<unknown>): string | undefined {
  const h = res.headers as Record<string, unknown>;
  const v = h['x-request-id'] ?? h['x-amzn-requestid'];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function safeParse(data: unknown): unknown {
  if (typeof data !== 'string' || data === '') return undefined;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

/** 2xx bodies: JSON, or undefined when empty; non-JSON text is returned as-is for the schema to refuse. */
function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  if (data.trim() === '') return undefined;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

function snippet(text: string): string {
  return cleanText(text, 200);
}

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
