// Cluster benchmark: the same batch of ad-hoc exports on 1, 2 and 3 worker processes in one run, against
// the production kind of Temporal (the real server on PostgreSQL, test/support/temporal-postgres.ts) and a
// sandbox process enforcing m3ter's Config API limit of 50 requests/s. The workers share one m3ter budget
// (the server-side rate of the `<taskQueue>-m3ter` queue, src/m3ter/budget.ts), so what more workers can buy
// is download and polling capacity, not m3ter throughput; the ratio of wall time to the rate-limit floor
// shows how close each topology comes to what the limit allows.
//
// One server and one sandbox serve every round; each round gets its own task queue, export directory and
// worker processes, and the sandbox is reset first, so the counts are the round's own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { AdhocExportInput, adhocExportWorkflow } from '../workflows/adhoc-export';
import { spawnSandboxProcess, type SandboxProcess } from '../tooling/sandbox-process';
import {
  SHIPPED_DYNAMIC_CONFIG,
  startPostgresTemporal,
  TEMPORAL_SERVER_VERSION,
  type PostgresTemporal,
} from '../test/support/temporal-postgres';
import { spawnWorkerProcess, type WorkerProcess } from '../test/support/worker-process';
import { mib, samplePeakRss } from './rss';
import { buildCompiledInstall, imageAllocatorEnv } from './compiled-install';

export interface ClusterBenchOptions {
  exports: number;
  /** Worker process counts, one round each, in this order. */
  workerCounts: number[];
  /** How long each sandbox ExportJob is RUNNING (PENDING 1 s before that). */
  runningMs: number;
  /** M3TER_MAX_REQUESTS_PER_SECOND given to every worker: the rate of the shared m3ter queue. */
  budget: number;
  /**
   * Run the server with its own dynamic config defaults instead of the settings docker-compose.yml ships
   * (deploy/temporal/dynamicconfig.yaml: eager activity execution on, so an activity the workflow schedules
   * on its own task queue is handed to the same worker with the workflow task's answer, past Matching).
   */
  serverDefaults: boolean;
  /**
   * The niceness the workers and the sandbox run at, one set of rounds for each, in this order. Above 0
   * the server and PostgreSQL get the CPU first, as docker-compose.yml's CPU weights give it them on a
   * shared host; niceness only goes up without privileges, so the bench refuses a list that goes down.
   */
  niceness: number[];
  say: (m: string) => void;
}

/** m3ter's Config API limit per Organization, enforced by the sandbox (requests/s, burst the same). */
const LIMIT = 50;
const PENDING_MS = 1_000;
/** A round that has not closed by then is reported as failed rather than waited on for ever. */
const ROUND_TIMEOUT_MS = 30 * 60_000;
const DAY = 86_400_000;

interface Env {
  temporal: PostgresTemporal;
  sandbox: SandboxProcess;
  client: Client;
  /** The compiled install the workers run, as the Docker image has it. */
  image: string;
  work: string;
  /** Where the workers' logs are kept. */
  logDir: string;
}

interface Round {
  workers: number;
  niceness: number;
  completed: number;
  distinctJobs: number;
  sandboxJobs: number;
  files: number;
  wallMs: number;
  closedMs: number[];
  calls: number;
  configCalls: number;
  rateLimited: number;
  peakRss: number[];
  /** Activity attempts that began after the previous one was declared lost by its heartbeat timeout, by type. */
  heartbeatTimeouts: Map<string, number>;
}

/** temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT */
const TIMEOUT_TYPE_HEARTBEAT = 4;

/**
 * Activity attempts retried after a heartbeat timeout, over every export's history: a closed activity's
 * started event carries its last attempt's number and the failure that ended the attempt before it.
 */
async function countHeartbeatTimeouts(
  handles: WorkflowHandle<typeof adhocExportWorkflow>[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < handles.length; i += 50) {
    const histories = await Promise.all(handles.slice(i, i + 50).map((h) => h.fetchHistory()));
    for (const history of histories) {
      const typeOf = new Map<string, string>();
      for (const e of history.events ?? []) {
        const scheduled = e.activityTaskScheduledEventAttributes;
        if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType?.name ?? '?');
        const started = e.activityTaskStartedEventAttributes;
        if (started?.lastFailure?.timeoutFailureInfo?.timeoutType !== TIMEOUT_TYPE_HEARTBEAT) continue;
        const type = typeOf.get(String(started.scheduledEventId)) ?? '?';
        counts.set(type, (counts.get(type) ?? 0) + 1);
      }
    }
  }
  return counts;
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

