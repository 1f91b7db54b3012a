// Ingest benchmark: one file of measurements through ONE worker process against a sandbox process that
// enforces m3ter's Ingest limit (50 requests/s per Organization). Reports the CLI's check of the file, the
// send's wall time against its floor (batches needed / the rate), requests per batch, the 429s met, the
// worker's peak RSS, the parent's runs (continue-as-new), and duplicates: measurements the sandbox
// received again under a uid it had stored (must be 0 without faults) and measurements stored.
import fs from 'node:fs';
import path from 'node:path';
import type { ingestWorkflow } from '../workflows/ingest';
import { ingestProgressQuery } from '../src/contract/ingest';
import { checkFile } from '../src/ingest/check-file';
import { ingestInput } from '../src/cli/ingest-command';
import { spawnWorkerProcess } from '../test/support/worker-process';
import { startBenchStack } from './bench-stack';
import { buildCompiledInstall, imageAllocatorEnv } from './compiled-install';
import { cpuSeconds, mib, rssBytes, samplePeakRss } from './rss';

export interface IngestBenchOptions {
  measurements: number;
  /** The sandbox's Ingest limit and the deployment's Ingest budget (requests per second). */
  ratePerSec: number;
  /** Batches in flight (the workflow's `concurrency`). */
  concurrency: number;
  say: (m: string) => void;
}

async function writeFile(file: string, n: number): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('meter,account,ts,measure.quantity,where.region\n');
  const regions = ['eu-west-1', 'us-east-1', 'ap-south-1'];
  for (let i = 0; i < n; i++) {
    const ts = new Date(Date.UTC(2026, 0, 1) + (i % 86_400) * 1000).toISOString();
    if (!out.write(`api-calls,acct-00${1 + (i % 5)},${ts},${i % 1000},${regions[i % 3]}\n`))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

export async function benchIngest(opts: IngestBenchOptions): Promise<{ rows: string[][]; failures: number }> {
  const { measurements, ratePerSec, concurrency, say } = opts;
  const stack = await startBenchStack('ingest', say);
  const { temporal, sandbox, client, work } = stack;
  const taskQueue = 'bench-ingest';
  try {
    await sandbox.admin.post('/config', { rateLimits: { ingest: { ratePerSec, burst: ratePerSec } } });
    const file = path.join(work, 'measurements.csv');
    say(`ingest: writing ${measurements} measurements ...`);
    await writeFile(file, measurements);
    say('ingest: checking the file as the CLI does ...');
    const checkStarted = Date.now();
    const checked = await checkFile({ kind: 'local', path: file });
    const checkMs = Date.now() - checkStarted;
    if (!checked.file) throw new Error(`bench file refused: ${JSON.stringify(checked.issues.slice(0, 3))}`);

    const image = await buildCompiledInstall(path.join(work, '.image'), say, 'ingest');
    const worker = (stack.worker = await spawnWorkerProcess(
      {
        ...imageAllocatorEnv(),
        ...sandbox.env,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        EXPORT_DIR: path.join(work, 'exports'),
        M3TER_INGEST_REQUESTS_PER_SECOND: String(ratePerSec),
        LOG_LEVEL: 'info',
      },
      120_000,
      image,
    ));
    const idleRss = rssBytes(worker.pid);
    const rss = samplePeakRss([worker.pid]);
    const workflowId = `bench-ingest-${Date.now()}`;
    // Where the machine's CPU goes while the file is sent: the worker, the sandbox standing in for m3ter,
    // the Temporal dev server.
    const cpuPids = [worker.pid, sandbox.pid, temporal.pid ?? NaN];
    const cpuBefore = cpuPids.map(cpuSeconds);
    const started = Date.now();
    const handle = await client.workflow.start<typeof ingestWorkflow>('ingestWorkflow', {
      taskQueue,
      workflowId,
      args: [ingestInput(checked.file, { files: [], settleMs: 2_000, concurrency })],
    });
    const progress = setInterval(() => {
      handle
        .query(ingestProgressQuery)
        .then((p) => say(`ingest: ${p.rowsSent}/${p.rowsTotal} lines, ${p.batchesSent} batches`))
        .catch(() => undefined);
    }, 5_000);
    let result;
    try {
      result = await handle.result();
    } finally {
      clearInterval(progress);
    }
    rss.stop();
    const cpuUsed = cpuPids.map((pid, i) => (cpuSeconds(pid) - cpuBefore[i]).toFixed(1));
    const [peakRss] = rss.peaks();
    // Sending: from the workflow's start to its last batch (the settle period is waiting, not sending).
    const wallMs = Date.parse(result.lastBatchAt!) - started;
    const floorMs = (result.batchesSent / ratePerSec) * 1000;
    const stored = await sandbox.admin.get<{ count: number; duplicatesReceived: number }>('/measurements');
    const counters = await sandbox.admin.get<{ rateLimited: number }>('/counters');
    // The rate the sandbox saw, first to last arrival: the pipeline's pace without start-up and settle.
    const arrivals = (
      await sandbox.admin.get<{ data: Array<{ at: number }> }>('/requests?rateClass=ingest')
    ).data.map((e) => e.at);
    const arrivalRate =
      arrivals.length > 1
        ? (arrivals.length - 1) / ((arrivals[arrivals.length - 1] - arrivals[0]) / 1000)
        : NaN;
    const runs: number[] = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const h = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      runs.push(h.events?.length ?? 0);
    }
    const failures =
      (result.rejections?.rejected ?? 1) + stored.duplicatesReceived + Math.abs(stored.count - measurements);
    return {
      failures,
      rows: [
        ['figure', 'value'],
        ['measurements (one CSV file)', String(measurements)],
        ['file size (MiB)', mib(checked.file.sizeBytes)],
        ['check before sending (s)', (checkMs / 1000).toFixed(1)],
        ['sandbox limit = Ingest budget (requests/s)', String(ratePerSec)],
        ['batches in flight (concurrency)', String(concurrency)],
        ['batches', String(result.batchesSent)],
        ['measurements per batch (mean)', (result.rowsSent / result.batchesSent).toFixed(0)],
        ['request body per batch (mean KB)', (result.bytesSent / result.batchesSent / 1000).toFixed(0)],
        ['requests per batch', (result.requests / result.batchesSent).toFixed(2)],
        ['wall to the last batch (s)', (wallMs / 1000).toFixed(1)],
        ['floor: batches / limit (s)', (floorMs / 1000).toFixed(1)],
        ['wall / floor', (wallMs / floorMs).toFixed(2)],
        ['measurements per second', (result.rowsSent / (wallMs / 1000)).toFixed(0)],
        ['requests/s at the sandbox, first to last', arrivalRate.toFixed(1)],
        ['429s answered by the sandbox', String(counters.rateLimited)],
        ['workflow runs (continue-as-new) / events per run (max)', `${runs.length} / ${Math.max(...runs)}`],
        ['CPU s during the run: worker / sandbox / Temporal dev server', cpuUsed.join(' / ')],
        ['worker RSS idle / peak (MiB)', `${mib(idleRss)} / ${mib(peakRss)}`],
        ['stored by the sandbox', String(stored.count)],
        ['duplicates received by the sandbox', String(stored.duplicatesReceived)],
        ['rejected', String(result.rejections?.rejected)],
      ],
    };
  } finally {
    await stack.stop();
  }
}
