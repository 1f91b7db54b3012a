// The export worker: one process polling the task queue with the export workflows and their activities.
// `m3ter-exports worker` runs it; `dev` and `demo` embed it. Shuts down gracefully on SIGINT/SIGTERM
// (in-flight activities get their shutdown grace time; workflows simply resume on the next worker).
import { Client } from '@temporalio/client';
import { Runtime, Worker, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { createActivities, createWorkflowJobClaims, type ActivityDeps } from '../activities';
import { buildAlertRouter, startMonitorAtWorkerStart } from './alerts/worker-alerting';
import { createLedgerAlerter } from './alerts/ledger';
import type { AppConfig } from './config/config';
import { createLogger, temporalLogger, type AppLogger } from './log/logger';
import { environmentSecrets } from './log/secrets';
import { createExportJobBatcher, createM3terClient } from './m3ter';
import { DEFAULT_CLIENT_RATE_LIMITS } from './m3ter/rate-limit';
import { statusCallsPerSecond } from './m3ter/export-job-batcher';
import { startHealthServer, type HealthServer, type Liveness, type Readiness } from './runtime/health';
import { activityLogInterceptor, contextualLogger } from './log/activity-context';
import { setActivityQueueRate } from './m3ter/budget';
import { M3TER_QUEUE_HEARTBEAT, m3terIngestTaskQueue, m3terTaskQueue } from './contract/task-queues';
import { createLocalStorage } from './storage/local';
import { createS3Client, createS3Storage } from './storage/s3';
import { workflowSource } from './runtime/workflow-bundle';
import { downloadSettings } from '../activities/download-attempt';
import {
  connectTemporalClient,
  connectTemporalWorker,
  describeTemporalSettings,
  explainConnectionFailure,
} from './temporal/connection';
import {
  deploymentVersion,
  makeCurrentIfNone,
  workerDeploymentOptions,
  type DeploymentVersion,
} from './runtime/deployment';
import { applyHeapFlags, heapFlagsAdvice } from './runtime/heap-flags';

let runtimeInstalled = false;

/** Runtime.install may run once per process; it wires SDK logs into pino and Prometheus metrics. */
export function installRuntime(log: AppLogger, metrics?: { port: number; host: string }): void {
  if (runtimeInstalled) return;
  Runtime.install({
    logger: temporalLogger(log),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    telemetryOptions: {
      // Core (Rust) logs go through pino too, so every line is structured JSON on one stream.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metrics
        ? {
            metrics: {
              prometheus: { bindAddress: hostPort(metrics.host, metrics.port) },
              metricPrefix: 'temporal_',
            },
          }
        : {}),
    },
  });
  runtimeInstalled = true;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface ExportWorker {
  worker: Worker;
  /** Polls `<taskQueue>-m3ter`: the activities that call the m3ter Config API, dispatched at the deployment's budget. */
  m3terWorker: Worker;
  /** The budget set on that queue (requests per second, all workers together). */
  m3terBudget: number;
  /** The Worker Deployment version every worker polls as; undefined with WORKER_VERSIONING=off. */
  version?: DeploymentVersion;
  /** Ready = connected to Temporal and every worker polling (`/readyz`). */
  readiness(): Promise<Readiness>;
  /** Live = every worker starting or running (`/healthz`): a stopped or failed worker is not. */
  liveness(): Liveness;
  run(): Promise<void>;
  shutdown(): void;
  /** Releases the workers and connections of a worker whose `run()` was never called (a failed start). */
  close(): Promise<void>;
}

/** Parts a test puts in place of the worker's own (fakes, fault injectors); the wiring stays this one. */
export interface ExportWorkerOverrides {
  deps?: Partial<ActivityDeps>;
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Another workflow source than the worker's own (src/runtime/workflow-bundle.ts): test-only variants. */
  workflowSource?: ReturnType<typeof workflowSource>;
}

/**
 * Builds the worker and its dependencies from config. The activities receive their dependencies here and
 * nowhere else: the m3ter client, local storage, the alerter, a clock, and the job claims the trigger writes
 * and its lost-response recovery reads.
 */
export async function createExportWorker(
  config: AppConfig,
  log: AppLogger,
  overrides: ExportWorkerOverrides = {},
): Promise<ExportWorker> {
  const m3terBudget = config.m3ter.maxRequestsPerSecond ?? DEFAULT_CLIENT_RATE_LIMITS.config.ratePerSec;
  // Contextual: lines written during an activity carry its workflow id, export name and window.
  const ingestBudget = config.ingest.requestsPerSecond;
  const m3ter = createM3terClient({
    ...config.m3ter,
    // Paced at the Ingest budget: the ingest queue's rate bounds all workers together, this one process.
    rateLimits: { ingest: { ratePerSec: ingestBudget, burst: Math.max(1, ingestBudget) } },
    logger: contextualLogger(log.child({ component: 'm3ter' })),
  });
  // Both from the same settings (src/temporal/connection.ts): whatever connects one connects the other.
  const nativeConnection = await connectTemporalWorker(config.temporal.connection);
  const clientConnection = await connectTemporalClient(config.temporal.connection).catch(async (err) => {
    await nativeConnection.close();
    throw err;
  });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });

  const activities = createActivities({
    m3ter,
    storage: createLocalStorage({ dir: config.exportDir, minFreeBytes: config.downloads.minFreeBytes }),
    // `storage: s3` exports; credentials come from the AWS SDK's default provider chain, never from us.
    ...(config.s3
      ? {
          s3Storage: createS3Storage({
            client: createS3Client({ ...config.s3, requestTimeoutMs: config.downloads.s3RequestTimeoutMs }),
            bucket: config.s3.bucket,
            prefix: config.s3.prefix,
            log: contextualLogger(log.child({ component: 'storage' })),
          }),
        }
      : {}),
    downloads: downloadSettings(config.downloads),
    clock: { now: () => Date.now() },
    log: contextualLogger(log.child({ component: 'activities' })),
    // Alerts are claimed in the ledger (one per failed job, see src/alerts/ledger.ts) and delivered by
    // alertDeliveryWorkflow through the router's channels.
    alerter: createLedgerAlerter({
      client,
      taskQueue: config.temporal.taskQueue,
      log: log.child({ component: 'alerts' }),
    }),
    alertRouter: buildAlertRouter(config),
    ...(config.monitor.incidents ? { incidents: config.monitor.incidents } : {}),
    taskQueue: config.temporal.taskQueue,
    events: m3ter,
    // Who owns which ExportJob: claims the trigger writes and its recovery reads (activities/claims.ts).
    jobClaims: createWorkflowJobClaims({ client, taskQueue: config.temporal.taskQueue }),
    workflowClient: client,
    // One batcher for every wait in this process: concurrent polls share list calls (see its header).
    readExportJob: createExportJobBatcher(m3ter, { maxCallsPerInterval: statusCallsPerSecond(m3terBudget) }),
    // Measurement ingest (docs/ingest.md): s3:// files are read with the S3 endpoint settings.
    ingest: { m3ter, s3: createS3Client(config.ingest.s3) },
    ...overrides.deps,
  });
  const interceptors = { activity: [activityLogInterceptor, ...(overrides.activityInterceptors ?? [])] };

  // The deployment's m3ter budget is a server-side dispatch rate on the m3ter queue (src/m3ter/budget.ts).
  // Set before polling, and never as `maxTaskQueueActivitiesPerSecond` on the worker: a worker-set limit
  // is replaced by the next poller's, an API-set one is not. Set before the workers exist too: it is the
  // first call that needs rights on the namespace, and a refusal here leaves no worker holding the
  // connection open.
  const m3terQueue = m3terTaskQueue(config.temporal.taskQueue);
  const ingestQueue = m3terIngestTaskQueue(config.temporal.taskQueue);
  // Whatever this start-up opened is released when a later step fails: a half-built worker must not keep
  // the process alive.
  const created: Worker[] = [];
  const release = async () => {
    await releaseUnrun(created);
    await clientConnection.close().catch(() => undefined);
    await nativeConnection.close().catch(() => undefined);
  };
  try {
    await setActivityQueueRate(client, {
      namespace: config.temporal.namespace,
      taskQueue: m3terQueue,
      requestsPerSecond: m3terBudget,
    });
    await setActivityQueueRate(client, {
      namespace: config.temporal.namespace,
      taskQueue: ingestQueue,
      requestsPerSecond: ingestBudget,
      reason: 'm3ter Ingest API budget of this deployment (M3TER_INGEST_REQUESTS_PER_SECOND)',
    });
  } catch (err) {
    await release();
    throw err;
  }

  // Before Worker.create starts the workflow thread, whose heap follows the growing factor too.
  applyHeapFlags();
  const source = overrides.workflowSource ?? workflowSource();
  // Both workers poll as the same version: activities of a pinned workflow go to its build's pollers.
  const bundle = source.workflowBundle;
  const version = deploymentVersion(
    config.temporal,
    bundle && 'codePath' in bundle ? bundle.codePath : undefined,
  );
  const deployment = workerDeploymentOptions(version);
  let worker: Worker;
  let m3terWorker: Worker;
  let ingestWorker: Worker;
  try {
    worker = await Worker.create({
      connection: nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      ...source,
      ...(deployment ? { workerDeploymentOptions: deployment } : {}),
      // All activities, also the m3ter ones, so an activity task on either queue always finds a worker.
      activities,
      interceptors,
      shutdownGraceTime: '30 seconds',
      // A wait holds its slot for its job's whole life, asleep between polls that the shared batcher serves
      // (a few KB each): the bound must exceed the exports one worker waits on at once, or finished jobs
      // would sit unnoticed behind unstarted waits. It bounds memory, not m3ter calls.
      maxConcurrentActivityTaskExecutions: 2_000,
      // The SDK's default scales with the heap limit. A cached run holds its own copy of the workflow
      // modules and its state; an evicted run replays its short history on its next task, which is cheap.
      // Trade-off measured by the scale bench (docs/benchmarks.md).
      maxCachedWorkflows: config.temporal.maxCachedWorkflows,
    });
    created.push(worker);

    m3terWorker = await Worker.create({
      connection: nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue: m3terQueue,
      activities,
      ...(deployment ? { workerDeploymentOptions: deployment } : {}),
      interceptors,
      shutdownGraceTime: '30 seconds',
      // Downloads stream for a while after their one URL call; the queue's rate, not this, bounds the calls.
      maxConcurrentActivityTaskExecutions: 100,
      // Every beat reaches the server, so the queue's short heartbeat timeout holds several of them.
      maxHeartbeatThrottleInterval: M3TER_QUEUE_HEARTBEAT.everyMs,
    });
    created.push(m3terWorker);

    // One task, one ingest request: the queue's rate is the Ingest budget, the slots only bound memory.
    ingestWorker = await Worker.create({
      connection: nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue: ingestQueue,
      activities,
      ...(deployment ? { workerDeploymentOptions: deployment } : {}),
      interceptors,
      shutdownGraceTime: '30 seconds',
      maxConcurrentActivityTaskExecutions: 32,
    });
    created.push(ingestWorker);
  } catch (err) {
    await release();
    throw err;
  }
  log.info(
    { m3terTaskQueue: m3terQueue, requestsPerSecond: m3terBudget },
    'm3ter budget set on the m3ter activity task queue (all workers together)',
  );

  const named: Array<[string, Worker]> = [
    ['workflow', worker],
    ['m3ter', m3terWorker],
    ['ingest', ingestWorker],
  ];
  const workers = named.map(([, w]) => w);
  // Made current if the deployment has none, once the workers poll (the server registers the version then).
  // Not part of readiness: a build waiting to be promoted is ready, it just gets no tasks yet.
  const stopChecking = new AbortController();
  const checkVersion = async () => {
    if (!version) return;
    try {
      await makeCurrentIfNone({
        client,
        namespace: config.temporal.namespace,
        version,
        taskQueues: [config.temporal.taskQueue, m3terQueue, ingestQueue],
        log,
        signal: stopChecking.signal,
      });
    } catch (err) {
      if (!stopChecking.signal.aborted) log.error({ err, ...version }, 'deployment version check failed');
    }
  };
  let lastNotConnected: string | undefined;
  return {
    worker,
    m3terWorker,
    m3terBudget,
    ...(version ? { version } : {}),
    async readiness() {
      const reasons: string[] = [];
      for (const [name, w] of named)
        if (w.getState() !== 'RUNNING') reasons.push(`${name} worker is ${w.getState()}`);
      try {
        // The server's own gRPC health check, bounded: a probe must answer quickly either way.
        await clientConnection.withDeadline(Date.now() + 2_000, () =>
          clientConnection.healthService.check({}),
        );
      } catch (err) {
        const why = await explainConnectionFailure(config.temporal.connection, err);
        // The log has the whole cause; the probe's answer goes to whoever reaches the port.
        if (why.cause !== lastNotConnected)
          log.warn({ cause: why.cause }, 'readiness: not connected to Temporal');
        lastNotConnected = why.cause;
        reasons.push(`not connected: ${publicCause(why, config.temporal.connection.address)}`);
      }
      if (reasons.length === 0) lastNotConnected = undefined;
      return { ready: reasons.length === 0, reasons };
    },
    liveness() {
      const reasons = named
        .filter(([, w]) => w.getState() !== 'INITIALIZED' && w.getState() !== 'RUNNING')
        .map(([name, w]) => `${name} worker is ${w.getState()}`);
      return { live: reasons.length === 0, reasons };
    },
    close: release,
    async run() {
      try {
        // One stopping (shutdown, or a fatal error) stops the others: a process half polling is not ready.
        const polling = Promise.all(
          workers.map((w) =>
            w.run().finally(() => {
              stopChecking.abort();
              for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
            }),
          ),
        );
        // The version registers with the workers' first polls, so it is checked once they poll.
        await Promise.all([polling, checkVersion()]);
      } finally {
        await nativeConnection.close();
        await clientConnection.close();
      }
    },
    // Idempotent: SIGINT/SIGTERM reach the SDK runtime (shutdownSignals), which may already be draining
    // the workers when our own shutdown path runs; the SDK throws if asked twice.
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

/**
 * Releases workers created but never run: the SDK frees a worker's hold on its connection only when its
 * run ends, so each is run and shut down at once (it may poll for that moment; nothing is lost, a task it
 * takes goes back to the server on shutdown).
 */
async function releaseUnrun(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.runUntil(Promise.resolve()).catch(() => undefined)));
}

