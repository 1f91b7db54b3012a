// A finished usage ExportJob on the sandbox, whose file the download benches fetch again and again, and the
// options of the worker's download path that fetch it.
import { M3terClient } from '../src/m3ter';
import type { SandboxProcess } from '../tooling/sandbox-process';

/** Sizes the sandbox's usage files, triggers one export and waits until its job SUCCEEDED. */
export async function finishedUsageJob(
  sandbox: SandboxProcess,
  sizeBytes: number,
): Promise<{ m3ter: M3terClient; jobId: string }> {
  await sandbox.admin.post('/config', {
    usageFileSizeBytes: sizeBytes,
    jobTiming: { pendingMs: 100, runningMs: 200 },
  });
  // Large files stream for a while; the client's default timeout is for API calls.
  const m3ter = new M3terClient({ ...sandbox.m3ter, timeoutMs: 600_000 });
  const { jobId } = await m3ter.createAdhocExport({
    sourceType: 'USAGE',
    startDate: '2025-01-01T00:00:00Z',
    endDate: '2025-01-02T00:00:00Z',
  });
  for (;;) {
    const job = await m3ter.getExportJob(jobId);
    if (job.status === 'SUCCEEDED') return { m3ter, jobId };
    if (job.status === 'FAILED') throw new Error(`sandbox job ${jobId} FAILED`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The worker's download options for that job, quiet and without an activity around them. */
export function jobDownloadOptions(m3ter: M3terClient, jobId: string) {
  return {
    defaultExt: '.csv',
    fetchUrl: async () => (await m3ter.getExportDownloadUrl(jobId)).url,
    urlPolicy: { trustedOrigin: m3ter.apiOrigin },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    clock: { now: () => Date.now() },
    heartbeat: () => undefined,
  };
}
