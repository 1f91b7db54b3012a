// Scale benchmark: N concurrent ad-hoc exports on ONE worker process against a sandbox process that enforces
// m3ter's Config API limit (50 requests per second per Organization). Reports how many completed, how long
// the whole batch took, the worker's peak RSS (the target: 1,000 exports, RSS under 400 MB), and the
// m3ter calls the batch cost: total, per export, and the status reads among them.
import fs from 'node:fs';
import path from 'node:path';
import { spawnWorkerProcess } from '../test/support/worker-process';
import { startBenchStack } from './bench-stack';
import { buildCompiledInstall, memorySettings, type MemorySettings } from './compiled-install';
import { runOperationalExports } from './operational-exports';
import { rssBytes, samplePeakRss } from './rss';
import { statusReads, type SandboxCounters } from './sandbox-counters';

export interface ScaleBenchOptions {
  exports: number;
  runningMs: number;
  /** The worker's allocator and V8 settings (`--scale-memory`; default the image's). */
  memory: MemorySettings;
  say: (m: string) => void;
}

export async function benchScale(opts: ScaleBenchOptions): Promise<{ rows: string[][]; failures: number }> {
  const { exports: n, runningMs, memory, say } = opts;
  const settings = memorySettings(memory);
  const stack = await startBenchStack('scale', say);
  const { temporal, sandbox, client, work: exportDir } = stack;
  const taskQueue = 'bench-scale';
  let failures = 0;
  try {
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 1_000, runningMs } });
    const image = await buildCompiledInstall(path.join(exportDir, '.image'), say, 'scale');
    const worker = (stack.worker = await spawnWorkerProcess(
      {
        ...settings.env,
        ...sandbox.env,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        EXPORT_DIR: exportDir,
        // info, not warn: readiness is read from the SDK's "Worker state changed" line.
        LOG_LEVEL: 'info',
      },
      120_000,
      image,
      process.execPath,
      settings.nodeFlags,
    ));
    const pid = worker.pid;
    const idleRss = rssBytes(pid);
    const sampler = samplePeakRss([pid]);
    say(
      `scale: ${n} exports, each job RUNNING ${runningMs / 1000} s, one worker (pid ${pid}, memory settings ${memory})`,
    );

    const { results, seconds } = await runOperationalExports(client, {
      exports: n,
      taskQueue,
      label: 'scale',
      say,
    });
    sampler.stop();
    const [peakRss] = sampler.peaks();
    failures = results.filter((r) => r.status === 'rejected').length;
    const counters = await sandbox.admin.get<SandboxCounters>('/counters');
    const files = fs
      .readdirSync(exportDir)
      .filter((f) => !f.endsWith('.manifest.json') && !f.startsWith('.'));
    return {
      failures,
      rows: [
        [
          'memory settings',
          'exports',
          'completed',
          'files',
          'wall (s)',
          'worker RSS idle (MiB)',
          'worker RSS peak (MiB)',
          'm3ter calls',
          'calls/export',
          'status reads',
        ],
        [
          memory,
          String(n),
          String(n - failures),
          String(files.length),
          seconds.toFixed(1),
          (idleRss / 2 ** 20).toFixed(0),
          (peakRss / 2 ** 20).toFixed(0),
          String(counters.total),
          (counters.total / n).toFixed(2),
          String(statusReads(counters)),
        ],
      ],
    };
  } finally {
    await stack.stop();
  }
}