/**
 * Sets the niceness of every thread of a process: Linux keeps one per thread, and a thread created later
 * inherits its creator's.
 */
function renice(pid: number, niceness: number): void {
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      os.setPriority(Number(tid), niceness);
    } catch (err) {
      // A thread that ended since the listing; anything else (a lower niceness refused) is the caller's.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

/** Half usage (windows of 1 to 5 days), half operational, as the chaos test mixes them. */
function request(i: number): AdhocExportInput['request'] {
  if (i % 2 === 1) return { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] };
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    sourceType: 'USAGE',
    startDate: new Date(today - (1 + (i % 5)) * DAY).toISOString(),
    endDate: new Date(today).toISOString(),
  };
}

/** Starts in waves of 50, so that starting 1,000 does not open 1,000 requests to the server at once. */
async function startExports(client: Client, taskQueue: string, n: number) {
  const handles: WorkflowHandle<typeof adhocExportWorkflow>[] = [];
  for (let i = 0; i < n; i += 50) {
    const wave = Array.from({ length: Math.min(50, n - i) }, (_, k) =>
      client.workflow.start<typeof adhocExportWorkflow>('adhocExportWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}-${i + k}`,
        args: [{ request: request(i + k) }],
      }),
    );
    handles.push(...(await Promise.all(wave)));
  }
  return handles;
}

const ACTIVITY_STATES: Record<number, string> = { 1: 'scheduled', 2: 'started', 3: 'cancel requested' };

/**
 * What the last open exports are waiting on, so a long tail is explained rather than only timed. Query
 * strings are cut from failure messages: a download URL's is its credential.
 */
async function describeStragglers(
  handles: WorkflowHandle<typeof adhocExportWorkflow>[],
  say: (m: string) => void,
): Promise<void> {
  for (const h of handles) {
    const { raw } = await h.describe();
    const activities = (raw.pendingActivities ?? []).map((a) =>
      [
        a.activityType?.name,
        ACTIVITY_STATES[Number(a.state)] ?? `state ${a.state}`,
        `attempt ${a.attempt}`,
        a.lastWorkerIdentity ? `on ${a.lastWorkerIdentity}` : '',
        a.lastFailure?.message ? `last failure: ${a.lastFailure.message.replace(/\?\S*/g, '?...')}` : '',
      ]
        .filter(Boolean)
        .join(', '),
    );
    say(`cluster: still open ${h.workflowId}: ${activities.join('; ') || 'no pending activity'}`);
  }
}

interface Outcome {
  jobIds: Map<string, string>;
  failures: Map<string, string>;
  /** When each export closed, in ms after the first start, ascending. */
  closedMs: number[];
}