/** What `/readyz` says about a failed connection: the diagnosis without the address (logged in full). */
function publicCause(why: { cause: string; fromSdk?: boolean }, address: string): string {
  if (why.fromSdk) return 'the Temporal health check failed (see the worker log)';
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return why.cause.split(address).join('the Temporal address').split(host).join('the Temporal host');
}

/**
 * `m3ter-exports worker`: run until SIGINT/SIGTERM. Starts whole or not at all: a failing step closes what
 * the earlier ones opened and the command fails.
 */
export async function runWorkerCommand(config: AppConfig): Promise<number> {
  const apiKey = config.temporal.connection.apiKey?.reveal();
  const log = createLogger({
    level: config.logLevel,
    secrets: [config.m3ter.apiSecret, config.alertWebhookUrl, apiKey, ...environmentSecrets()].filter(
      (s): s is string => typeof s === 'string',
    ),
  });
  installRuntime(
    log,
    config.metricsPort === undefined ? undefined : { port: config.metricsPort, host: config.metricsHost },
  );
  const w = await createExportWorker(config, log);
  let health: HealthServer | undefined;
  try {
    // Up before the workers poll, so liveness answers while readiness still says why not.
    health =
      config.healthPort === undefined
        ? undefined
        : await startHealthServer({
            port: config.healthPort,
            host: config.healthHost,
            readiness: () => w.readiness(),
            liveness: () => w.liveness(),
            onError: (err) => log.warn({ err }, 'readiness check failed'),
          });
  } catch (err) {
    await w.close();
    throw err;
  }
  const stopMonitorStart = new AbortController();
  try {
    void startMonitorAtWorkerStart(config, log, stopMonitorStart.signal);
    const heapAdvice = heapFlagsAdvice();
    if (heapAdvice) log.warn({ node: process.version }, heapAdvice);
    log.info(
      {
        taskQueue: config.temporal.taskQueue,
        m3terTaskQueue: m3terTaskQueue(config.temporal.taskQueue),
        m3terBudgetPerSecond: w.m3terBudget,
        namespace: config.temporal.namespace,
        deploymentName: w.version?.deploymentName,
        buildId: w.version?.buildId,
        temporal: describeTemporalSettings(config.temporal.connection),
        m3ter: config.m3ter.apiUrl,
        exportDir: config.exportDir,
        metricsPort: config.metricsPort,
        healthPort: health?.port,
      },
      'worker started',
    );
    await w.run();
  } finally {
    stopMonitorStart.abort();
    await health?.close();
  }
  log.info('worker stopped');
  return 0;
}
