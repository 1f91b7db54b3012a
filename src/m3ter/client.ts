import { Redactor } from '../log/redact';
import { TokenProvider } from './auth';
import type { Jitter } from './retry';
import { M3terRequestValidationError, M3terResponseValidationError, type ValidationIssue } from './errors';
import { JsonText, Transport, defaultSleep, type HttpMethod, type M3terLogger, type RetryMode } from './http';
import { DEFAULT_CLIENT_RATE_LIMITS, TokenBucket, type RateClass, type RateLimitSpec } from './rate-limit';
import {
  AdhocExportResponseSchema,
  BillsCsvRequestSchema,
  BillsCsvResponseSchema,
  DownloadUrlResponseSchema,
  EvaluateNotificationRequestSchema,
  EvaluateNotificationResponseSchema,
  ExportJobSchema,
  ExportScheduleSchema,
  ListEventsQuerySchema,
  ListExportJobsQuerySchema,
  ListExportSchedulesQuerySchema,
  M3terEventSchema,
  MeasurementsBatchSchema,
  payloadSizeIssue,
  SubmitMeasurementsResponseSchema,
  createAdhocExportRequestSchema,
  lenientPageSchema,
  pageSchema,
  type AdhocExportRequest,
  type BillsCsvRequest,
  type ExportJob,
  type ExportSchedule,
  type ListEventsQuery,
  type ListExportJobsQuery,
  type ListExportSchedulesQuery,
  type M3terEvent,
  type Measurement,
  type Page,
} from './schemas';
import { validateRequest, validateResponse } from './validation';
import type { z } from 'zod';

export interface M3terClientOptions {
  orgId: string;
  accessKeyId: string;
  apiSecret: string;
  /** e.g. https://api.m3ter.com or http://127.0.0.1:PORT */
  apiUrl: string;
  /** Defaults to apiUrl with a leading `api.` host label rewritten to `ingest.`, else apiUrl itself. */
  ingestUrl?: string;
  /** Per request (whole exchange, body included). Default 30 000. */
  timeoutMs?: number;
  /** Total attempts including the first. Default 4. The single re-authentication retry after a 401 is extra. */
  maxAttempts?: number;
  /** Backoff base. Default 500. */
  baseDelayMs?: number;
  /** Backoff cap. Default 8 000. */
  maxDelayMs?: number;
  /** Default `partial` (up to 25 % below the exponential value); `full` draws from [0, value). */
  jitter?: Jitter;
  /** Retry-After values above this are clamped. Default 60 000. */
  maxRetryAfterMs?: number;
  /** Refresh this long before expiry. Default 300 000, never more than half the token lifetime. */
  tokenRefreshSkewMs?: number;
  /**
   * Pace of Config API calls per second (a token bucket with a burst of the same size). Default 25;
   * `rateLimits.config` wins when both are given.
   */
  maxRequestsPerSecond?: number;
  /**
   * Client-side pacing per API class (see rate-limit.ts); `false` turns a class's pacing off. Defaults:
   * Config API 25 rps, Data Explorer 1 rps with bursts of 10, Ingest 15 rps.
   */
  rateLimits?: Partial<Record<RateClass, RateLimitSpec | false>>;
  /** pino-compatible; receives only redacted data. */
  logger?: M3terLogger;
  now?: () => number;
  /** Injectable for tests; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable jitter source; defaults to Math.random. */
  random?: () => number;
}

export type { Page };

const USER_AGENT = 'm3ter-export-worker/0.1';
/** A download URL answer: one URL (at most 16 KiB, see src/net/url-guard.ts) and a time. */
const URL_RESPONSE_MAX_BYTES = 64 * 1024;

/** The one way to build a client: the worker, the CLI and the demo pass `loadConfig().m3ter` plus extras. */
export function createM3terClient(options: M3terClientOptions): M3terClient {
  return new M3terClient(options);
}

/**
 * `https://api.m3ter.com` -> `https://ingest.m3ter.com`; any other host is used as-is
 * (docs/m3ter-api.md, Hosts and paths).
 */
