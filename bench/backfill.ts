// Backfill benchmark: a year of daily windows through ONE worker process against a sandbox process that
// enforces m3ter's Config API limit, then the same backfill again. Reports the wall time against its floor
// (the larger of "rounds of `concurrency` jobs back to back" and "every m3ter call at the rate limit"), m3ter
// calls per window, the 429s the worker met, the parent's history per run, the worker's peak RSS, and
// duplicate ExportJobs (sandbox job records grouped by window). The second pass must start no export.
import path from 'node:path';
import type { backfillWorkflow } from '../workflows/backfill';
import type { BackfillSummary } from '../src/contract/backfill';
import { spawnWorkerProcess } from '../test/support/worker-process';
import { startBenchStack } from './bench-stack';
import { buildCompiledInstall, imageAllocatorEnv } from './compiled-install';
import { rssBytes, samplePeakRss } from './rss';

export interface BackfillBenchOptions {
  /** Daily windows (from 2025-01-01 UTC). */
  windows: number;
  concurrency: number;
  /** How long each sandbox ExportJob runs. */
  jobMs: number;
  /** The sandbox's Config API limit (requests per second, burst the same). */
  ratePerSec: number;
  say: (m: string) => void;
}

interface SandboxJob {
  request: { startDate?: string };
}

export async function benchBackfill(
  opts: BackfillBenchOptions,
): Promise<{ rows: string[][]; failures: number }> {
  const { windows, concurrency, jobMs, ratePerSec, say } = opts;
  const stack = await startBenchStack('backfill', say);
  const { temporal, sandbox, client, work } = stack;
  const taskQueue = 'bench-backfill';
  try {
    await sandbox.admin.post('/config', {
      jobTiming: { pendingMs: 0, runningMs: jobMs },
      rateLimits: { config: { ratePerSec, burst: ratePerSec } },
    });
    const image = await buildCompiledInstall(path.join(work, '.image'), say, 'backfill');
    const worker = (stack.worker = await spawnWorkerProcess(
      {
        ...imageAllocatorEnv(),
        ...sandbox.env,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        EXPORT_DIR: path.join(work, 'exports'),
        // info: readiness is read from the SDK's "Worker state changed" line; 429 retries are warnings.
        LOG_LEVEL: 'info',
      },
      120_000,
      image,
    ));
    const idleRss = rssBytes(worker.pid);
    const rss = samplePeakRss([worker.pid]);

    const from = new Date(Date.UTC(2025, 0, 1));
    const to = new Date(from.getTime() + windows * 86_400_000);
    const workflowId = `bench-backfill-${Date.now()}`;
    const input = {
      definition: {
        name: 'bench-daily',
        kind: 'usage' as const,
        request: {},
        window: 'day' as const,
        timezone: 'UTC',
        storage: 'local' as const,
      },
      from: from.toISOString(),
      to: to.toISOString(),
      concurrency,
    };
    const pass = async (label: string) => {
      say(`backfill: ${label}: ${windows} daily windows, concurrency ${concurrency}, jobs ${jobMs / 1000} s`);
      const jobsBefore = (await sandbox.admin.get<{ data: SandboxJob[] }>('/jobs')).data.length;
      const started = Date.now();
      const handle = await client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
        taskQueue,
        workflowId,
        args: [input],
      });
      const progress = setInterval(() => {
        handle
          .query<BackfillSummary>('progress')
          .then((p) => say(`backfill: ${label}: ${p.done}/${p.total ?? '?'} (run ${p.run})`))
          .catch(() => undefined);
      }, 15_000);
      let summary: BackfillSummary;
      try {
        summary = await handle.result();
      } finally {
        clearInterval(progress);
      }
      const wallMs = Date.now() - started;
      const jobsAfter = (await sandbox.admin.get<{ data: SandboxJob[] }>('/jobs')).data;
      return {
        summary,
        wallMs,
        started: jobsAfter.length - jobsBefore,
        jobs: jobsAfter,
        firstRunId: handle.firstExecutionRunId,
      };
    };

    const first = await pass('first pass');
    rss.stop();
    const [peakRss] = rss.peaks();
    const counters = await sandbox.admin.get<{ total: number; routes: Record<string, number> }>('/counters');
    const perWindow = new Map<string, number>();
    for (const j of first.jobs)
      perWindow.set(j.request.startDate ?? '?', (perWindow.get(j.request.startDate ?? '?') ?? 0) + 1);
    const duplicates = [...perWindow.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);

    // The parent's runs: every run of the backfill id (continue-as-new chain) and its history length.
    const events: number[] = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const h = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      events.push(h.events?.length ?? 0);
    }
    const rateLimited = (worker.output().match(/"status":429/g) ?? []).length;

    const second = await pass('second pass');
    const rounds = Math.ceil(windows / concurrency);
    const floorMs = Math.max(rounds * jobMs, (counters.total / ratePerSec) * 1000);
    const t = first.summary.totals;
    const failures = t.failed + second.summary.totals.failed;
    return {
      failures,
      rows: [
        ['figure', 'value'],
        ['windows (daily)', String(windows)],
        ['concurrency', String(concurrency)],
        ['job duration (s)', (jobMs / 1000).toFixed(1)],
        ['sandbox limit (requests/s)', String(ratePerSec)],
        ['wall (s)', (first.wallMs / 1000).toFixed(1)],
        [`floor (s): max(${rounds} x job, calls / limit)`, (floorMs / 1000).toFixed(1)],
        ['wall / floor', (first.wallMs / floorMs).toFixed(2)],
        ['m3ter calls', String(counters.total)],
        ['m3ter calls per window', (counters.total / windows).toFixed(2)],
        ['429s met by the worker', String(rateLimited)],
        ['parent history events (all runs)', String(events.reduce((a, b) => a + b, 0))],
        ['parent runs (continue-as-new)', String(events.length)],
        ['parent history events per run (max)', String(Math.max(...events))],
        [
          'worker RSS idle / peak (MiB)',
          `${(idleRss / 2 ** 20).toFixed(0)} / ${(peakRss / 2 ** 20).toFixed(0)}`,
        ],
        ['windows succeeded / failed', `${t.succeeded} / ${t.failed}`],
        ['duplicate ExportJobs', String(duplicates)],
        ['same backfill again: exports started', String(second.started)],
        ['same backfill again: wall (s)', (second.wallMs / 1000).toFixed(1)],
      ],
    };
  } finally {
    await stack.stop();
  }
}
