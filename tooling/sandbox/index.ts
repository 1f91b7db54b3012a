import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { M3terConfig } from '../../src/config/config';
import { DEFAULT_RATE_LIMITS } from './ratelimit';
import { buildApp } from './server';
import { SandboxState } from './state';
import type { JobTiming, RateClass, RateLimitSpec, RuntimeConfig } from './types';

/**
 * The m3ter sandbox: a local HTTP server that behaves, and fails, like the m3ter endpoints the
 * worker uses (see docs/sandbox.md). It never pretends to be m3ter.
 */
export interface SandboxOptions {
  host?: string;
  port?: number;
  ingestPort?: number;
  seed?: number;
  orgId?: string;
  accessKeyId?: string;
  apiSecret?: string;
  tokenLifetimeSeconds?: number;
  downloadUrlTtlSeconds?: number;
  jobTiming?: JobTiming;
  dataFile?: string;
  rateLimits?: Partial<Record<RateClass, RateLimitSpec>>;
  logger?: boolean;
}

export interface RunningSandbox {
  baseUrl: string;
  ingestUrl: string;
  adminUrl: string;
  orgId: string;
  accessKeyId: string;
  apiSecret: string;
  /** What a worker or M3terClient needs to talk to this sandbox. */
  m3ter: M3terConfig;
  close(): Promise<void>;
}

export const DEFAULT_JOB_TIMING = { pendingMs: 300, runningMs: 700 };

function urlFor(host: string, port: number): string {
  // A wildcard bind is still reached over loopback; IPv6 literals need brackets.
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  const host = opts.host ?? '127.0.0.1';
  const config: RuntimeConfig = {
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 18_000,
    downloadUrlTtlSeconds: opts.downloadUrlTtlSeconds ?? 900,
    jobTiming: opts.jobTiming ?? { ...DEFAULT_JOB_TIMING },
    nextJobOutcome: 'SUCCEEDED',
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...(opts.rateLimits ?? {}) },
  };
  const state = new SandboxState({
    seed: opts.seed ?? 1,
    // One environment configures both the worker and the sandbox; otherwise invent credentials.
    orgId: opts.orgId ?? process.env.M3TER_ORG_ID ?? randomUUID(),
    accessKeyId:
      opts.accessKeyId ?? process.env.M3TER_ACCESS_KEY_ID ?? `sandbox-key-${randomBytes(6).toString('hex')}`,
    apiSecret:
      opts.apiSecret ??
      process.env.M3TER_API_SECRET ??
      `sandbox-secret-${randomBytes(24).toString('base64url')}`,
    dataFile: opts.dataFile,
    config,
  });

  const apps: FastifyInstance[] = [];
  try {
    const main = buildApp(state, { role: 'main', logger: opts.logger ?? false });
    apps.push(main);
    await main.listen({ host, port: opts.port ?? 0 });
    const mainPort = (main.server.address() as { port: number }).port;
    state.baseUrl = urlFor(host, mainPort);
    let ingestUrl = state.baseUrl;
    if (opts.ingestPort !== undefined) {
      const ingest = buildApp(state, { role: 'ingest', logger: opts.logger ?? false });
      apps.push(ingest);
      await ingest.listen({ host, port: opts.ingestPort });
      ingestUrl = urlFor(host, (ingest.server.address() as { port: number }).port);
    }
    let closed = false;
    return {
      baseUrl: state.baseUrl,
      ingestUrl,
      adminUrl: `${state.baseUrl}/_sandbox`,
      orgId: state.orgId,
      accessKeyId: state.accessKeyId,
      apiSecret: state.apiSecret,
      m3ter: {
        orgId: state.orgId,
        accessKeyId: state.accessKeyId,
        apiSecret: state.apiSecret,
        apiUrl: state.baseUrl,
        ingestUrl,
      },
      async close() {
        if (closed) return;
        closed = true;
        await Promise.all(apps.map((a) => a.close()));
        state.saveNow();
      },
    };
  } catch (err) {
    await Promise.allSettled(apps.map((a) => a.close()));
    throw err;
  }
}
