// Chaos on the production topology: the real Temporal server on Postgres (test/support/temporal-postgres.ts),
// three worker processes sharing one m3ter budget, and the sandbox process enforcing m3ter's 50 requests/s
// while failing 10 % of requests with 5xx or 429, the trigger's POST included (an ambiguous 5xx there sends
// the trigger into its recovery, which must never adopt another workflow's job). While 300 exports (usage and operational, job durations
// from under a second to ten seconds) run: one worker is SIGKILLed and a replacement started, the Temporal
// server is restarted, and Postgres is restarted. At the end every export completed with exactly one
// ExportJob (and one job claim) and one stored file whose checksum matches the sandbox's, the rate limiter answered no 429 (the
// injected ones aside), and no workflow is left open. Prints the timeline and the counts.
//
// The worker is killed once every export has been triggered: a trigger lost with its worker is retried
// only after its 5-minute start-to-close timeout (a trigger attempt must never be timed out while it may
// still be sending), which would make the test wait five minutes for nothing it does not already cover.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { JOB_CLAIM_WORKFLOW } from '../../activities/claims';
import { describeActivityQueueRate } from '../../src/m3ter/budget';
import { SEARCH_ATTRIBUTES } from '../../src/contract/search-attributes';
import {
  adhocExportWorkflow,
  type AdhocExportInput,
  type AdhocExportResult,
} from '../../workflows/adhoc-export';
import { m3terTaskQueue } from '../../src/contract/task-queues';
import { spawnSandboxProcess, type SandboxProcess } from '../../tooling/sandbox-process';
import { startPostgresTemporal, type PostgresTemporal } from '../support/temporal-postgres';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process';

const EXPORTS = 300;
// Low enough that the triggers and downloads of 300 exports take most of a minute, so the chaos below hits
// work in flight.
const BUDGET = 15;
const DAY = 86_400_000;
const TIMINGS = [
  { pendingMs: 200, runningMs: 300 },
  { pendingMs: 500, runningMs: 2_500 },
  { pendingMs: 1_000, runningMs: 19_000 },
];

