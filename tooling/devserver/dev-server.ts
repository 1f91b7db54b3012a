// Starts the real Temporal dev server (`temporal server start-dev`) as a child process on loopback and
// waits until its frontend answers. We start it ourselves instead of through @temporalio/testing because the
// SDK allows the server only ~5 s to come up, too short on a busy 2-core CI machine.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findTemporalCli, type FoundCli } from './find-cli';
import {
  localTemporalSettings,
  openClientConnection,
  temporalConnectionOptions,
} from '../../src/temporal/connection';

import { cliTypeName, SEARCH_ATTRIBUTES } from '../../src/contract/search-attributes';

export interface DevServerOptions {
  cli?: FoundCli;
  ip?: string;
  port?: number;
  /** Serve the Temporal Web UI on this port (0 = pick a free one); omit for headless. */
  uiPort?: number;
  namespace?: string;
  /** SQLite file; a fresh temp file by default (a persistent path keeps history across restarts). */
  dbFilename?: string;
  readyTimeoutMs?: number;
  log?: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface RunningDevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  pid?: number;
  source: FoundCli['source'] | 'sdk-download';
  stop(): Promise<void>;
}

export async function freePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, ip, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when `port` can be bound on `ip`; rejects naming the port when something already listens there. */
async function assertPortFree(ip: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => reject(new Error(`port ${ip}:${port} is already in use; pick another port`)));
    srv.listen(port, ip, () => srv.close(() => resolve()));
  });
}

async function waitUntilReady(address: string, namespace: string, child: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    try {
      // The builder's options for a plaintext server we started; its error explanations are not wanted in
      // a loop that expects to fail until the server is up.
      const settings = localTemporalSettings(address, namespace, 'the dev server');
      const conn = await openClientConnection(
        temporalConnectionOptions(settings, { connectTimeoutMs: 2000 }).client,
      );
      try {
        await conn.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`temporal dev server at ${address} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The SDK path: downloads the dev server from the internet (users' machines); used when no CLI is found. */
async function startWithSdkDownload(opts: DevServerOptions): Promise<RunningDevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const namespace = opts.namespace ?? 'default';
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: opts.ip ?? '127.0.0.1',
      port: opts.port,
      namespace,
      ui: opts.uiPort !== undefined,
      uiPort: opts.uiPort || undefined,
      dbFilename: opts.dbFilename,
      searchAttributes: [...SEARCH_ATTRIBUTES],
      extraArgs: ['--dynamic-config-value', 'frontend.enableServerVersionCheck=false'],
    },
  });
  const address = env.address;
  return {
    address,
    namespace,
    source: 'sdk-download',
    stop: () => env.teardown(),
  };
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<RunningDevServer> {
  const log = opts.log ?? (() => undefined);
  const cli = opts.cli ?? (await findTemporalCli({ env: opts.env, log }));
  if (!cli) {
    log('no temporal CLI found and no Go toolchain: using the Temporal SDK download (needs internet)');
    return startWithSdkDownload(opts);
  }
  const ip = opts.ip ?? '127.0.0.1';
  // A fixed port must be free: otherwise the readiness check would find whatever server already listens
  // there and this stack would silently talk to it.
  if (opts.port) await assertPortFree(ip, opts.port);
  const port = opts.port || (await freePort(ip));
  const namespace = opts.namespace ?? 'default';
  const ownDb = !opts.dbFilename;
  const dbFilename =
    opts.dbFilename ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-temporal-')), 'temporal.db');
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--db-filename',
    dbFilename,
    '--log-level',
    'error',
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
  ];
  for (const key of SEARCH_ATTRIBUTES)
    args.push('--search-attribute', `${key.name}=${cliTypeName(key.type)}`);
  let uiUrl: string | undefined;
  if (opts.uiPort === undefined) {
    args.push('--headless');
  } else {
    const uiPort = opts.uiPort || (await freePort(ip));
    args.push('--ui-ip', ip, '--ui-port', String(uiPort));
    uiUrl = `http://${ip}:${uiPort}`;
  }
  const child = spawn(cli.path, args, { stdio: ['ignore', 'ignore', 'pipe'], env: opts.env ?? process.env });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  // If our process dies, do not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const address = `${ip}:${port}`;
  try {
    await waitUntilReady(address, namespace, child, opts.readyTimeoutMs ?? 120_000);
  } catch (err) {
    await stopChild(child, 2000);
    process.removeListener('exit', killOnExit);
    throw new Error(`${(err as Error).message}\n${stderrTail}`);
  }
  log(`temporal dev server ready at ${address} (${cli.source}: ${cli.path})`);
  return {
    address,
    namespace,
    uiUrl,
    pid: child.pid,
    source: cli.source,
    async stop() {
      await stopChild(child);
      process.removeListener('exit', killOnExit);
      if (ownDb) fs.rmSync(path.dirname(dbFilename), { recursive: true, force: true });
    },
  };
}
