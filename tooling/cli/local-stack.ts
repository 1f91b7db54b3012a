// Everything on one machine for `dev` and `demo`: the real Temporal dev server (found or built, see
// tooling/devserver), the m3ter sandbox, and an export worker pointed at both. Loopback only.
import { loadConfig, m3terEnv, type AppConfig, type Env } from '../../src/config/config';
import { startDevServer, type RunningDevServer } from '../devserver';
import { createLogger, type AppLogger } from '../../src/log/logger';
import { startSandbox, type RunningSandbox } from '../sandbox';
import { localTemporalSettings, TEMPORAL_CONNECTION_VARIABLES } from '../../src/temporal/settings';
import { createExportWorker, installRuntime, type ExportWorker } from '../../src/worker';

export interface LocalStackOptions {
  temporalPort?: number;
  /** undefined = headless */
  uiPort?: number;
  sandboxPort?: number;
  /** Overrides EXPORT_DIR. */
  exportDir?: string;
  /** Overrides LOG_LEVEL. */
  logLevel?: AppConfig['logLevel'];
  /** The environment the rest of the configuration comes from (default process.env). */
  env?: Env;
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
    // The one config path: the environment, with the stack's own servers and credentials on top.
    // The shell's Temporal credentials and profile are for some other cluster: blanked (blank is unset).
    const noConnectionSettings = Object.fromEntries(TEMPORAL_CONNECTION_VARIABLES.map((v) => [v, '']));
    const config = loadConfig({
      ...(opts.env ?? process.env),
      ...noConnectionSettings,
      ...m3terEnv(sandbox.m3ter),
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      ...(opts.exportDir === undefined ? {} : { EXPORT_DIR: opts.exportDir }),
      ...(opts.logLevel === undefined ? {} : { LOG_LEVEL: opts.logLevel }),
    });
    // Plaintext to the dev server, whatever a default config file's profile says about TLS or keys.
    config.temporal.connection = localTemporalSettings(
      temporal.address,
      temporal.namespace,
      'the dev server',
    );
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