export function deriveIngestUrl(apiUrl: string): string {
  const u = new URL(apiUrl);
  if (u.hostname.startsWith('api.')) u.hostname = `ingest.${u.hostname.slice(4)}`;
  return trimSlash(u.toString());
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function checkOptions(opts: M3terClientOptions): void {
  const issues: ValidationIssue[] = [];
  for (const k of ['orgId', 'accessKeyId', 'apiSecret'] as const) {
    if (typeof opts[k] !== 'string' || opts[k].trim() === '')
      issues.push({ path: k, message: 'is required' });
  }
  for (const k of ['apiUrl', 'ingestUrl'] as const) {
    const v = opts[k];
    if (v === undefined && k === 'ingestUrl') continue;
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(String(v)).protocol);
    } catch {
      ok = false;
    }
    if (!ok) issues.push({ path: k, message: 'must be an http(s) URL' });
  }
  for (const k of [
    'timeoutMs',
    'maxAttempts',
    'baseDelayMs',
    'maxDelayMs',
    'maxRetryAfterMs',
    'tokenRefreshSkewMs',
  ] as const) {
    const v = opts[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0))
      issues.push({ path: k, message: 'must be a finite number >= 0' });
  }
  if (opts.maxAttempts !== undefined && !(Number.isInteger(opts.maxAttempts) && opts.maxAttempts >= 1)) {
    issues.push({ path: 'maxAttempts', message: 'must be an integer >= 1' });
  }
  for (const [rateClass, spec] of Object.entries(opts.rateLimits ?? {})) {
    if (spec === false || spec === undefined) continue;
    if (!(Number.isFinite(spec.ratePerSec) && spec.ratePerSec > 0))
      issues.push({ path: `rateLimits.${rateClass}.ratePerSec`, message: 'must be a number > 0' });
    if (!(Number.isFinite(spec.burst) && spec.burst >= 1))
      issues.push({ path: `rateLimits.${rateClass}.burst`, message: 'must be a number >= 1' });
  }
  if (issues.length > 0) throw new M3terRequestValidationError('Invalid m3ter client options', issues);
}

function requireId(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new M3terRequestValidationError(`Invalid ${name}`, [
      { path: name, message: 'must be a non-empty string' },
    ]);
  }
  return value;
}

/** Query string builder. Arrays are sent repeated (`ids=a&ids=b`), the form m3ter's OpenAPI spec declares. */
function toQuery(q: Record<string, unknown>): URLSearchParams {
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): the live API accepts the repeated form the spec
  // declares (the SDKs send comma-joined); ids never contain commas, so either would be unambiguous.
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, String(item));
    else params.append(k, String(v));
  }
  return params;
}

/**
 * Typed client for the m3ter endpoints the export worker uses. All requests are validated before
 * any HTTP call; all responses are validated against their schema (unknown fields pass through).
 */
export class M3terClient {
  private readonly transport: Transport;
  private readonly tokens: TokenProvider;
  private readonly redactor: Redactor;
  private readonly apiUrl: string;
  private readonly ingestUrl: string;
  private readonly orgPath: string;
  private readonly now: () => number;
  private readonly limiters: Partial<Record<RateClass, TokenBucket>> = {};
  private readonly adhocSchema: ReturnType<typeof createAdhocExportRequestSchema>;
  /**
   * Bound of one request exchange (ms): a request is answered or times out this long after it was sent.
   * The trigger's recovery derives from it how long an ExportJob's owner may still be waiting for its
   * response (activities/trigger.ts).
   */
  readonly requestTimeoutMs: number;
  /**
   * Origin of the configured Config API. Download URLs on it are trusted as the API is (the local sandbox
   * serves its files there); any other download URL must pass src/net/url-guard.ts.
   */
  readonly apiOrigin: string;

  constructor(opts: M3terClientOptions) {
    checkOptions(opts);
    this.requestTimeoutMs = opts.timeoutMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.redactor = new Redactor([opts.apiSecret]);
    this.apiUrl = trimSlash(opts.apiUrl);
    this.apiOrigin = new URL(this.apiUrl).origin;
    this.ingestUrl = trimSlash(opts.ingestUrl ?? deriveIngestUrl(this.apiUrl));
    this.orgPath = `/organizations/${encodeURIComponent(opts.orgId)}`;
    this.adhocSchema = createAdhocExportRequestSchema(this.now);
    this.transport = new Transport({
      timeoutMs: this.requestTimeoutMs,
      maxAttempts: opts.maxAttempts ?? 4,
      baseDelayMs: opts.baseDelayMs ?? 500,
      maxDelayMs: opts.maxDelayMs ?? 8_000,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 60_000,
      jitter: opts.jitter ?? 'partial',
      redactor: this.redactor,
      logger: opts.logger,
      now: this.now,
      sleep: opts.sleep ?? defaultSleep,
      random: opts.random ?? Math.random,
      userAgent: USER_AGENT,
    });
    this.tokens = new TokenProvider({
      transport: this.transport,
      apiUrl: this.apiUrl,
      accessKeyId: opts.accessKeyId,
      apiSecret: opts.apiSecret,
      redactor: this.redactor,
      refreshSkewMs: opts.tokenRefreshSkewMs ?? 300_000,
      now: this.now,
    });
    for (const rateClass of Object.keys(DEFAULT_CLIENT_RATE_LIMITS) as RateClass[]) {
      const paced =
        rateClass === 'config' && opts.maxRequestsPerSecond !== undefined
          ? { ratePerSec: opts.maxRequestsPerSecond, burst: Math.max(1, opts.maxRequestsPerSecond) }
          : undefined;
      const spec = opts.rateLimits?.[rateClass] ?? paced ?? DEFAULT_CLIENT_RATE_LIMITS[rateClass];
      if (spec) this.limiters[rateClass] = new TokenBucket(spec, this.now, opts.sleep ?? defaultSleep);
    }
  }

