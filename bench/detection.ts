// Detection benchmark: how long after an ExportJob reaches SUCCEEDED does the workflow notice, and how many
// API calls does a job cost? Three strategies side by side in ONE run, on the same machine at the same time:
//   paced   the production wait: a poll a second for the job's whole life, through the worker's batcher
//           (at most one status call a second per worker, up to 100 jobs per call)
//   tiered  the previous production wait (1 s polls for 30 s, growing to 20 s until 5 min, then the retry
//           policy every 60 s)
//   fixed60 a fixed 60-second poll (the wait activity's retry policy only)
// for short jobs (a few seconds to ~40 s) and long jobs (minutes). Each strategy x length pair gets its own
// sandbox (so its request counters are its own) and its own worker and task queue; all share one Temporal
// dev server and one process.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, m3terEnv } from '../src/config/config';
import { startDevServer } from '../tooling/devserver';
import { createLogger } from '../src/log/logger';
import { startSandbox, type RunningSandbox } from '../tooling/sandbox';
import { createExportWorker, installRuntime } from '../src/worker';
import { writeWorkflowBundle } from '../src/runtime/workflow-bundle';
import { statusReads, type SandboxCounters } from './sandbox-counters';

type Strategy = 'paced' | 'tiered' | 'fixed60';
const STRATEGIES: Strategy[] = ['paced', 'tiered', 'fixed60'];
const POLL: Record<Strategy, Record<string, number> | undefined> = {
  paced: undefined, // production defaults
  tiered: { fastPhaseMs: 30_000, mediumMaxPollMs: 20_000, inActivityPhaseMs: 300_000, slowPollMs: 60_000 },
  fixed60: { fastPollMs: 60_000, fastPhaseMs: 1, inActivityPhaseMs: 1, slowPollMs: 60_000 },
};

interface Measured {
  strategy: Strategy;
  length: 'short' | 'long';
  runningMs: number;
  detectionMs: number;
  polls: number;
  apiCalls: number;
  historyEvents: number;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export interface DetectionBenchOptions {
  shortJobs: number;
  longJobs: number;
  longMs: number;
  say: (m: string) => void;
}

/** Returns the table's rows (header first) and how many lanes failed. */
export async function benchDetection(
  opts: DetectionBenchOptions,
): Promise<{ rows: string[][]; failures: number }> {
  const { shortJobs: shortN, longJobs: longN, longMs, say } = opts;

  const temporal = await startDevServer({ log: say });
  const log = createLogger({
    level: 'warn',
    destination: (await import('pino')).default.destination({ fd: 2 }),
  });
  installRuntime(log);
  process.env.M3TER_WORKFLOW_BUNDLE = await writeWorkflowBundle(
    path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'wf.js'),
  );
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-exports-'));

  const lanes: {
    strategy: Strategy;
    length: 'short' | 'long';
    durations: number[];
    /** Status calls over the lane's seconds from its first start to its last result. */
    statusCallsPerSec?: number;
  }[] = [];
  const shortDurations = Array.from({ length: shortN }, (_, i) =>
    Math.round(3_000 + (i * 37_000) / Math.max(1, shortN - 1)),
  );
  const longDurations = Array.from({ length: longN }, (_, i) => longMs + i * 17_000);
  for (const strategy of STRATEGIES) {
    lanes.push(
      { strategy, length: 'short', durations: shortDurations },
      { strategy, length: 'long', durations: longDurations },
    );
  }
  say(
    `short jobs RUNNING ${shortDurations.map((d) => d / 1000).join(', ')} s; long jobs ${longDurations.map((d) => d / 1000).join(', ')} s`,
  );

