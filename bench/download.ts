// Download benchmark: throughput of the worker's download path (streamDownloadToStorage: SHA-256 while
// streaming, newline count, temp file, atomic rename) against `curl -o` fetching the SAME presigned URL from
// the SAME sandbox process, every run of ours right after a curl run so both see the same machine state
// (curl's file is flushed and deleted between them, so ours does not pay for curl's writeback, and every
// run starts a few seconds after the last deletion, so neither writes into the other's warm pages). Also the
// RSS growth of this process while ours runs (the target: >= 80 % of curl, RSS growth < 100 MB). Each
// round runs ours twice, once with one full V8 collection forced during it, because the runs after a
// collection are the ones that used to fall apart (src/runtime/heap-flags.ts); and reports CPU with the
// kernel's share apart, because that share is what moves between rounds on a VM.
//
// The sandbox runs as a separate process (as users run it), so its CPU is not taken from our event loop.
//
// S3 rows (when MinIO can be found or built, see test/support/minio.ts): the same file from the sandbox
// through the worker's download path into S3 storage on a local MinIO, against the AWS SDK alone
// (@aws-sdk/lib-storage `Upload`, same part size, concurrency and SHA-256 part checksums) uploading the same
// bytes from a local file, and once more streaming them from the sandbox over HTTP as the worker does: against
// the first, the ratio includes serving the file (the sandbox shares the cores); against the second, it is
// what the worker's hashing, checks and commit cost on top of a streamed upload.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { streamDownloadToStorage } from '../activities/download';
import { createLocalStorage, type ExportStorage } from '../src/storage';
import { createS3Storage, DEFAULT_PART_SIZE } from '../src/storage/s3';
import { startMinio, type RunningMinio } from '../test/support/minio';
import { spawnSandboxProcess } from '../tooling/sandbox-process';
import { cpuSeconds, threadCpu, threadCpuSince, type ThreadCpu } from './rss';
import { finishedUsageJob, jobDownloadOptions } from './sandbox-job';

export interface DownloadBenchOptions {
  sizeBytes: number;
  rounds: number;
  say: (m: string) => void;
}

interface Round {
  tool: 'curl' | 'worker' | 'worker-after-gc' | 'sdk-s3' | 'sdk-s3-http' | 'worker-s3';
  seconds: number;
  bytes: number;
  rssGrowthBytes?: number;
  /** This process's CPU (user + system, seconds) and V8's full mark-compacts while the round ran. */
  cpuSeconds?: number;
  /** The kernel's part of it: page cache, page faults, socket reads. */
  systemSeconds?: number;
  /**
   * The same by thread kind: the event loop (socket reads, hashing, JavaScript) apart from the thread pool
   * (file writes and flushes), because on a VM the kernel's share of one of them can move on its own.
   */
  threads?: ThreadCpu;
  /** The sandbox process's CPU while the round ran (it serves the file on the same cores). */
  sandboxCpuSeconds?: number;
  markCompacts?: number;
  /** curl's rounds: flushing its file afterwards, which the worker's rounds include and curl's do not. */
  fsyncSeconds?: number;
  /** The writer's commit alone (S3: completing the upload and the server-side copy to the final key). */
  commitSeconds?: number;
}

/** `storage` whose writers report how long their commit took. */
function timingCommits(storage: ExportStorage, took: (seconds: number) => void): ExportStorage {
  return {
    ...storage,
    openWriter: async (name, opts) => {
      const writer = await storage.openWriter(name, opts);
      const commit = writer.commit.bind(writer);
      writer.commit = async (finalName) => {
        const started = process.hrtime.bigint();
        try {
          return await commit(finalName);
        } finally {
          took(Number(process.hrtime.bigint() - started) / 1e9);
        }
      };
      return writer;
    },
  };
}

/** ` (event loop user u / system s, thread pool system p)` of a round, or nothing without /proc. */
function byThread(t: ThreadCpu | undefined): string {
  if (!t) return '';
  return (
    ` (event loop user ${t.eventLoop.user.toFixed(2)} / system ${t.eventLoop.system.toFixed(2)} s, ` +
    `thread pool system ${t.threadPool.system.toFixed(2)} s)`
  );
}

/** The body of a GET of `url` (the sandbox's presigned URL, plain HTTP on loopback). */
function httpBody(url: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        if (res.statusCode === 200) return resolve(res);
        res.resume();
        reject(new Error(`GET of the export file answered ${res.statusCode}`));
      })
      .once('error', reject);
  });
}

