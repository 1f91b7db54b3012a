// Client-side pacing against a real sandbox process that enforces m3ter-style rate limits (429).
import { M3terClient, M3terRateLimitError } from '../../../src/m3ter';
import { spawnSandboxProcess, type SandboxProcess } from '../../../tooling/sandbox-process';

describe('M3terClient pacing (real sandbox with a 10 rps Config API limit)', () => {
  let sandbox: SandboxProcess;
  beforeAll(async () => {
    sandbox = await spawnSandboxProcess();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  /**
   * Every test starts from a full server-side bucket of its own: setting the limits replaces the sandbox's
   * buckets, so neither the order of the tests nor the time between them matters.
   */
  async function freshServerLimit(): Promise<void> {
    await sandbox.admin.post('/config', { rateLimits: { config: { ratePerSec: 10, burst: 10 } } });
  }

  // maxAttempts 1: a single 429 fails the call, so every success below is a request the server accepted
  // the first time.
  const burst = (client: M3terClient) =>
    Promise.allSettled(Array.from({ length: 30 }, () => client.listExportJobs({ pageSize: 1 })));

  it('without pacing, a burst of 30 calls meets 429s', async () => {
    await freshServerLimit();
    const unpaced = new M3terClient({ ...sandbox.m3ter, maxAttempts: 1, rateLimits: { config: false } });
    try {
      const results = await burst(unpaced);
      const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(rejected.length).toBeGreaterThan(0);
      for (const reason of rejected) expect(reason).toBeInstanceOf(M3terRateLimitError);
    } finally {
      unpaced.close();
    }
  });

  it('paced below the limit, the same burst gets no 429 at all', async () => {
    await freshServerLimit();
    const paced = new M3terClient({
      ...sandbox.m3ter,
      maxAttempts: 1,
      rateLimits: { config: { ratePerSec: 8, burst: 8 } },
    });
    try {
      const results = await burst(paced);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    } finally {
      paced.close();
    }
  });
});
