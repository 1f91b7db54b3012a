// Client-side pacing against a real sandbox process that enforces m3ter-style rate limits (429).
import { M3terClient, M3terRateLimitError } from '../../../src/m3ter';
import { spawnSandboxProcess, type SandboxProcess } from '../../support/sandbox-process';

describe('M3terClient pacing (real sandbox with a 10 rps Config API limit)', () => {
  let sandbox: SandboxProcess;
  beforeAll(async () => {
    sandbox = await spawnSandboxProcess();
    await sandbox.admin.post('/config', { rateLimits: { config: { ratePerSec: 10, burst: 10 } } });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  // maxAttempts 1: a single 429 fails the call, so every success below is a request the server accepted
  // the first time.
  const burst = (client: M3terClient) =>
    Promise.allSettled(Array.from({ length: 30 }, () => client.listExportJobs({ pageSize: 1 })));

  it('without pacing, a burst of 30 calls meets 429s', async () => {
    const unpaced = new M3terClient({ ...sandbox.m3ter, maxAttempts: 1, rateLimits: { config: false } });
    const results = await burst(unpaced);
    const limited = results.filter((r) => r.status === 'rejected' && r.reason instanceof M3terRateLimitError);
    expect(limited.length).toBeGreaterThan(0);
    unpaced.close();
    // Let the sandbox's bucket refill before the next test.
    await new Promise((r) => setTimeout(r, 1500));
  });

  it('paced below the limit, the same burst gets no 429 at all', async () => {
    const paced = new M3terClient({
      ...sandbox.m3ter,
      maxAttempts: 1,
      rateLimits: { config: { ratePerSec: 8, burst: 8 } },
    });
    const results = await burst(paced);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    paced.close();
  });
});
