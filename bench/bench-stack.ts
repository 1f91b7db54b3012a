// What the single-worker benches share: a Temporal dev server, a sandbox process, a work folder and a client;
// `stop()` releases all of them, and the worker process when one was set.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type RunningDevServer } from '../tooling/devserver';
import { spawnSandboxProcess, type SandboxProcess } from '../tooling/sandbox-process';
import type { spawnWorkerProcess } from '../test/support/worker-process';

export interface BenchStack {
  temporal: RunningDevServer;
  sandbox: SandboxProcess;
  /** A fresh folder, removed by `stop()`. */
  work: string;
  client: Client;
  /** The worker process the bench spawned, stopped first by `stop()`. */
  worker?: Awaited<ReturnType<typeof spawnWorkerProcess>>;
  stop(): Promise<void>;
}

export async function startBenchStack(name: string, say: (m: string) => void): Promise<BenchStack> {
  const temporal = await startDevServer({ log: say });
  const sandbox = await spawnSandboxProcess();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  const connection = await Connection.connect({ address: temporal.address });
  const stack: BenchStack = {
    temporal,
    sandbox,
    work,
    client: new Client({ connection }),
    async stop() {
      await stack.worker?.stop();
      await sandbox.stop();
      await connection.close();
      await temporal.stop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
  return stack;
}