  /** Redacts a string with this client's registered secrets (API secret, tokens seen so far). */
  redact(text: string): string {
    return this.redactor.redact(text);
  }

  /** Closes pooled keep-alive connections. The client must not be used afterwards. */
  close(): void {
    this.transport.close();
  }

  /**
   * Triggers an ad-hoc export (docs/m3ter-api.md, Ad-hoc export request). NOT retried once the request may
   * have reached m3ter: the
   * endpoint has no idempotency key, so a retried POST after a 5xx or timeout could create a second
   * job. Retried only on connection-never-established errors and 429. On other failures check
   * `err.mayHaveBeenProcessed` and reconcile (e.g. by listing recent jobs) before triggering again.
   */
  async createAdhocExport(req: AdhocExportRequest): Promise<{ jobId: string }> {
    const body = validateRequest(this.adhocSchema, req, 'adhoc export request');
    const res = await this.call('POST', '/dataexports/adhoc', AdhocExportResponseSchema, {
      json: body,
      retry: 'safe-only',
    });
    return { jobId: res.jobId };
  }

  async getExportJob(jobId: string): Promise<ExportJob> {
    const id = requireId(jobId, 'jobId');
    return this.call('GET', `/dataexports/jobs/${encodeURIComponent(id)}`, ExportJobSchema);
  }

  async listExportJobs(query: ListExportJobsQuery = {}): Promise<Page<ExportJob>> {
    const q = validateRequest(ListExportJobsQuerySchema, query, 'export job list query');
    // Lenient: one malformed job must not hide every other job's status from the waiters that share the
    // list call; the page counts what it dropped, and callers that must see every job check `rejected`.
    return this.call('GET', '/dataexports/jobs', lenientPageSchema(ExportJobSchema), { query: toQuery(q) });
  }

  iterateExportJobs(query: Omit<ListExportJobsQuery, 'nextToken'> = {}): AsyncIterable<ExportJob> {
    // Validate eagerly so a bad query fails at the call site, not at the first `next()`.
    validateRequest(ListExportJobsQuerySchema, query, 'export job list query');
    return this.paginate((nextToken) => this.listExportJobs({ ...query, nextToken }));
  }

  async getExportDownloadUrl(jobId: string): Promise<{ url: string; expirationTime?: string }> {
    const id = requireId(jobId, 'jobId');
    const res = await this.call(
      'GET',
      `/dataexports/jobs/${encodeURIComponent(id)}/getdownloadurl`,
      DownloadUrlResponseSchema,
      { maxResponseBytes: URL_RESPONSE_MAX_BYTES },
    );
    return res.expirationTime === undefined
      ? { url: res.url }
      : { url: res.url, expirationTime: res.expirationTime };
  }

  async listExportSchedules(query: ListExportSchedulesQuery = {}): Promise<Page<ExportSchedule>> {
    const q = validateRequest(ListExportSchedulesQuerySchema, query, 'export schedule list query');
    return this.call('GET', '/dataexports/schedules', pageSchema(ExportScheduleSchema), {
      query: toQuery(q),
    });
  }

  async getExportSchedule(id: string): Promise<ExportSchedule> {
    const sid = requireId(id, 'id');
    return this.call('GET', `/dataexports/schedules/${encodeURIComponent(sid)}`, ExportScheduleSchema);
  }

  async listEvents(query: ListEventsQuery = {}): Promise<Page<M3terEvent>> {
    const q = validateRequest(ListEventsQuerySchema, query, 'event list query');
    return this.call('GET', '/events', lenientPageSchema(M3terEventSchema), { query: toQuery(q) });
  }

