// Detection at scale: with many ExportJobs waiting at once on ONE worker, how long after a job reaches
// SUCCEEDED does its workflow notice, and what does reading their status cost in Config API calls? Two
// status-read paces side by side in one run, one after the other against the same dev server:
//   scaled      the production batcher: as many list calls a second as the waiting jobs need (100 ids
//               each), up to its share of the worker's Config API budget (src/m3ter/export-job-batcher.ts)
//   one call/s  the same batcher held to one list call a second, the pace before it scaled
// Each lane has its own sandbox process, enforcing m3ter's 50 requests/s Config API limit, and its own
// worker and task queue. Jobs stay RUNNING for an even spread of durations, so they finish one by one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/log/logger';
import { createExportJobBatcher, createM3terClient } from '../src/m3ter';
import { writeWorkflowBundle } from '../src/runtime/workflow-bundle';
import { createExportWorker, installRuntime, type ExportWorkerOverrides } from '../src/worker';
import { startDevServer } from '../tooling/devserver';
import { spawnSandboxProcess } from '../tooling/sandbox-process';
import { runOperationalExports } from './operational-exports';
import { STATUS_ROUTES, statusReads, type SandboxCounters } from './sandbox-counters';

export interface DetectionAtScaleOptions {
  /** Exports started at once in each lane. */
  jobs: number;
  /**
   * How long each job stays PENDING: long enough for every export to be triggered (within the budget)
   * before the first job runs, so all of them wait at once.
   */
  pendingMs: number;
  /** The shortest RUNNING time; jobs spread evenly from it to `runningMs + spreadMs`. */
  runningMs: number;
  spreadMs: number;
  say: (m: string) => void;
}

interface Lane {
  name: string;
  /** Status calls per second the batcher may make; undefined: the production setting. */
  maxCallsPerInterval?: number;
}

const LANES: Lane[] = [{ name: 'scaled' }, { name: 'one call/s', maxCallsPerInterval: 1 }];

interface SandboxJob {
  id: string;
  status: string;
  dateCreated: string;
  completedAt: string | null;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** The most events in any one-second window. */
function peakPerSecond(times: number[]): number {
  const s = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i] - s[j] >= 1_000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

/** The most intervals open at one instant. */
function peakOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([a, b]) => [
    [a, 1],
    [b, -1],
  ]);
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d));
  return peak;
}

const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;

export async function benchDetectionAtScale(
  opts: DetectionAtScaleOptions,
): Promise<{ rows: string[][]; failures: number }> {
  const { jobs: n, pendingMs, runningMs, spreadMs, say } = opts;
  const temporal = await startDevServer({ log: say });
  const log = createLogger({
    level: 'warn',
    destination: (await import('pino')).default.destination({ fd: 2 }),
  });
  installRuntime(log);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-detect-scale-'));
  process.env.M3TER_WORKFLOW_BUNDLE = await writeWorkflowBundle(path.join(workDir, 'wf.js'));
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const rows = [
    [
      'status reads',
      'exports',
      'completed',
      'peak waiting',
      'detect median (s)',
      'detect p99 (s)',
      'detect max (s)',
      'status calls (peak/s)',
      'Config API calls/s (mean / peak)',
      'budget (/s)',
      '429s',
      'wall (s)',
    ],
  ];
  let failures = 0;
  try {
    for (const lane of LANES) {
      const sandbox = await spawnSandboxProcess();
      const taskQueue = `bench-detect-scale-${lane.maxCallsPerInterval ?? 'scaled'}`;
      let worker: Awaited<ReturnType<typeof createExportWorker>> | undefined;
      let running: Promise<void> | undefined;
      try {
        await sandbox.admin.post('/config', {
          jobTiming: { pendingMs, runningMs, runningSpreadMs: spreadMs },
        });
        const config = loadConfig({
          ...sandbox.env,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_TASK_QUEUE: taskQueue,
          // A deployment per lane: a commit between lanes changes the build id, and a second build of one
          // deployment gets no tasks until it is made current.
          TEMPORAL_DEPLOYMENT_NAME: taskQueue,
          EXPORT_DIR: path.join(workDir, taskQueue),
          LOG_LEVEL: 'warn',
        });
        const overrides: ExportWorkerOverrides = lane.maxCallsPerInterval
          ? {
              deps: {
                readExportJob: createExportJobBatcher(createM3terClient(config.m3ter), {
                  maxCallsPerInterval: lane.maxCallsPerInterval,
                }),
              },
            }
          : {};
        worker = await createExportWorker(config, log, overrides);
        running = worker.run();
        say(
          `detection at scale, ${lane.name}: ${n} exports, jobs PENDING ${pendingMs / 1000} s, then RUNNING ${runningMs / 1000}-${(runningMs + spreadMs) / 1000} s`,
        );

        const {
          handles,
          results,
          seconds: wallS,
        } = await runOperationalExports(client, {
          exports: n,
          taskQueue,
          label: lane.name,
          say,
        });
        const laneFailures = results.filter((r) => r.status === 'rejected').length;
        failures += laneFailures;

        // When each wait returned: its activity's completion in the workflow's history.
        const noticed = new Map<string, number>();
        for (let i = 0; i < handles.length; i += 50) {
          await Promise.all(
            handles.slice(i, i + 50).map(async (h, k) => {
              const r = results[i + k];
              if (r.status !== 'fulfilled') return;
              const events = (await h.fetchHistory()).events ?? [];
              const scheduled = events.find(
                (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForExportJob',
              );
              const completed = events.find(
                (e) =>
                  Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1) ===
                  Number(scheduled?.eventId),
              );
              noticed.set(r.value.jobId, millis(completed?.eventTime));
            }),
          );
        }
        const sandboxJobs = (await sandbox.admin.get<{ data: SandboxJob[] }>('/jobs')).data;
        const detections: number[] = [];
        const waiting: [number, number][] = [];
        for (const job of sandboxJobs) {
          const at = noticed.get(job.id);
          if (at === undefined || !job.completedAt) continue;
          detections.push((at - Date.parse(job.completedAt)) / 1000);
          waiting.push([Date.parse(job.dateCreated), at]);
        }
        const counters = await sandbox.admin.get<SandboxCounters & { rateLimited: number }>('/counters');
        const configCalls = (
          await sandbox.admin.get<{ data: { at: number; route: string }[] }>('/requests?rateClass=config')
        ).data;
        const statusAt = configCalls.filter((c) => STATUS_ROUTES.includes(c.route)).map((c) => c.at);
        rows.push([
          lane.name,
          String(n),
          String(n - laneFailures),
          String(peakOverlap(waiting)),
          quantile(detections, 0.5).toFixed(2),
          quantile(detections, 0.99).toFixed(2),
          Math.max(...detections).toFixed(2),
          `${statusReads(counters)} (${peakPerSecond(statusAt)})`,
          `${(configCalls.length / wallS).toFixed(1)} / ${peakPerSecond(configCalls.map((c) => c.at))}`,
          String(worker.m3terBudget),
          String(counters.rateLimited),
          wallS.toFixed(1),
        ]);
      } finally {
        worker?.shutdown();
        await running?.catch(() => undefined);
        await sandbox.stop();
      }
    }
  } finally {
    await connection.close();
    await temporal.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  return { rows, failures };
}