/** `times`' line for a shell's children (`0m1.250s 0m0.730s`): their user and system CPU seconds. */
function childTimes(line: string): { user: number; system: number } | undefined {
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line.trim());
  if (!m) return undefined;
  return { user: Number(m[1]) * 60 + Number(m[2]), system: Number(m[3]) * 60 + Number(m[4]) };
}

/** curl -o into `file`, through a shell whose `times` reports curl's own CPU beside the worker's. */
function curlTo(
  url: string,
  file: string,
): Promise<{ seconds: number; bytes: number; cpuSeconds?: number; systemSeconds?: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      'bash',
      ['-c', 'curl -sS --fail -o "$1" "$2"; s=$?; times >&3; exit $s', 'bench-curl', file, url],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let times = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => (times += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The presigned URL is a secret: report curl's exit code only, never its arguments.
      if (code !== 0) return reject(new Error(`curl exited with ${code}: ${stderr.split('?')[0]}`));
      const cpu = childTimes(times.split('\n')[1] ?? '');
      resolve({
        seconds,
        bytes: fs.statSync(file).size,
        ...(cpu ? { cpuSeconds: cpu.user + cpu.system, systemSeconds: cpu.system } : {}),
      });
    });
  });
}

/** V8's full collection, callable without starting node with --expose-gc. */
function fullCollection(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * When a worker round forces one full collection: after a few hundred MiB, as a collection started by other
 * work in a worker's process would land in the middle of a download.
 */
const FORCED_COLLECTION_AFTER_MS = 700;

/**
 * CPU seconds per GiB that node:crypto's SHA-256 costs on this machine, in the writer's batch size: work the
 * worker must do (the manifest's checksum) and curl does not.
 */
function sha256CpuPerGiB(): number {
  const batch = crypto.randomBytes(256 * 1024);
  const batches = 1024; // 256 MiB
  const hash = crypto.createHash('sha256');
  const before = process.cpuUsage();
  for (let i = 0; i < batches; i++) hash.update(batch);
  hash.digest();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6 / ((batches * batch.length) / 2 ** 30);
}
/**
 * Pause before every timed run, after the previous run's file was deleted. A VM that reports free memory
 * to its host (virtio-balloon free page reporting) hands freed pages back shortly after they are freed,
 * and writing into pages the host took back costs the kernel more (docs/benchmarks.md, Download). Without
 * the pause the faster tool writes most of its file into the warm pages the other's file just freed and
 * the slower one writes into reclaimed memory; with it, both start from reclaimed memory, as a worker's
 * downloads do.
 */
const SETTLE_MS = 5_000;
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, SETTLE_MS));

/** Runs `fn` and samples this process's RSS meanwhile; returns its result, seconds and the RSS growth. */
async function measured<T>(fn: () => Promise<T>): Promise<{
  value: T;
  seconds: number;
  rssGrowthBytes: number;
  cpuSeconds: number;
  systemSeconds: number;
  threads?: ThreadCpu;
  markCompacts: number;
}> {
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  let markCompacts = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
        markCompacts++;
  });
  gcs.observe({ entryTypes: ['gc'] });
  const cpu = process.cpuUsage();
  const threadsBefore = threadCpu();
  const started = process.hrtime.bigint();
  try {
    const value = await fn();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const threads = threadsBefore && threadCpuSince(threadsBefore);
    peak = Math.max(peak, process.memoryUsage().rss);
    // GC entries are delivered asynchronously: let the last ones arrive.
    await new Promise((r) => setImmediate(r));
    return {
      value,
      seconds,
      rssGrowthBytes: peak - baseline,
      cpuSeconds: (used.user + used.system) / 1e6,
      systemSeconds: used.system / 1e6,
      threads,
      markCompacts,
    };
  } finally {
    clearInterval(sampler);
    gcs.disconnect();
  }
}

