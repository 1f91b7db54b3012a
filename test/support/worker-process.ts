// Runs the export worker as a REAL process (`node bin/m3ter-exports.js worker`), capturing its log lines,
// so tests can SIGKILL it mid-export and grep its logs for secrets.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { majorOf, nodeFlagsFor } from '../../src/runtime/heap-flags';

const ROOT = path.resolve(__dirname, '../..');

export interface WorkerProcess {
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
  stop(): Promise<void>;
}

/** The heap flags `node` should start with, by its version (asked once per binary). */
const flagsByNode = new Map<string, readonly string[]>();
function flagsFor(node: string): readonly string[] {
  let flags = flagsByNode.get(node);
  if (!flags) {
    const version =
      node === process.execPath
        ? process.versions.node
        : execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    flags = nodeFlagsFor(majorOf(version));
    flagsByNode.set(node, flags);
  }
  return flags;
}

export async function spawnWorkerProcess(
  /** Added to this process's environment; an undefined value removes a variable. */
  env: Record<string, string | undefined>,
  readyTimeoutMs = 120_000,
  /** Another install's root (e.g. a compiled image built by the scale bench); default this checkout. */
  root = ROOT,
  /** The node binary (default the one running the tests). */
  node = process.execPath,
  /** The V8 flags node starts with (default the ones its version needs, as the image starts it). */
  nodeFlags: readonly string[] = flagsFor(node),
): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(node, [...nodeFlags, path.join(root, 'bin/m3ter-exports.js'), 'worker'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + readyTimeoutMs;
  // "worker started" is logged after Worker.create; the RUNNING state change follows once it polls.
  while (!/Worker state changed[^\n]*RUNNING|"state":"RUNNING"/.test(output)) {
    if (child.exitCode !== null)
      throw new Error(`worker exited with ${child.exitCode}:\n${output.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker not running after ${readyTimeoutMs} ms:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      process.removeListener('exit', killOnExit);
      return code;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 40_000);
        await exited;
        clearTimeout(t);
      }
      process.removeListener('exit', killOnExit);
    },
  };
}

/** A local webhook receiver for alert tests. */
export async function startWebhookReceiver(): Promise<{
  url: string;
  received: unknown[];
  close(): Promise<void>;
}> {
  const http = await import('node:http');
  const received: unknown[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body));
      } catch {
        received.push(body);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