  /** Newest first (docs/m3ter-api.md, Pagination); follows nextToken until it is missing, null or empty. */
  iterateEvents(query: Omit<ListEventsQuery, 'nextToken'> = {}): AsyncIterable<M3terEvent> {
    validateRequest(ListEventsQuerySchema, query, 'event list query');
    return this.paginate((nextToken) => this.listEvents({ ...query, nextToken }));
  }

  async getEvent(id: string): Promise<M3terEvent> {
    const eid = requireId(id, 'id');
    return this.call('GET', `/events/${encodeURIComponent(eid)}`, M3terEventSchema);
  }

  async downloadBillsCsv(req: BillsCsvRequest): Promise<{ downloadUrl: string }> {
    const body = validateRequest(BillsCsvRequestSchema, req, 'bills CSV request');
    // A read-only query that creates nothing, so the standard retry policy is safe.
    const res = await this.call('POST', '/dataexplorer/bills/download/csv', BillsCsvResponseSchema, {
      json: body,
      maxResponseBytes: URL_RESPONSE_MAX_BYTES,
    });
    return { downloadUrl: res.downloadUrl };
  }

  /**
   * Sends to the ingest host (docs/m3ter-api.md, Hosts and paths). Retried with the standard policy: a
   * duplicate delivery of the same measurements is deduplicated by `uid` (docs/m3ter-api.md, Submit
   * measurements), so callers wanting exactly-once set uids.
   */
  async submitMeasurements(req: { measurements: Measurement[] }): Promise<{ result: string }> {
    const body = validateRequest(MeasurementsBatchSchema, req, 'measurements request');
    // Serialized once: the size rule is checked on the very text that is sent.
    const text = JSON.stringify(body);
    const sizeIssue = payloadSizeIssue(text);
    if (sizeIssue) throw new M3terRequestValidationError('Invalid measurements request', [sizeIssue]);
    const res = await this.call('POST', '/measurements', SubmitMeasurementsResponseSchema, {
      json: new JsonText(text),
      baseUrl: this.ingestUrl,
    });
    return { result: res.result };
  }

  async evaluateNotification(req: {
    calculation: string;
    eventId?: string;
    eventName?: string;
  }): Promise<{ success: boolean; errorMessage?: string | null }> {
    const body = validateRequest(EvaluateNotificationRequestSchema, req, 'notification evaluation request');
    const res = await this.call('POST', '/notifications/evaluate', EvaluateNotificationResponseSchema, {
      json: body,
    });
    return res.errorMessage === undefined
      ? { success: res.success }
      : { success: res.success, errorMessage: res.errorMessage };
  }

  private async call<S extends z.ZodType>(
    method: HttpMethod,
    subPath: string,
    schema: S,
    opts: {
      query?: URLSearchParams;
      json?: unknown;
      retry?: RetryMode;
      baseUrl?: string;
      maxResponseBytes?: number;
    } = {},
  ): Promise<z.output<S>> {
    const path = `${this.orgPath}${subPath}`;
    const baseUrl = opts.baseUrl ?? this.apiUrl;
    const rateClass: RateClass =
      subPath === '/measurements'
        ? 'ingest'
        : subPath.startsWith('/dataexplorer/')
          ? 'dataExplorer'
          : 'config';
    const res = await this.transport.request({
      method,
      baseUrl,
      path,
      query: opts.query,
      json: opts.json,
      retry: opts.retry ?? 'standard',
      auth: this.tokens,
      limiter: this.limiters[rateClass],
      maxResponseBytes: opts.maxResponseBytes,
    });
    return validateResponse(schema, res.body, {
      method,
      path,
      status: res.status,
      requestId: res.requestId,
      attempts: res.attempts,
    });
  }

  private paginate<T>(fetchPage: (nextToken: string | undefined) => Promise<Page<T>>): AsyncIterable<T> {
    return {
      async *[Symbol.asyncIterator]() {
        let token: string | undefined;
        const seen = new Set<string>();
        for (;;) {
          const page = await fetchPage(token);
          yield* page.data;
          if (!page.nextToken) return;
          // A server handing back a token it already gave would loop us forever.
          if (seen.has(page.nextToken)) {
            throw new M3terResponseValidationError('Invalid pagination', [
              { path: 'nextToken', message: 'repeats an earlier page token; refusing to loop' },
            ]);
          }
          seen.add(page.nextToken);
          token = page.nextToken;
        }
      },
    };
  }
}