/** Every result, or the failure message per workflow id; gives up on what is still open at the timeout. */
async function awaitAll(
  handles: WorkflowHandle<typeof adhocExportWorkflow>[],
  startedAt: number,
  say: (m: string) => void,
): Promise<Outcome> {
  const outcome: Outcome = { jobIds: new Map(), failures: new Map(), closedMs: [] };
  const open = new Set(handles);
  const progress = setInterval(() => {
    say(`cluster: ${outcome.jobIds.size}/${handles.length} completed, ${outcome.failures.size} failed`);
    if (open.size > 0 && open.size <= Math.max(3, handles.length / 100))
      describeStragglers([...open].slice(0, 3), say).catch((err: Error) => say(`cluster: ${err.message}`));
  }, 15_000);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(
        handles.map((h) =>
          h
            .result()
            .then(
              (r) => outcome.jobIds.set(h.workflowId, r.jobId),
              (err: Error) => outcome.failures.set(h.workflowId, err.message),
            )
            .finally(() => {
              open.delete(h);
              outcome.closedMs.push(Date.now() - startedAt);
            }),
        ),
      ),
      new Promise((resolve) => (timer = setTimeout(resolve, ROUND_TIMEOUT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(progress);
  }
  return outcome;
}

/** When `share` of the exports had closed (seconds), or '-' if that many never did. */
function closedBy(closedMs: number[], exports: number, share: number): string {
  const t = closedMs[Math.ceil(exports * share) - 1];
  return t === undefined ? '-' : (t / 1000).toFixed(1);
}

function countFiles(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && !d.name.endsWith('.manifest.json') && !d.name.startsWith('.')).length;
}

async function runRound(
  env: Env,
  workerCount: number,
  niceness: number,
  opts: ClusterBenchOptions,
): Promise<Round> {
  const { sandbox, temporal, client } = env;
  const { say } = opts;
  const taskQueue = `bench-cluster-${workerCount}w-n${niceness}-${Date.now()}`;
  renice(sandbox.pid, niceness);
  const exportDir = path.join(env.work, taskQueue);
  await sandbox.admin.post('/reset');
  await sandbox.admin.post('/config', {
    jobTiming: { pendingMs: PENDING_MS, runningMs: opts.runningMs },
    rateLimits: { config: { ratePerSec: LIMIT, burst: LIMIT } },
  });
  const workerEnv = {
    ...imageAllocatorEnv(),
    ...sandbox.env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    M3TER_MAX_REQUESTS_PER_SECOND: String(opts.budget),
    EXPORT_DIR: exportDir,
    // info, not warn: readiness is read from the SDK's "Worker state changed" line.
    LOG_LEVEL: 'info',
  };
  const workers: WorkerProcess[] = [];
  try {
    // One at a time: started together on two cores, their start-ups time each other out.
    for (let i = 0; i < workerCount; i++)
      workers.push(await spawnWorkerProcess(workerEnv, 180_000, env.image));
    for (const w of workers) renice(w.pid, niceness);
    const rss = samplePeakRss(workers.map((w) => w.pid));
    say(
      `cluster: ${opts.exports} exports on ${workerCount} worker(s) (pids ${workers.map((w) => w.pid)}), ` +
        `workers and sandbox at niceness ${niceness}`,
    );
    const started = Date.now();
    const handles = await startExports(client, taskQueue, opts.exports);
    const { jobIds, failures, closedMs } = await awaitAll(handles, started, say);
    const wallMs = Date.now() - started;
    rss.stop();
    for (const [id, message] of [...failures].slice(0, 5)) say(`cluster: ${id} failed: ${message}`);
    const counters = await sandbox.admin.get<{ total: number; rateLimited: number }>('/counters');
    // Every request of the Config API class, 429s included: the limiter logs a request before deciding.
    const { data: configRequests } = await sandbox.admin.get<{ data: unknown[] }>(
      '/requests?rateClass=config',
    );
    const { data: sandboxJobs } = await sandbox.admin.get<{ data: unknown[] }>('/jobs');
    const heartbeatTimeouts = await countHeartbeatTimeouts(handles);
    return {
      workers: workerCount,
      niceness,
      completed: jobIds.size,
      distinctJobs: new Set(jobIds.values()).size,
      sandboxJobs: sandboxJobs.length,
      files: countFiles(exportDir),
      wallMs,
      closedMs,
      calls: counters.total,
      configCalls: configRequests.length - counters.rateLimited,
      rateLimited: counters.rateLimited,
      peakRss: rss.peaks(),
      heartbeatTimeouts,
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    // Kept after the run for a post-mortem, one file per process (the worker redacts its secrets).
    for (const w of workers) fs.writeFileSync(path.join(env.logDir, `${taskQueue}-${w.pid}.log`), w.output());
  }
}

/** The fastest the round could be: its accepted Config API calls at the limit, or one job's duration. */
const floorMs = (r: Round, runningMs: number) =>
  Math.max((r.configCalls / LIMIT) * 1000, PENDING_MS + runningMs);

/** A round passes when every export completed on its own ExportJob and stored one file. */
function roundFailures(r: Round, exports: number): number {
  const ok =
    r.completed === exports && r.distinctJobs === exports && r.sandboxJobs === exports && r.files === exports;
  return ok ? 0 : Math.max(1, exports - r.completed);
}

function row(r: Round, opts: ClusterBenchOptions): string[] {
  const floor = floorMs(r, opts.runningMs);
  return [
    String(r.workers),
    String(r.niceness),
    `${r.completed}/${opts.exports}`,
    `${r.sandboxJobs} / ${r.files}`,
    (r.wallMs / 1000).toFixed(1),
    `${closedBy(r.closedMs, opts.exports, 0.5)} / ${closedBy(r.closedMs, opts.exports, 0.99)}`,
    String(r.calls),
    (r.calls / opts.exports).toFixed(2),
    String(r.configCalls),
    String(r.rateLimited),
    r.heartbeatTimeouts.size === 0
      ? '0'
      : `${total(r.heartbeatTimeouts)} (${[...r.heartbeatTimeouts].map(([t, n]) => `${t} ${n}`).join(', ')})`,
    r.peakRss.map(mib).join(' / '),
    (floor / 1000).toFixed(1),
    (r.wallMs / floor).toFixed(2),
  ];
}

export async function benchCluster(
  opts: ClusterBenchOptions,
): Promise<{ rows: string[][]; footer: string[]; failures: number }> {
  const { say } = opts;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-'));
  let temporal: PostgresTemporal | undefined;
  let sandbox: SandboxProcess | undefined;
  let connection: Connection | undefined;
  try {
    [temporal, sandbox] = await Promise.all([
      startPostgresTemporal({
        log: say,
        ...(opts.serverDefaults ? { dynamicConfig: {} } : {}),
      }),
      spawnSandboxProcess(),
    ]);
    const image = await buildCompiledInstall(path.join(work, '.image'), say, 'cluster');
    connection = await Connection.connect({ address: temporal.address });
    const env: Env = {
      temporal,
      sandbox,
      client: new Client({ connection, namespace: temporal.namespace }),
      image,
      work,
      logDir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-logs-')),
    };
    say(`cluster: worker logs go to ${env.logDir}`);
    const rows = [
      [
        'workers',
        'niceness',
        'completed',
        'jobs / files',
        'wall (s)',
        '50 % / 99 % closed (s)',
        'm3ter calls',
        'calls/export',
        'Config API calls',
        '429s',
        'heartbeat timeouts',
        'peak RSS per worker (MiB)',
        'floor (s)',
        'wall / floor',
      ],
    ];
    let failures = 0;
    for (const niceness of opts.niceness)
      for (const n of opts.workerCounts) {
        const r = await runRound(env, n, niceness, opts);
        failures += roundFailures(r, opts.exports);
        rows.push(row(r, opts));
        say(`cluster: ${rows[rows.length - 1].join('  ')}`);
      }
    const footer = [
      `${opts.exports} exports a round (half usage, half operational; jobs PENDING ${PENDING_MS / 1000} s, ` +
        `RUNNING ${opts.runningMs / 1000} s), started at once; Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL 15; ` +
        `M3TER_MAX_REQUESTS_PER_SECOND=${opts.budget} on every worker.`,
      `m3ter calls: every request the sandbox served (token, trigger, status, download URL, file); ` +
        `Config API calls: those of the rate-limited class the limiter let through.`,
      `429s: answered by the sandbox's limiter (${LIMIT} Config API requests/s, burst ${LIMIT}).`,
      `heartbeat timeouts: activity attempts retried because the one before went silent past its heartbeat ` +
        `timeout (a killed worker, or a task the server marked started on no worker).`,
      `niceness: of the workers and the sandbox (all their threads); the server and PostgreSQL run at 0, ` +
        `so above 0 they get the CPU first, as on machines of their own.`,
      opts.serverDefaults
        ? `The server's dynamic config: its own defaults (eager activity execution off).`
        : `The server's dynamic config: as docker-compose.yml ships it (${SHIPPED_DYNAMIC_CONFIG}).`,
      `50 % / 99 % closed: seconds from the first start until half and 99 % of the exports had closed; ` +
        `wall: until the last one had.`,
      `floor: max(Config API calls / ${LIMIT} per s, one job's ${(PENDING_MS + opts.runningMs) / 1000} s); ` +
        `wall / floor 1.00 would be the limit used to the full from the first start to the last result.`,
    ];
    return { rows, footer, failures };
  } finally {
    await connection?.close().catch(() => undefined);
    await Promise.allSettled([sandbox?.stop(), temporal?.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
