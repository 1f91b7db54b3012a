// Many downloads at once: N download activities' worth of streams started together through the worker's
// download path, bounded by its download slots (MAX_CONCURRENT_DOWNLOADS) as the activity bounds them,
// side by side with the slots set as high as N (what an unbounded worker would do). Reports wall time
// and this process's peak RSS growth, the figure a container's memory limit is held against. Into S3 on
// a local MinIO when one can be found or built (an S3 upload holds part buffers: the memory that matters),
// else into local storage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DownloadSlots } from '../activities/download-slots';
import { streamDownloadToStorage } from '../activities/download';
import { createLocalStorage, type ExportStorage } from '../src/storage';
import { createS3Storage } from '../src/storage/s3';
import { startMinio, type RunningMinio } from '../test/support/minio';
import { spawnSandboxProcess } from '../tooling/sandbox-process';
import { finishedUsageJob, jobDownloadOptions } from './sandbox-job';

export interface ConcurrentDownloadsOptions {
  /** Downloads started at once. */
  downloads: number;
  sizeBytes: number;
  /** Slot counts to compare, e.g. the default 8 and `downloads`. */
  slotCounts: number[];
  say: (m: string) => void;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(0);

export async function benchConcurrentDownloads(opts: ConcurrentDownloadsOptions): Promise<string[][]> {
  const { downloads, sizeBytes, slotCounts, say } = opts;
  const sandbox = await spawnSandboxProcess();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-concurrent-'));
  let minio: RunningMinio | undefined;
  const rows: string[][] = [
    ['downloads at once', 'storage', 'size (MiB)', 'slots', 'wall (s)', 'MiB/s', 'peak RSS growth (MiB)'],
  ];
  try {
    const { m3ter, jobId } = await finishedUsageJob(sandbox, sizeBytes);
    minio = await startMinio({ log: say }).catch((err: Error) => {
      say(`concurrent downloads: MinIO unavailable (${err.message}); local storage instead`);
      return undefined;
    });
    let storage: ExportStorage;
    let storageName: string;
    if (minio) {
      const bucket = await minio.createBucket();
      storage = createS3Storage({ client: minio.client, bucket, prefix: 'bench' }).within!({
        exportName: 'bench',
        fallbackDate: '2025-01-01T00:00:00Z',
      });
      storageName = 'S3 (MinIO)';
    } else {
      storage = createLocalStorage({ dir });
      storageName = 'local';
    }
    say(
      `concurrent downloads: ${downloads} x ${mib(sizeBytes)} MiB into ${storageName}; CPU ${os.cpus()[0]?.model ?? '?'} ` +
        `x${os.cpus().length}; 1-minute load average ${os.loadavg()[0].toFixed(2)}`,
    );

    for (const slotCount of slotCounts) {
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      const slots = new DownloadSlots(slotCount);
      const started = process.hrtime.bigint();
      try {
        const results = await Promise.all(
          Array.from({ length: downloads }, (_, i) =>
            streamDownloadToStorage({
              storage,
              base: `bench-${slotCount}-${i}`,
              ...jobDownloadOptions(m3ter, jobId),
              slots,
            }),
          ),
        );
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        peak = Math.max(peak, process.memoryUsage().rss);
        const bytes = results.reduce((n, r) => n + r.committed.bytes, 0);
        rows.push([
          String(downloads),
          storageName,
          mib(sizeBytes),
          String(slotCount),
          seconds.toFixed(1),
          (bytes / 2 ** 20 / seconds).toFixed(1),
          mib(peak - baseline),
        ]);
        say(`slots ${slotCount}: ${seconds.toFixed(1)} s, peak RSS growth ${mib(peak - baseline)} MiB`);
      } finally {
        clearInterval(sampler);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await Promise.allSettled([sandbox.stop(), minio?.stop()]);
  }
  return rows;
}
