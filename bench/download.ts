// Download benchmark: throughput of the worker's download path (streamDownloadToStorage: SHA-256 while
// streaming, newline count, temp file, atomic rename) against `curl -o` fetching the SAME presigned URL from
// the SAME sandbox process, alternating curl / ours per round so both see the same machine state. Also the
// RSS growth of this process while ours runs (the target: >= 70 % of curl, RSS growth < 100 MB).
//
// The sandbox runs as a separate process (as users run it), so its CPU is not taken from our event loop.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { streamDownloadToStorage } from '../activities/download';
import { M3terClient } from '../src/m3ter';
import { createLocalStorage } from '../src/storage';
import { spawnSandboxProcess } from '../test/support/sandbox-process';

export interface DownloadBenchOptions {
  sizeBytes: number;
  rounds: number;
  say: (m: string) => void;
}

interface Round {
  tool: 'curl' | 'worker';
  seconds: number;
  bytes: number;
  rssGrowthBytes?: number;
}

const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

function curlTo(url: string, file: string): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('curl', ['-sS', '--fail', '-o', file, url], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The presigned URL is a secret: report curl's exit code only, never its arguments.
      if (code !== 0) return reject(new Error(`curl exited with ${code}: ${stderr.split('?')[0]}`));
      resolve({ seconds, bytes: fs.statSync(file).size });
    });
  });
}

export async function benchDownload(opts: DownloadBenchOptions): Promise<string[][]> {
  const { sizeBytes, rounds, say } = opts;
  const sandbox = await spawnSandboxProcess();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-download-'));
  const results: Round[] = [];
  try {
    await sandbox.admin.post('/config', {
      usageFileSizeBytes: sizeBytes,
      jobTiming: { pendingMs: 100, runningMs: 200 },
    });
    const m3ter = new M3terClient({ ...sandbox.m3ter, timeoutMs: 600_000 });
    const { jobId } = await m3ter.createAdhocExport({
      sourceType: 'USAGE',
      startDate: '2025-01-01T00:00:00Z',
      endDate: '2025-01-02T00:00:00Z',
    });
    for (;;) {
      const job = await m3ter.getExportJob(jobId);
      if (job.status === 'SUCCEEDED') break;
      if (job.status === 'FAILED') throw new Error(`sandbox job ${jobId} FAILED`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const expected = await sandbox.admin.get<{ files: { sha256: string; bytes: number }[] }>(
      `/jobs/${jobId}`,
    );
    say(`download: ${(sizeBytes / 2 ** 20).toFixed(0)} MiB file, ${rounds} rounds each of curl and worker`);

    for (let round = 0; round < rounds; round++) {
      const url = (await m3ter.getExportDownloadUrl(jobId)).url;
      const curlFile = path.join(dir, `curl-${round}.csv`);
      const c = await curlTo(url, curlFile);
      fs.rmSync(curlFile, { force: true });
      results.push({ tool: 'curl', ...c });

      const storage = createLocalStorage({ dir: path.join(dir, `worker-${round}`) });
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      const started = process.hrtime.bigint();
      const out = await streamDownloadToStorage({
        storage,
        base: `bench-${round}`,
        defaultExt: '.csv',
        fetchUrl: async () => (await m3ter.getExportDownloadUrl(jobId)).url,
        log: silentLog,
        clock: { now: () => Date.now() },
        heartbeat: () => undefined,
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      if (out.committed.sha256 !== expected.files[0].sha256)
        throw new Error(`round ${round}: checksum differs from the sandbox's`);
      fs.rmSync(path.join(dir, `worker-${round}`), { recursive: true, force: true });
      results.push({ tool: 'worker', seconds, bytes: out.committed.bytes, rssGrowthBytes: peak - baseline });
      say(
        `round ${round + 1}: curl ${c.seconds.toFixed(2)} s, worker ${seconds.toFixed(2)} s (sha256 matches)`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await sandbox.stop();
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const mibPerSec = (r: Round) => r.bytes / 2 ** 20 / r.seconds;
  const curl = median(results.filter((r) => r.tool === 'curl').map(mibPerSec));
  const ours = median(results.filter((r) => r.tool === 'worker').map(mibPerSec));
  const rss = Math.max(...results.filter((r) => r.tool === 'worker').map((r) => r.rssGrowthBytes ?? 0));
  return [
    ['download', 'size (MiB)', 'rounds', 'median MiB/s', 'vs curl', 'max RSS growth (MiB)'],
    ['curl -o', (sizeBytes / 2 ** 20).toFixed(0), String(rounds), curl.toFixed(1), '100 %', '-'],
    [
      'worker',
      (sizeBytes / 2 ** 20).toFixed(0),
      String(rounds),
      ours.toFixed(1),
      `${((100 * ours) / curl).toFixed(0)} %`,
      (rss / 2 ** 20).toFixed(1),
    ],
  ];
}
