// The export worker: one process polling the task queue with the export workflows and their activities.
// `m3ter-exports worker` runs it; `dev` and `demo` embed it. Shuts down gracefully on SIGINT/SIGTERM
// (in-flight activities get their shutdown grace time; workflows simply resume on the next worker).
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, createVisibilityClaimChecker } from '../activities';
import { buildAlertRouter, startMonitorAtWorkerStart } from './alerting';
import { createLedgerAlerter } from './alerts/ledger';
import type { AppConfig } from './config';
import { createLogger, temporalLogger, type AppLogger } from './log/logger';
import { createExportJobBatcher, createM3terClient } from './m3ter';
import { createLocalStorage } from './storage/local';
import { createS3Client, createS3Storage } from './storage/s3';
import { workflowSource } from './workflow-bundle';

let runtimeInstalled = false;

/** Runtime.install may run once per process; it wires SDK logs into pino and Prometheus metrics. */
export function installRuntime(log: AppLogger, metricsPort?: number): void {
  if (runtimeInstalled) return;
  Runtime.install({
    logger: temporalLogger(log),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    telemetryOptions: {
      // Core (Rust) logs go through pino too, so every line is structured JSON on one stream.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metricsPort
        ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${metricsPort}` }, metricPrefix: 'temporal_' } }
        : {}),
    },
  });
  runtimeInstalled = true;
}

export interface ExportWorker {
  worker: Worker;
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * Builds the worker and its dependencies from config. The activities receive their dependencies here and
 * nowhere else: the m3ter client, local storage, the alerter, a clock, and a visibility lookup used by the
 * trigger's lost-response recovery.
 */
export async function createExportWorker(config: AppConfig, log: AppLogger): Promise<ExportWorker> {
  const m3ter = createM3terClient({ ...config.m3ter, logger: log.child({ component: 'm3ter' }) });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });

  const activities = createActivities({
    m3ter,
    storage: createLocalStorage({ dir: config.exportDir }),
    // `storage: s3` exports; credentials come from the AWS SDK's default provider chain, never from us.
    ...(config.s3
      ? {
          s3Storage: createS3Storage({
            client: createS3Client(config.s3),
            bucket: config.s3.bucket,
            prefix: config.s3.prefix,
            log: log.child({ component: 'storage' }),
          }),
        }
      : {}),
    clock: { now: () => Date.now() },
    log: log.child({ component: 'activities' }),
    // Alerts are claimed in the ledger (one per failed job, see src/alerts/ledger.ts) and delivered by
    // alertDeliveryWorkflow through the router's channels.
    alerter: createLedgerAlerter({
      client,
      taskQueue: config.temporal.taskQueue,
      log: log.child({ component: 'alerts' }),
    }),
    alertRouter: buildAlertRouter(config),
    taskQueue: config.temporal.taskQueue,
    events: m3ter,
    claimedJobIds: createVisibilityClaimChecker(client),
    workflowClient: client,
    // One batcher for every wait in this process: concurrent polls share list calls (see its header).
    readExportJob: createExportJobBatcher(m3ter),
  });

  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workflowSource(),
    activities,
    shutdownGraceTime: '30 seconds',
    // Polls are cheap and mostly asleep; downloads are I/O bound. These bound memory, not throughput.
    maxConcurrentActivityTaskExecutions: 200,
    // The SDK's default scales with the heap limit (~2,000 runs on a 4 GB heap) at ~0.3 MB a run: 1,000
    // concurrent exports took the worker to ~600 MB. At 100 they peak at ~350 MB in the same wall time;
    // evicted runs replay their short history (< 60 events) on their next task. `npm run bench -- --only scale`.
    maxCachedWorkflows: config.temporal.maxCachedWorkflows,
  });

  return {
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await nativeConnection.close();
        await clientConnection.close();
      }
    },
    // Idempotent: SIGINT/SIGTERM reach the SDK runtime (shutdownSignals), which may already be draining
    // the worker when our own shutdown path runs; the SDK throws if asked twice.
    shutdown: () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}

async function withClient<T>(config: AppConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    return await fn(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

/** `m3ter-exports worker`: run until SIGINT/SIGTERM. */
export async function runWorkerCommand(config: AppConfig): Promise<number> {
  const log = createLogger({ level: config.logLevel, secrets: [config.m3ter.apiSecret] });
  installRuntime(log, config.metricsPort);
  const w = await createExportWorker(config, log);
  await withClient(config, (client) => startMonitorAtWorkerStart(config, client, log));
  log.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      temporal: config.temporal.address,
      m3ter: config.m3ter.apiUrl,
      exportDir: config.exportDir,
      metricsPort: config.metricsPort,
    },
    'worker started',
  );
  await w.run();
  log.info('worker stopped');
  return 0;
}
