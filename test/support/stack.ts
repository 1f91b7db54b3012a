// One integration stack per test file: a real sandbox process, a temporary export folder, the worker's
// configuration, and the export worker built by the worker's own wiring (src/worker.ts createExportWorker)
// running in this process. `close()` stops everything it started, in reverse order, and is safe to call
// when start-up failed half way, so a test writes `try { ... } finally { await stack.close() }` or
// `afterAll(() => stack?.close())`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, m3terEnv, type AppConfig } from '../../src/config/config';
import { createLogger, type AppLogger } from '../../src/log/logger';
import { createExportWorker, type ExportWorker, type ExportWorkerOverrides } from '../../src/worker';
import { spawnSandboxProcess, type SandboxProcess } from '../../tooling/sandbox-process';
import { connectTestTemporal, type TestTemporal } from './temporal-harness';

export interface StackOptions {
  /** Names the task queue and the temporary folder, so a leftover is traceable to its test file. */
  name: string;
  /** More worker configuration, as the variables loadConfig reads (alert channels, definitions file). */
  env?: Record<string, string>;
  /** An export definitions file (YAML) the worker reads: its alert channels and exports' alert lists. */
  definitions?: string;
  /** Posted to the sandbox's admin `/config` before the worker starts (job timing, outcomes). */
  sandboxConfig?: Record<string, unknown>;
  /** The worker's log level; its lines are kept in `logLines` (default `warn`). */
  logLevel?: string;
  /** Parts of the worker the test replaces; built once the sandbox, folder and logger exist. */
  overrides?: (parts: {
    log: AppLogger;
    dir: string;
    temporal: TestTemporal;
  }) => ExportWorkerOverrides | Promise<ExportWorkerOverrides>;
  /** A Temporal server other than the run's dev server (a test that restarts its own). */
  temporal?: { address: string; namespace: string };
  /** A sandbox the caller owns and stops itself; default: one of the stack's own. */
  sandbox?: SandboxProcess;
  /** A folder the caller owns (kept at close); default: a fresh temporary one. */
  dir?: string;
  /** A fixed task queue (a worker started again must poll the queue a schedule targets). */
  taskQueue?: string;
  /** false: everything but the in-process worker (tests that run worker processes or only the CLI). */
  worker?: boolean;
}

export interface Stack {
  temporal: TestTemporal;
  client: Client;
  sandbox: SandboxProcess;
  /** The stack's temporary folder; the worker exports into `exportDir` inside it. */
  dir: string;
  exportDir: string;
  taskQueue: string;
  config: AppConfig;
  /** The in-process worker, unless the stack was started with `worker: false`. */
  worker?: ExportWorker;
  /** The worker's log lines (JSON), for secret scans and log assertions. */
  logLines: string[];
  /** Variables pointing a worker process or the CLI at this stack (sandbox, Temporal, queue, folder). */
  env: Record<string, string>;
  close(): Promise<void>;
}

let runtimeInstalled = false;

/** The SDK's per-workflow INFO lines would drown the test output. */
function quietSdkRuntime(): void {
  if (runtimeInstalled) return;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* installed already by another file in this jest worker */
  }
  runtimeInstalled = true;
}

function capturingLogger(level: string, lines: string[]): AppLogger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  // No literal secrets to scrub: a secret scan must see what the code itself would write.
  return createLogger({ level, destination: sink });
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    quietSdkRuntime();
    const [temporal, sandbox] = await Promise.all([
      connectTestTemporal(opts.temporal),
      opts.sandbox ?? spawnSandboxProcess(),
    ]);
    cleanups.push(() => temporal.close());
    if (!opts.sandbox) cleanups.push(() => sandbox.stop());
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), `m3ter-${opts.name}-`));
    if (!opts.dir) cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    if (opts.sandboxConfig) await sandbox.admin.post('/config', opts.sandboxConfig);

    const taskQueue = opts.taskQueue ?? `${opts.name}-${process.pid}-${Date.now().toString(36)}`;
    const exportDir = path.join(dir, 'exports');
    const definitionsFile = path.join(dir, 'm3ter-exports.yaml');
    if (opts.definitions !== undefined) fs.writeFileSync(definitionsFile, opts.definitions);
    const env = {
      ...sandbox.env,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      EXPORT_DIR: exportDir,
      ...(opts.definitions !== undefined ? { EXPORT_DEFINITIONS_FILE: definitionsFile } : {}),
      ...opts.env,
    };
    const logLevel = opts.logLevel ?? 'warn';
    const config = loadConfig({ ...m3terEnv(sandbox.m3ter), ...env, LOG_LEVEL: logLevel });
    const logLines: string[] = [];
    let worker: ExportWorker | undefined;
    if (opts.worker !== false) {
      const log = capturingLogger(logLevel, logLines);
      const w = await createExportWorker(config, log, await opts.overrides?.({ log, dir, temporal }));
      // A worker that fails shows as the test's own failure (its exports never finish).
      const running = w.run().catch(() => undefined);
      cleanups.push(async () => {
        w.shutdown();
        await running;
      });
      worker = w;
    }
    return {
      temporal,
      client: temporal.client,
      sandbox,
      dir,
      exportDir,
      taskQueue,
      config,
      worker,
      logLines,
      env,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
