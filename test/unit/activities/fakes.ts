// Small fakes shared by the activity unit tests.
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
