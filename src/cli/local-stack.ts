// Everything on one machine for `dev` and `demo`: the real Temporal dev server (found or built, see
// src/devserver), the m3ter sandbox, and an export worker pointed at both. Loopback only.
import path from 'node:path';
import type { AppConfig } from '../config';
import { startDevServer, type RunningDevServer } from '../devserver';
import { createLogger, type AppLogger } from '../log/logger';
import { startSandbox, type RunningSandbox } from '../sandbox';
import { createExportWorker, installRuntime, type ExportWorker } from '../worker';

export interface LocalStackOptions {
  temporalPort?: number;
  /** undefined = headless */
  uiPort?: number;
  sandboxPort?: number;
  exportDir: string;
  logLevel?: AppConfig['logLevel'];
  progress?: (msg: string) => void;
}

export interface LocalStack {
  temporal: RunningDevServer;
  sandbox: RunningSandbox;
  worker: ExportWorker;
  config: AppConfig;
  log: AppLogger;
  stop(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const progress = opts.progress ?? (() => undefined);
  progress('starting the Temporal dev server ...');
  const temporal = await startDevServer({ port: opts.temporalPort, uiPort: opts.uiPort, log: progress });
  let sandbox: RunningSandbox | undefined;
  try {
    sandbox = await startSandbox({ port: opts.sandboxPort ?? 0 });
    const config: AppConfig = {
      m3ter: sandbox.m3ter,
      temporal: { address: temporal.address, namespace: temporal.namespace, taskQueue: 'm3ter-exports' },
      exportDir: path.resolve(opts.exportDir),
      logLevel: opts.logLevel ?? 'warn',
    };
    // Logs go to stderr so stdout stays clean for manifests.
    const log = createLogger({
      level: config.logLevel,
      secrets: [config.m3ter.apiSecret],
      destination: (await import('pino')).default.destination({ fd: 2, sync: false }),
    });
    installRuntime(log);
    progress('starting the export worker ...');
    const worker = await createExportWorker(config, log);
    const running = worker.run();
    const stack: LocalStack = {
      temporal,
      sandbox,
      worker,
      config,
      log,
      async stop() {
        worker.shutdown();
        await running.catch(() => undefined);
        await sandbox?.close();
        await temporal.stop();
      },
    };
    return stack;
  } catch (err) {
    await sandbox?.close();
    await temporal.stop();
    throw err;
  }
}
