// Test helpers that speak plain HTTP (global fetch) to the sandbox: written from docs/m3ter-api.md,
// deliberately without our m3ter client.
import { startSandbox, type RunningSandbox, type SandboxOptions } from '../../../tooling/sandbox';

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface Ctx {
  sb: RunningSandbox;
  org: (path: string) => string;
  token: () => Promise<string>;
  api: (
    method: string,
    path: string,
    init?: { body?: unknown; token?: string | null; headers?: Record<string, string>; base?: string },
  ) => Promise<HttpResult>;
  admin: (method: string, path: string, body?: unknown) => Promise<HttpResult>;
  raw: (url: string, init?: RequestInit) => Promise<HttpResult>;
  close: () => Promise<void>;
}

/** Fast defaults for tests: quick jobs and config/ingest rate limits out of the way. */
export async function startCtx(opts: SandboxOptions = {}): Promise<Ctx> {
  const sb = await startSandbox({
    jobTiming: { pendingMs: 100, runningMs: 150 },
    ...opts,
    rateLimits: {
      config: { ratePerSec: 10_000, burst: 10_000 },
      ingest: { ratePerSec: 10_000, burst: 10_000 },
      ...(opts.rateLimits ?? {}),
    },
  });
  let cached: string | undefined;
  const raw = async (url: string, init?: RequestInit): Promise<HttpResult> => {
    const res = await fetch(url, init);
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  const basic = 'Basic ' + Buffer.from(`${sb.accessKeyId}:${sb.apiSecret}`).toString('base64');
  const token = async (): Promise<string> => {
    const r = await raw(`${sb.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
    return r.json.access_token as string;
  };
  const ctx: Ctx = {
    sb,
    org: (path) => `/organizations/${sb.orgId}${path}`,
    token,
    raw,
    api: async (method, path, init = {}) => {
      const send = async (tok: string | null): Promise<HttpResult> => {
        const headers: Record<string, string> = { ...(init.headers ?? {}) };
        if (tok !== null) headers.authorization = `Bearer ${tok}`;
        let body: string | undefined;
        if (init.body !== undefined) {
          body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
          headers['content-type'] ??= 'application/json';
        }
        return raw(`${init.base ?? sb.baseUrl}${path}`, { method, headers, body });
      };
      if (init.token !== undefined) return send(init.token);
      // Like a real client with a cached token: on 401 (e.g. after a clock jump) fetch a new one once.
      const first = await send((cached ??= await token()));
      if (first.status !== 401) return first;
      cached = await token();
      return send(cached);
    },
    admin: (method, path, body) =>
      raw(`${sb.adminUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    close: () => sb.close(),
  };
  return ctx;
}

export const basicAuth = (sb: RunningSandbox, key = sb.accessKeyId, secret = sb.apiSecret): string =>
  'Basic ' + Buffer.from(`${key}:${secret}`).toString('base64');

export async function sandboxNow(ctx: Ctx): Promise<number> {
  const r = await ctx.admin('GET', '/clock');
  return Date.parse(r.json.now);
}

export async function advance(ctx: Ctx, ms: number): Promise<void> {
  const r = await ctx.admin('POST', '/clock', { advanceMs: ms });
  if (r.status !== 200) throw new Error(`clock: ${r.status} ${r.text}`);
}

export function usageBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const end = new Date();
  end.setUTCHours(0, 0, 0, 0);
  const start = new Date(end.getTime() - 7 * 86_400_000);
  return { sourceType: 'USAGE', startDate: start.toISOString(), endDate: end.toISOString(), ...overrides };
}

export async function createJob(
  ctx: Ctx,
  body: Record<string, unknown> = { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] },
): Promise<string> {
  const r = await ctx.api('POST', ctx.org('/dataexports/adhoc'), { body });
  if (r.status !== 200) throw new Error(`adhoc: ${r.status} ${r.text}`);
  return r.json.jobId as string;
}

export async function finishJob(
  ctx: Ctx,
  jobId: string,
  status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED',
): Promise<void> {
  const r = await ctx.admin('POST', `/jobs/${jobId}`, { status });
  if (r.status !== 200) throw new Error(`force: ${r.status} ${r.text}`);
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