  const sandboxes: RunningSandbox[] = [];
  const workers: { shutdown(): void; run(): Promise<void> }[] = [];
  const running: Promise<void>[] = [];
  const measured: Measured[] = [];
  let failures = 0;
  try {
    const settled = await Promise.allSettled(
      lanes.map(async (lane) => {
        const sandbox = await startSandbox({ jobTiming: { pendingMs: 200, runningMs: 300 } });
        sandboxes.push(sandbox);
        const taskQueue = `bench-${lane.strategy}-${lane.length}-${randomUUID().slice(0, 6)}`;
        const config = loadConfig({
          ...m3terEnv(sandbox.m3ter),
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_TASK_QUEUE: taskQueue,
          EXPORT_DIR: path.join(exportDir, taskQueue),
          LOG_LEVEL: 'warn',
        });
        const worker = await createExportWorker(config, log);
        workers.push(worker);
        running.push(worker.run());
        const admin = async <T = Record<string, unknown>>(p: string, body?: unknown) => {
          const res = await fetch(`${sandbox.adminUrl}${p}`, {
            method: body === undefined ? 'GET' : 'POST',
            headers: body === undefined ? {} : { 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return res.json() as Promise<T>;
        };
        // Warm up first: a worker's first workflow tasks load the bundle into fresh VMs, which on 2 busy
        // cores takes seconds and would be charged to the first jobs' detection delay.
        await client.workflow
          .execute('adhocExportWorkflow', {
            taskQueue,
            workflowId: `bench-warmup-${taskQueue}`,
            args: [
              {
                request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] },
                poll: { fastPollMs: 100 },
              },
            ],
          })
          .catch(() => undefined);
        // Then count from zero, and let jobs default to an hour RUNNING: each job's own duration is set as
        // soon as its id is known.
        await admin('/reset', {});
        await admin('/config', { jobTiming: { pendingMs: 500, runningMs: 3_600_000 } });
        // All jobs of a lane run at once, staggered so their trigger times differ.
        const laneStarted = Date.now();
        await Promise.all(
          lane.durations.map(async (runningMs, i) => {
            await new Promise((r) => setTimeout(r, i * 1500));
            const handle = await client.workflow.start('adhocExportWorkflow', {
              taskQueue,
              workflowId: `bench-${taskQueue}-${i}`,
              args: [
                {
                  request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] },
                  poll: POLL[lane.strategy],
                },
              ],
            });
            let jobId: string | undefined;
            while (!jobId) {
              // A query fails until a worker has run the first workflow task: keep asking.
              jobId = await handle.query<{ jobId?: string }>('status').then(
                (st) => st.jobId,
                () => undefined,
              );
              if (!jobId) await new Promise((r) => setTimeout(r, 50));
            }
            await admin(`/jobs/${jobId}`, { runningMs });
            const result = (await handle.result()) as { polls: number };
            const job = (await admin(`/jobs/${jobId}`)) as { completedAt: string };
            const history = await handle.fetchHistory();
            const events = history.events ?? [];
            const scheduled = events.find(
              (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForExportJob',
            );
            const completed = events.find(
              (e) =>
                e.activityTaskCompletedEventAttributes &&
                Number(e.activityTaskCompletedEventAttributes.scheduledEventId) ===
                  Number(scheduled?.eventId),
            );
            const t = completed?.eventTime;
            const noticedAt = t ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;
            measured.push({
              strategy: lane.strategy,
              length: lane.length,
              runningMs,
              detectionMs: noticedAt - Date.parse(job.completedAt),
              polls: result.polls,
              apiCalls: 0,
              historyEvents: events.length,
            });
          }),
        );
        const laneSeconds = (Date.now() - laneStarted) / 1000;
        // API calls per job for this lane: every request the lane's sandbox served, divided by its jobs.
        const counters = await admin<SandboxCounters>('/counters');
        const total = counters.total;
        lane.statusCallsPerSec = statusReads(counters) / laneSeconds;
        for (const m of measured.filter((x) => x.strategy === lane.strategy && x.length === lane.length))
          m.apiCalls = total / lane.durations.length;
        say(`${lane.strategy}/${lane.length}: done`);
      }),
    );
    for (const r of settled) {
      if (r.status === 'rejected') {
        failures++;
        say(`lane failed: ${r.reason instanceof Error ? r.reason.stack : String(r.reason)}`);
      }
    }
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.allSettled(running);
    await Promise.allSettled(sandboxes.map((s) => s.close()));
    await connection.close();
    await temporal.stop();
  }

  const rows = [
    [
      'strategy',
      'jobs',
      'RUNNING (s)',
      'detect median (s)',
      'detect p90 (s)',
      'detect max (s)',
      'polls/job',
      's per poll',
      'API calls/job',
      's per API call',
      'status calls/s (worker)',
      'history events (max)',
    ],
  ];
  for (const lane of lanes) {
    const ms = measured.filter((m) => m.strategy === lane.strategy && m.length === lane.length);
    const det = ms.map((m) => m.detectionMs / 1000);
    const polls = ms.reduce((a, m) => a + m.polls, 0) / ms.length;
    const secPerPoll = ms.reduce((a, m) => a + m.runningMs / 1000 / Math.max(1, m.polls), 0) / ms.length;
    rows.push([
      `${lane.strategy}/${lane.length}`,
      String(ms.length),
      `${Math.min(...lane.durations) / 1000}-${Math.max(...lane.durations) / 1000}`,
      quantile(det, 0.5).toFixed(2),
      quantile(det, 0.9).toFixed(2),
      Math.max(...det).toFixed(2),
      polls.toFixed(1),
      secPerPoll.toFixed(1),
      (ms[0]?.apiCalls ?? 0).toFixed(1),
      // Per job: its RUNNING time over its share of the lane's calls (status reads are batched across jobs).
      (ms.reduce((a, m) => a + m.runningMs / 1000 / Math.max(1, m.apiCalls), 0) / ms.length).toFixed(1),
      (lane.statusCallsPerSec ?? NaN).toFixed(2),
      String(Math.max(...ms.map((m) => m.historyEvents))),
    ]);
  }
  return { rows, failures };
}