interface SandboxJob {
  id: string;
  status: string;
  files?: { name: string; sha256: string; bytes: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chaos on Temporal + Postgres with three workers', () => {
  let temporal: PostgresTemporal;
  let sandbox: SandboxProcess;
  let connection: Connection;
  let client: Client;
  let exportDir: string;
  const workers: WorkerProcess[] = [];
  /** Every worker process started, the killed one included: their logs are kept for a failing run. */
  const allWorkers: WorkerProcess[] = [];
  const taskQueue = `chaos-${randomUUID().slice(0, 8)}`;
  const t0 = Date.now();
  const timeline: string[] = [];
  const mark = (what: string) => {
    const line = `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`;
    timeline.push(line);
    process.stderr.write(`[chaos] ${line}\n`);
  };
  let workerEnv: Record<string, string>;

  beforeAll(async () => {
    [temporal, sandbox] = await Promise.all([
      startPostgresTemporal({ log: (m) => process.stderr.write(`[temporal-pg] ${m}\n`) }),
      spawnSandboxProcess(),
    ]);
    mark(`temporal on postgres at ${temporal.address}; sandbox at ${sandbox.baseUrl}`);
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: temporal.namespace });
    exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-chaos-'));
    workerEnv = {
      ...sandbox.env,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      M3TER_MAX_REQUESTS_PER_SECOND: String(BUDGET),
      EXPORT_DIR: exportDir,
      LOG_LEVEL: 'info',
    };
    workers.push(...(await Promise.all([1, 2, 3].map(() => spawnWorkerProcess(workerEnv)))));
    allWorkers.push(...workers);
    mark(`3 workers running (pids ${workers.map((w) => w.pid).join(', ')})`);
  }, 600_000);

  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.stop()));
    // The workers' logs, for a post-mortem: one file per process.
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-chaos-logs-'));
    for (const w of allWorkers) fs.writeFileSync(path.join(logDir, `worker-${w.pid}.log`), w.output());
    process.stderr.write(`[chaos] worker logs in ${logDir}\n`);
    await connection?.close().catch(() => undefined);
    await Promise.allSettled([sandbox?.stop(), temporal?.stop()]);
    if (exportDir) fs.rmSync(exportDir, { recursive: true, force: true });
  }, 120_000);

  it('registered the search attributes and set the budget on the server', async () => {
    const res = await connection.operatorService.listSearchAttributes({ namespace: temporal.namespace });
    for (const key of SEARCH_ATTRIBUTES) expect(Object.keys(res.customAttributes)).toContain(key.name);
    expect(
      await describeActivityQueueRate(client, {
        namespace: temporal.namespace,
        taskQueue: m3terTaskQueue(taskQueue),
      }),
    ).toEqual({ requestsPerSecond: BUDGET, source: 'api' });
  });

  it(
    'completes 300 exports through a worker kill, a server restart and a Postgres restart',
    async () => {
      await sandbox.admin.post('/config', { jobTiming: TIMINGS[0] });
      // Every route, the trigger's POST included, fails 10 % of requests with 5xx or 429. The sandbox fails
      // them before its handler (nothing committed), but a 5xx on the trigger is ambiguous to the worker:
      // it looks for its job among the jobs created in its window, where other workflows' jobs are
      // created several times a second. They must not be adopted: their owners claim them the moment
      // their POST answers (activities/claims.ts), and recovery waits out any owner still in flight.
      await sandbox.admin.post('/faults', {
        route: '*',
        errorRate: 0.1,
        errorStatuses: [500, 502, 503, 429],
      });
      // Mixed job durations: the sandbox's job timing rotates while the triggers flow.
      let rotate = 0;
      const rotation = setInterval(() => {
        rotate++;
        void sandbox.admin
          .post('/config', { jobTiming: TIMINGS[rotate % TIMINGS.length] })
          .catch(() => undefined);
      }, 1_500);

      const since = Date.now();
      const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
      const request = (i: number): AdhocExportInput['request'] =>
        i % 2 === 0
          ? {
              sourceType: 'USAGE',
              startDate: new Date(today - (1 + (i % 5)) * DAY).toISOString(),
              endDate: new Date(today).toISOString(),
            }
          : { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] };
      const handles: WorkflowHandle<typeof adhocExportWorkflow>[] = [];
      for (let i = 0; i < EXPORTS; i += 50) {
        handles.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(50, EXPORTS - i) }, (_, k) =>
              client.workflow.start(adhocExportWorkflow, {
                taskQueue,
                workflowId: `chaos-${i + k}-${randomUUID().slice(0, 6)}`,
                args: [
                  {
                    request: request(i + k),
                    poll: { fastPollMs: 500, slowPollMs: 2_000 },
                  },
                ],
              }),
            ),
          )),
        );
      }
      mark(`${EXPORTS} exports started`);

      const results = new Map<string, AdhocExportResult>();
      const failures = new Map<string, string>();
      const resultsDone = Promise.all(
        handles.map(async (h) => {
          // The server restarts under these long polls: keep asking until the run is closed.
          for (;;) {
            try {
              results.set(h.workflowId, await h.result());
              return;
            } catch (err) {
              const msg = (err as Error).message;
              if (/unavailable|connect|deadline|transport|ECONNREFUSED|closed/i.test(msg)) {
                await sleep(1_000);
                continue;
              }
              failures.set(h.workflowId, msg);
              return;
            }
          }
        }),
      );
      const progress = setInterval(
        () => mark(`progress: ${results.size} completed, ${failures.size} failed`),
        15_000,
      );

      try {
        // 1. Once every export has its ExportJob, SIGKILL a worker and start a replacement.
        for (let waited = 0; ; waited += 500) {
          const { data } = await sandbox.admin.get<{ data: SandboxJob[] }>('/jobs');
          if (data.length >= EXPORTS) {
            mark(`all ${EXPORTS} ExportJobs created`);
            break;
          }
          if (waited > 120_000) {
            mark(`only ${data.length} ExportJobs after 2 minutes; going on`);
            break;
          }
          await sleep(500);
        }
        const victim = workers.shift()!;
        await victim.kill('SIGKILL');
        mark(`SIGKILLed worker ${victim.pid} (${results.size} completed so far)`);
        const replacement = await spawnWorkerProcess(workerEnv);
        workers.push(replacement);
        allWorkers.push(replacement);
        mark(`replacement worker ${replacement.pid} running`);

        // 2. Restart the Temporal server.
        await sleep(3_000);
        mark(`restarting the Temporal server (${results.size} completed so far)`);
        await temporal.restartServer(2_000);
        mark('Temporal server back');

        // 3. Restart Postgres.
        await sleep(3_000);
        mark(`restarting Postgres (${results.size} completed so far)`);
        await temporal.restartPostgres(2_000);
        mark('Postgres back');

        let stuckTimer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            resultsDone,
            new Promise((_, reject) => {
              stuckTimer = setTimeout(
                () =>
                  reject(
                    new Error(
                      `stuck: ${EXPORTS - results.size - failures.size} exports still open after 8 minutes`,
                    ),
                  ),
                8 * 60_000,
              );
            }),
          ]);
        } finally {
          clearTimeout(stuckTimer);
        }
        mark(`all closed: ${results.size} completed, ${failures.size} failed`);
      } finally {
        clearInterval(rotation);
        clearInterval(progress);
      }

      // Every export completed, each with its own ExportJob and exactly one stored file matching the source.
      expect([...failures.entries()]).toEqual([]);
      expect(results.size).toBe(EXPORTS);
      const { data: jobs } = await sandbox.admin.get<{ data: SandboxJob[] }>('/jobs');
      const jobIds = [...results.values()].map((r) => r.jobId);
      expect(new Set(jobIds).size).toBe(EXPORTS);
      expect(jobs.map((j) => j.id).sort()).toEqual([...jobIds].sort());
      let checked = 0;
      for (const r of results.values()) {
        if (r.storage !== 'local') throw new Error(`expected local storage, got ${r.storage}`);
        const job = await sandbox.admin.get<SandboxJob>(`/jobs/${r.jobId}`);
        const body = fs.readFileSync(r.manifest.path);
        expect(createHash('sha256').update(body).digest('hex')).toBe(r.manifest.sha256);
        expect(job.files?.map((f) => f.sha256)).toEqual([r.manifest.sha256]);
        checked++;
      }
      const stored = fs
        .readdirSync(exportDir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile() && !d.name.endsWith('.manifest.json') && !d.name.startsWith('.'));
      expect(stored).toHaveLength(EXPORTS);

      // No pacing 429s; nothing left open.
      const counters = await sandbox.admin.get<{
        total: number;
        rateLimited: number;
        routes: Record<string, number>;
      }>('/counters');
      const { data: requests } = await sandbox.admin.get<{ data: { at: number }[] }>(
        `/requests?rateClass=config&since=${since}`,
      );
      const open = await connection.workflowService.countWorkflowExecutions({
        namespace: temporal.namespace,
        query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
      });
      const claims = await connection.workflowService.countWorkflowExecutions({
        namespace: temporal.namespace,
        query: `TaskQueue = '${taskQueue}' AND WorkflowType = '${JOB_CLAIM_WORKFLOW}'`,
      });
      const wallS = (Date.now() - since) / 1000;
      process.stderr.write(
        [
          '',
          '[chaos] timeline',
          ...timeline.map((l) => `  ${l}`),
          '[chaos] counts',
          `  exports completed ${results.size}/${EXPORTS}, failed ${failures.size}, files checked ${checked}, stored ${stored.length}`,
          `  ExportJobs ${jobs.length} (distinct per export ${new Set(jobIds).size}; adopted by recovery ${[...results.values()].filter((r) => r.recovered).length})`,
          `  trigger POSTs ${counters.routes['POST /organizations/:orgId/dataexports/adhoc'] ?? 0}`,
          `  sandbox requests ${counters.total} (Config API ${requests.length}, ${(requests.length / wallS).toFixed(1)}/s over ${wallS.toFixed(0)} s)`,
          `  429s from the rate limiter ${counters.rateLimited} (injected faults: 10 % of requests)`,
          `  job claims ${Number(claims.count)}`,
          `  open workflows ${Number(open.count)}`,
          '',
        ].join('\n'),
      );
      expect(counters.rateLimited).toBe(0);
      expect(Number(open.count)).toBe(0);
      expect(Number(claims.count)).toBe(EXPORTS);
    },
    14 * 60_000,
  );
});
