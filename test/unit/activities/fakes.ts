// Small fakes shared by the activity unit tests.
import { sameOwner, type ClaimOwner, type JobClaims } from '../../../activities/claims';
import type { ActivityLogger, M3terExportsApi } from '../../../activities/deps';
import type { ExportJob } from '../../../src/m3ter/schemas';

export const silentLog: ActivityLogger & { lines: Array<{ level: string; obj: object; msg?: string }> } = {
  lines: [],
  debug(obj, msg) {
    this.lines.push({ level: 'debug', obj, msg });
  },
  info(obj, msg) {
    this.lines.push({ level: 'info', obj, msg });
  },
  warn(obj, msg) {
    this.lines.push({ level: 'warn', obj, msg });
  },
  error(obj, msg) {
    this.lines.push({ level: 'error', obj, msg });
  },
};

type Impl = Partial<{ [K in keyof M3terExportsApi]: M3terExportsApi[K] }>;

/** The fake client's request timeout: short, so recovery's wait for other owners' claims is too. */
export const FAKE_REQUEST_TIMEOUT_MS = 50;

/** A fake m3ter client: only the methods a test gives exist; the others fail loudly. */
export function fakeM3ter(impl: Impl): M3terExportsApi & { calls: Record<string, unknown[][]> } {
  const calls: Record<string, unknown[][]> = {};
  const method =
    (name: keyof M3terExportsApi) =>
    (...args: unknown[]) => {
      (calls[name] ??= []).push(args);
      const fn = impl[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (!fn) return Promise.reject(new Error(`unexpected call ${name}`));
      return fn(...args);
    };
  return {
    calls,
    createAdhocExport: method('createAdhocExport'),
    getExportJob: method('getExportJob'),
    listExportJobs: method('listExportJobs'),
    getExportDownloadUrl: method('getExportDownloadUrl'),
    downloadBillsCsv: method('downloadBillsCsv'),
    requestTimeoutMs: impl.requestTimeoutMs ?? FAKE_REQUEST_TIMEOUT_MS,
    apiOrigin: impl.apiOrigin ?? 'https://api.m3ter.invalid',
  } as M3terExportsApi & { calls: Record<string, unknown[][]> };
}

export function job(id: string, over: Partial<ExportJob> = {}): ExportJob {
  return { id, status: 'PENDING', sourceType: 'USAGE', dateCreated: new Date().toISOString(), ...over };
}

import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** A MockActivityEnvironment that does not print the SDK's "Activity failed" lines. */
export function mockEnv(
  info: Partial<Info> = {},
): MockActivityEnvironment & { exec<T>(fn: () => Promise<T>): Promise<T> } {
  const env = new MockActivityEnvironment(info, { logger: quiet });
  // `run`'s generics do not infer the result type of a closure; this typed wrapper does.
  return Object.assign(env, { exec: <T>(fn: () => Promise<T>) => env.run(fn) as Promise<T> });
}

/**
 * An in-memory claim store with the semantics of the real one (activities/claims.ts): the first claim of a
 * job wins, later ones are told the holder. `held` shows and seeds the claims.
 */
export function fakeJobClaims(seed: Record<string, string> = {}): JobClaims & {
  held: Map<string, ClaimOwner>;
  claimCalls: Array<{ jobId: string; owner: ClaimOwner }>;
} {
  const held = new Map<string, ClaimOwner>(
    Object.entries(seed).map(([jobId, workflowId]) => [jobId, { workflowId }]),
  );
  const claimCalls: Array<{ jobId: string; owner: ClaimOwner }> = [];
  return {
    held,
    claimCalls,
    async claim(jobId, owner) {
      claimCalls.push({ jobId, owner });
      const holder = held.get(jobId);
      if (!holder) {
        held.set(jobId, owner);
        return { won: true, holder: owner };
      }
      return { won: sameOwner(holder, owner), holder };
    },
    async owners(ids) {
      const out = new Map<string, ClaimOwner>();
      for (const id of ids) {
        const holder = held.get(id);
        if (holder) out.set(id, holder);
      }
      return out;
    },
  };
}