export async function benchDownload(opts: DownloadBenchOptions): Promise<string[][]> {
  const { sizeBytes, rounds, say } = opts;
  const sandbox = await spawnSandboxProcess();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-download-'));
  const results: Round[] = [];
  const hashCpuPerGiB = sha256CpuPerGiB();
  let minio: RunningMinio | undefined;
  try {
    const { m3ter, jobId } = await finishedUsageJob(sandbox, sizeBytes);
    const expected = await sandbox.admin.get<{ files: { sha256: string; bytes: number }[] }>(
      `/jobs/${jobId}`,
    );
    say(
      `download: ${(sizeBytes / 2 ** 20).toFixed(0)} MiB file, ${rounds} rounds each of curl and worker; ` +
        `CPU ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}; ` +
        `1-minute load average ${os.loadavg()[0].toFixed(2)}; SHA-256, which the worker computes and curl ` +
        `does not, costs ${hashCpuPerGiB.toFixed(2)} s of CPU per GiB here`,
    );

    /** The worker's download path into `storage`, measured, its SHA-256 checked against the sandbox's. */
    const workerDownload = async (storage: ExportStorage, round: number, label: string) => {
      const run = await measured(() =>
        streamDownloadToStorage({
          storage,
          base: `bench-${round}`,
          ...jobDownloadOptions(m3ter, jobId),
        }),
      );
      if (run.value.committed.sha256 !== expected.files[0].sha256)
        throw new Error(`${label} ${round}: checksum differs from the sandbox's`);
      return run;
    };

    /**
     * curl into a file, then that file flushed and deleted outside curl's time: the next round must not pay
     * for curl's writeback, and the flush is timed apart because the worker's figure includes its own.
     */
    /** `fn`'s result with the sandbox's CPU seconds while it ran. */
    const servedBy = async <T extends object>(
      fn: () => Promise<T>,
    ): Promise<T & { sandboxCpuSeconds?: number }> => {
      // The sandbox serves every tool's file on the same cores: its share tells what was left to the tool.
      const before = cpuSeconds(sandbox.pid);
      const value = await fn();
      const used = cpuSeconds(sandbox.pid) - before;
      return Number.isNaN(used) ? value : { ...value, sandboxCpuSeconds: used };
    };

    const curlRound = async (round: number, variant: string) => {
      const url = (await m3ter.getExportDownloadUrl(jobId)).url;
      const file = path.join(dir, `curl-${round}-${variant}.csv`);
      const c = await servedBy(() => curlTo(url, file));
      const started = process.hrtime.bigint();
      const fd = fs.openSync(file, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      const fsyncSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      fs.rmSync(file, { force: true });
      results.push({ tool: 'curl', ...c, fsyncSeconds });
      return { ...c, fsyncSeconds };
    };

    const collect = fullCollection();
    const variants = [
      { tool: 'worker', label: 'worker' },
      // One full collection forced during the download: whether the rounds after one hold.
      { tool: 'worker-after-gc', label: 'with a full collection' },
    ] as const;
    for (let round = 0; round < rounds; round++) {
      // Each worker round right after a curl round of its own, the two variants taking turns to go first.
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        await settle();
        const c = await curlRound(round, variant.tool);
        await settle();
        const forced =
          variant.tool === 'worker-after-gc' ? setTimeout(collect, FORCED_COLLECTION_AFTER_MS) : undefined;
        const run = await servedBy(() =>
          workerDownload(
            createLocalStorage({ dir: path.join(dir, `${variant.tool}-${round}`) }),
            round,
            variant.label,
          ),
        ).finally(() => clearTimeout(forced));
        fs.rmSync(path.join(dir, `${variant.tool}-${round}`), { recursive: true, force: true });
        results.push({ tool: variant.tool, ...run, bytes: run.value.committed.bytes });
        say(
          `round ${round + 1}: curl ${c.seconds.toFixed(2)} s (CPU ${c.cpuSeconds?.toFixed(2) ?? '?'} s of which ` +
            `system ${c.systemSeconds?.toFixed(2) ?? '?'} s, sandbox ${c.sandboxCpuSeconds?.toFixed(2) ?? '?'} s; ` +
            `then fsync ${c.fsyncSeconds.toFixed(2)} s), ` +
            `${variant.label} ${run.seconds.toFixed(2)} s (CPU ${run.cpuSeconds.toFixed(2)} s of which system ` +
            `${run.systemSeconds.toFixed(2)} s${byThread(run.threads)}, sandbox ` +
            `${run.sandboxCpuSeconds?.toFixed(2) ?? '?'} s, ${run.markCompacts} mark-compacts; sha256 matches)`,
        );
      }
    }

    minio = await startMinio({ log: say }).catch((err: Error) => {
      say(`S3 rows skipped: ${err.message}`);
      return undefined;
    });
    if (minio) {
      const bucket = await minio.createBucket();
      const localFile = path.join(dir, 'source.csv');
      await curlTo((await m3ter.getExportDownloadUrl(jobId)).url, localFile);
      const s3 = createS3Storage({ client: minio.client, bucket, prefix: 'bench' });
      /** The AWS SDK's own Upload of `body` to `key`, measured, the object deleted afterwards. */
      const sdkUpload = async (key: string, body: () => Promise<Readable>) => {
        const run = await measured(async () => {
          const upload = new Upload({
            client: minio!.client,
            params: { Bucket: bucket, Key: key, Body: await body(), ChecksumAlgorithm: 'SHA256' },
            partSize: DEFAULT_PART_SIZE,
            queueSize: 4,
          });
          await upload.done();
        });
        await minio!.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        return run;
      };
      for (let round = 0; round < rounds; round++) {
        const sdk = await sdkUpload(`sdk-${round}.csv`, async () => fs.createReadStream(localFile));
        results.push({ tool: 'sdk-s3', ...sdk, bytes: sizeBytes });
        // The same upload fed as the worker is: the file streamed from the sandbox over HTTP, on the same
        // cores, so the ratio against it is what the worker adds to a streamed upload.
        const sdkHttp = await sdkUpload(`sdk-http-${round}.csv`, async () =>
          httpBody((await m3ter.getExportDownloadUrl(jobId)).url),
        );
        results.push({ tool: 'sdk-s3-http', ...sdkHttp, bytes: sizeBytes });

        let commitSeconds = 0;
        const storage = timingCommits(
          s3.within!({ exportName: 'bench', fallbackDate: '2025-01-01T00:00:00Z' }),
          (s) => (commitSeconds = s),
        );
        const ours = await workerDownload(storage, round, 'S3 round');
        await minio.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: ours.value.committed.path }));
        results.push({ tool: 'worker-s3', ...ours, bytes: ours.value.committed.bytes, commitSeconds });
        say(
          `S3 round ${round + 1}: AWS SDK from a file ${sdk.seconds.toFixed(2)} s, from the sandbox ` +
            `${sdkHttp.seconds.toFixed(2)} s, worker from the sandbox ` +
            `${ours.seconds.toFixed(2)} s of which commit ${commitSeconds.toFixed(2)} s (sha256 matches)`,
        );
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await Promise.allSettled([sandbox.stop(), minio?.stop()]);
    say(`download: done; 1-minute load average ${os.loadavg()[0].toFixed(2)}`);
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const mibPerSec = (r: Round) => r.bytes / 2 ** 20 / r.seconds;
  /** min / median / max of a tool's rounds: one figure hides how much the machine moved under it. */
  const spreadOf = (xs: number[]) =>
    `${Math.min(...xs).toFixed(1)} / ${median(xs).toFixed(1)} / ${Math.max(...xs).toFixed(1)}`;
  const spread = (tool: Round['tool']) => spreadOf(results.filter((r) => r.tool === tool).map(mibPerSec));
  const curlRounds = results.filter((r) => r.tool === 'curl');
  const workerRounds = results.filter((r) => r.tool === 'worker');
  const afterGcRounds = results.filter((r) => r.tool === 'worker-after-gc');
  const curl = median(curlRounds.map(mibPerSec));
  const curlThenFsync = curlRounds.map((r) =>
    mibPerSec({ ...r, seconds: r.seconds + (r.fsyncSeconds ?? 0) }),
  );
  const ours = median(workerRounds.map(mibPerSec));
  const maxRss = (rs: Round[]) => (Math.max(...rs.map((r) => r.rssGrowthBytes ?? 0)) / 2 ** 20).toFixed(1);
  /** CPU per GiB, all / the kernel's (medians of the rounds). */
  const cpuPerGiB = (rs: Round[]) =>
    `${median(rs.map((r) => (r.cpuSeconds ?? 0) / (r.bytes / 2 ** 30))).toFixed(2)} / ` +
    median(rs.map((r) => (r.systemSeconds ?? 0) / (r.bytes / 2 ** 30))).toFixed(2);
  /** The kernel's CPU per GiB in the event loop and in the thread pool (medians), where /proc was read. */
  const systemByThread = (rs: Round[]) => {
    const read = rs.filter((r) => r.threads);
    if (!read.length) return '-';
    const perGiB = (f: (t: ThreadCpu) => number) =>
      median(read.map((r) => f(r.threads!) / (r.bytes / 2 ** 30)));
    return `${perGiB((t) => t.eventLoop.system).toFixed(2)} / ${perGiB((t) => t.threadPool.system).toFixed(2)}`;
  };
  /** CPU per GiB, the kernel's by thread, and the most mark-compacts of a round: what moves the figure. */
  const cpuAndGc = (rs: Round[]) => [
    cpuPerGiB(rs),
    systemByThread(rs),
    String(Math.max(...rs.map((r) => r.markCompacts ?? 0))),
  ];
  /**
   * The sandbox's CPU per GiB while serving the tool, and the cores the two kept busy together (tool and
   * sandbox CPU over wall time; medians): near the machine's core count, the tool had no more to take.
   */
  const served = (rs: Round[]) => {
    const measured = rs.filter((r) => r.sandboxCpuSeconds !== undefined && r.cpuSeconds !== undefined);
    if (!measured.length) return ['-', '-'];
    return [
      median(measured.map((r) => r.sandboxCpuSeconds! / (r.bytes / 2 ** 30))).toFixed(2),
      median(measured.map((r) => (r.cpuSeconds! + r.sandboxCpuSeconds!) / r.seconds)).toFixed(2),
    ];
  };
  const s3Rows: string[][] = [];
  const sdkRounds = results.filter((r) => r.tool === 'sdk-s3');
  const sdkHttpRounds = results.filter((r) => r.tool === 'sdk-s3-http');
  const oursS3Rounds = results.filter((r) => r.tool === 'worker-s3');
  if (sdkRounds.length && oursS3Rounds.length) {
    const sdk = median(sdkRounds.map(mibPerSec));
    const sdkHttp = median(sdkHttpRounds.map(mibPerSec));
    const oursS3 = median(oursS3Rounds.map(mibPerSec));
    const transferOnly = oursS3Rounds.map((r) =>
      mibPerSec({ ...r, seconds: r.seconds - (r.commitSeconds ?? 0) }),
    );
    s3Rows.push(
      [
        'AWS SDK Upload, file -> MinIO',
        (sizeBytes / 2 ** 20).toFixed(0),
        String(rounds),
        spread('sdk-s3'),
        '100 %',
        maxRss(sdkRounds),
        ...cpuAndGc(sdkRounds),
        '-',
        '-',
      ],
      [
        'AWS SDK Upload, sandbox -> MinIO',
        (sizeBytes / 2 ** 20).toFixed(0),
        String(rounds),
        spread('sdk-s3-http'),
        `${((100 * sdkHttp) / sdk).toFixed(0)} % of SDK`,
        maxRss(sdkHttpRounds),
        ...cpuAndGc(sdkHttpRounds),
        '-',
        '-',
      ],
      [
        'worker, sandbox -> MinIO',
        (sizeBytes / 2 ** 20).toFixed(0),
        String(rounds),
        spread('worker-s3'),
        `${((100 * oursS3) / sdk).toFixed(0)} % of SDK (${((100 * oursS3) / sdkHttp).toFixed(0)} % of the SDK from the sandbox)`,
        maxRss(oursS3Rounds),
        ...cpuAndGc(oursS3Rounds),
        '-',
        '-',
      ],
      // The same rounds less their commit (a server-side copy when the final key was taken).
      [
        'worker, its transfer alone',
        (sizeBytes / 2 ** 20).toFixed(0),
        String(rounds),
        spreadOf(transferOnly),
        `${((100 * median(transferOnly)) / sdk).toFixed(0)} % of SDK`,
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
      ],
    );
  }
  return [
    [
      'download',
      'size (MiB)',
      'rounds',
      'MiB/s min / median / max',
      'median vs curl',
      'max RSS growth (MiB)',
      'CPU s per GiB, all / system (median)',
      'system s per GiB, event loop / thread pool',
      'mark-compacts (max)',
      'sandbox CPU s per GiB',
      'cores busy with the sandbox',
    ],
    [
      'curl -o',
      (sizeBytes / 2 ** 20).toFixed(0),
      String(2 * rounds),
      spread('curl'),
      '100 %',
      '-',
      cpuPerGiB(curlRounds),
      '-',
      '-',
      ...served(curlRounds),
    ],
    [
      'curl -o, then fsync',
      (sizeBytes / 2 ** 20).toFixed(0),
      String(2 * rounds),
      spreadOf(curlThenFsync),
      `${((100 * median(curlThenFsync)) / curl).toFixed(0)} %`,
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
    ],
    [
      'worker',
      (sizeBytes / 2 ** 20).toFixed(0),
      String(rounds),
      spread('worker'),
      `${((100 * ours) / curl).toFixed(0)} %`,
      maxRss(workerRounds),
      ...cpuAndGc(workerRounds),
      ...served(workerRounds),
    ],
    [
      'worker, one full collection forced',
      (sizeBytes / 2 ** 20).toFixed(0),
      String(rounds),
      spread('worker-after-gc'),
      `${((100 * median(afterGcRounds.map(mibPerSec))) / curl).toFixed(0)} %`,
      maxRss(afterGcRounds),
      ...cpuAndGc(afterGcRounds),
      ...served(afterGcRounds),
    ],
    ...s3Rows,
  ];
}
