// The ExportJob batcher against a real sandbox process: concurrent reads become list calls with `ids`.
import {
  createExportJobBatcher,
  M3terClient,
  M3terNotFoundError,
  M3terServerError,
  type ExportJob,
} from '../../../src/m3ter';
import { spawnSandboxProcess, type SandboxProcess } from '../../../tooling/sandbox-process';

const LIST = 'GET /organizations/:orgId/dataexports/jobs';
const GET = 'GET /organizations/:orgId/dataexports/jobs/:id';

describe('createExportJobBatcher (real sandbox)', () => {
  let sandbox: SandboxProcess;
  let m3ter: M3terClient;
  const jobIds: string[] = [];
  const counters = async () =>
    (await sandbox.admin.get<{ routes: Record<string, number> }>('/counters')).routes;

  beforeAll(async () => {
    sandbox = await spawnSandboxProcess();
    // Creating 120 jobs quickly would otherwise meet the sandbox's 50 rps Config API limit.
    await sandbox.admin.post('/config', {
      rateLimits: { config: { ratePerSec: 10_000, burst: 10_000 } },
      jobTiming: { pendingMs: 60_000, runningMs: 60_000 },
    });
    m3ter = new M3terClient({ ...sandbox.m3ter, maxAttempts: 1, rateLimits: { config: false } });
    for (let i = 0; i < 120; i++) {
      const { jobId } = await m3ter.createAdhocExport({
        sourceType: 'OPERATIONAL',
        operationalDataTypes: ['ACCOUNTS'],
      });
      jobIds.push(jobId);
    }
    await sandbox.admin.post(`/jobs/${jobIds[7]}`, { status: 'SUCCEEDED' });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });
  beforeEach(async () => {
    // Not /reset: it would drop the jobs. Each test counts requests from its own baseline instead.
    await sandbox.admin.del('/faults');
  });

  const delta = async (before: Record<string, number>) => {
    const after = await counters();
    return { list: (after[LIST] ?? 0) - (before[LIST] ?? 0), get: (after[GET] ?? 0) - (before[GET] ?? 0) };
  };

  it('reads 120 jobs with two list calls (100 + 20 ids) and no single reads', async () => {
    const read = createExportJobBatcher(m3ter, { windowMs: 50 });
    const before = await counters();
    const jobs = await Promise.all(jobIds.map((id) => read(id)));
    expect(jobs.map((j) => j.id)).toEqual(jobIds);
    expect(jobs[7].status).toBe('SUCCEEDED');
    expect(jobs.filter((j) => j.status === 'PENDING')).toHaveLength(119);
    expect(await delta(before)).toEqual({ list: 2, get: 0 });
  });

  it("gives every caller of a duplicated id the same job, and an unknown id m3ter's 404", async () => {
    const read = createExportJobBatcher(m3ter, { windowMs: 50 });
    const before = await counters();
    const unknown = '00000000-0000-4000-8000-000000000000';
    const results = await Promise.allSettled([
      read(jobIds[0]),
      read(jobIds[0]),
      read(unknown),
      read(jobIds[1]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<ExportJob>).value.id).toBe(jobIds[0]);
    expect((results[1] as PromiseFulfilledResult<ExportJob>).value.id).toBe(jobIds[0]);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(M3terNotFoundError);
    // One list for the batch, one single read to confirm the missing id.
    expect(await delta(before)).toEqual({ list: 1, get: 1 });
  });

  it('a failed list call fails every read it carried, and the next batch works again', async () => {
    const read = createExportJobBatcher(m3ter, { windowMs: 50 });
    await sandbox.admin.post('/faults', { route: LIST, failNext: { count: 1, status: 500 } });
    const failed = await Promise.allSettled(jobIds.slice(0, 5).map((id) => read(id)));
    for (const r of failed) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(M3terServerError);
    }
    const again = await Promise.all(jobIds.slice(0, 5).map((id) => read(id)));
    expect(again.map((j) => j.id)).toEqual(jobIds.slice(0, 5));
  });
});
