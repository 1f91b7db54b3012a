// Runs the m3ter sandbox as a REAL separate process (as users run it) and talks to its admin API over HTTP.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { stopChild } from './devserver';
import type { M3terConfig } from '../src/config/config';
import { runningMajor, toolFlagsFor } from '../src/runtime/heap-flags';

const ROOT = path.resolve(__dirname, '..');

export interface SandboxAdmin {
  get<T = unknown>(p: string): Promise<T>;
  post<T = unknown>(p: string, body?: unknown): Promise<T>;
  del<T = unknown>(p: string): Promise<T>;
}

export interface SandboxProcess {
  baseUrl: string;
  ingestUrl: string;
  adminUrl: string;
  orgId: string;
  accessKeyId: string;
  apiSecret: string;
  pid: number;
  admin: SandboxAdmin;
  /** Settings for an M3terClient or worker config pointed at this sandbox. */
  m3ter: M3terConfig;
  /** Env for a worker/CLI pointed at this sandbox. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface SpawnSandboxOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

async function adminCall<T>(adminUrl: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${adminUrl}${p}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox admin ${method} ${p} -> ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function spawnSandboxProcess(opts: SpawnSandboxOptions = {}): Promise<SandboxProcess> {
  const child = spawn(
    process.execPath,
    [
      // It serves files as an object store would, without Node.js 24's costly collections of short-lived
      // Buffers, so that it does not take CPU from the worker it serves on a small machine.
      ...toolFlagsFor(runningMajor()),
      path.join(ROOT, 'bin/run-ts.js'),
      'tooling/sandbox/main.ts',
      '--port',
      '0',
      '--json',
      ...(opts.args ?? []),
    ],
    { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sandbox not ready in time; stderr: ${stderr}`)),
      opts.readyTimeoutMs ?? 60_000,
    );
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, string>;
        if (msg.event === 'sandbox.ready') {
          clearTimeout(timer);
          resolve(msg);
        }
      } catch {
        /* banner or log line */
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited with ${code}; stderr: ${stderr}`));
    });
  });
  child.stdout?.resume();
  const adminUrl = ready.adminUrl;
  return {
    baseUrl: ready.baseUrl,
    ingestUrl: ready.ingestUrl ?? ready.baseUrl,
    adminUrl,
    orgId: ready.orgId,
    accessKeyId: ready.accessKeyId,
    apiSecret: ready.apiSecret,
    pid: child.pid!,
    m3ter: {
      orgId: ready.orgId,
      accessKeyId: ready.accessKeyId,
      apiSecret: ready.apiSecret,
      apiUrl: ready.baseUrl,
      ingestUrl: ready.ingestUrl ?? ready.baseUrl,
    },
    admin: {
      get: (p) => adminCall(adminUrl, 'GET', p),
      post: (p, body) => adminCall(adminUrl, 'POST', p, body ?? {}),
      del: (p) => adminCall(adminUrl, 'DELETE', p),
    },
    env: {
      M3TER_API_URL: ready.baseUrl,
      M3TER_INGEST_URL: ready.ingestUrl ?? ready.baseUrl,
      M3TER_ORG_ID: ready.orgId,
      M3TER_ACCESS_KEY_ID: ready.accessKeyId,
      M3TER_API_SECRET: ready.apiSecret,
    },
    async stop() {
      await stopChild(child, 5000);
      process.removeListener('exit', killOnExit);
    },
  };
}
