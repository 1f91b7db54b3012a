// Records the replay corpus: starts a Temporal dev server, a sandbox process, a webhook receiver and the
// export worker (as `m3ter-exports worker` builds it), drives every workflow type through its main paths
// (tooling/replay/scenarios.ts) and writes each history to test/replay/histories/<workflowType>/<path>.json.
//
//   node bin/run-ts.js scripts/record-histories.ts                 # every scenario; replaces the corpus
//   node bin/run-ts.js scripts/record-histories.ts --only bills    # some scenarios; keeps the other files
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, m3terEnv } from '../src/config/config';
import { createLogger } from '../src/log/logger';
import { createExportWorker, installRuntime } from '../src/worker';
import { startDevServer } from '../tooling/devserver';
import { spawnSandboxProcess } from '../tooling/sandbox-process';
import { HISTORIES_DIR } from '../tooling/replay/fixture';
import { createRecorder } from '../tooling/replay/recorder';
import { SCENARIOS } from '../tooling/replay/scenarios';

const log = (m: string) => process.stderr.write(`[record] ${m}\n`);

function chosenScenarios(argv: string[]): string[] {
  const i = argv.indexOf('--only');
  if (i < 0) return Object.keys(SCENARIOS);
  const names = (argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (!names.length || unknown.length)
    throw new Error(`--only takes some of: ${Object.keys(SCENARIOS).join(', ')}`);
  return names;
}

/** Stands in for an alert channel: answers 200 to every post. */
async function startWebhook(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

async function main(): Promise<void> {
  const names = chosenScenarios(process.argv.slice(2));
  // Everything started is stopped, in reverse order, however far the start-up got.
  const cleanup: Array<() => Promise<unknown> | void> = [];
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-replay-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const temporal = await startDevServer({ log });
    cleanup.push(() => temporal.stop());
    const sandbox = await spawnSandboxProcess();
    cleanup.push(() => sandbox.stop());
    const webhook = await startWebhook();
    cleanup.push(() => void webhook.close());
    const connection = await Connection.connect({ address: temporal.address });
    cleanup.push(() => connection.close());
    const exportDir = path.join(dir, 'exports');
    const config = loadConfig({
      ...m3terEnv(sandbox.m3ter),
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: 'replay-corpus',
      EXPORT_DIR: exportDir,
      LOG_LEVEL: 'warn',
      MONITOR: 'off',
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
    });
    const logger = createLogger({ level: 'warn', secrets: [config.m3ter.apiSecret] });
    installRuntime(logger);
    const worker = await createExportWorker(config, logger);
    const running = worker.run();
    cleanup.push(() => {
      worker.shutdown();
      return running.catch(() => undefined);
    });
    const rec = createRecorder({
      client: new Client({ connection, namespace: temporal.namespace }),
      taskQueue: config.temporal.taskQueue,
      localDirs: [exportDir, dir],
      secrets: [sandbox.apiSecret],
      log,
    });
    if (names.length === Object.keys(SCENARIOS).length)
      fs.rmSync(HISTORIES_DIR, { recursive: true, force: true });
    // A failing scenario does not stop the others: the run reports every failure at the end.
    const failed: string[] = [];
    for (const name of names) {
      log(`scenario ${name}`);
      await SCENARIOS[name]({ rec, sandbox, dir }).catch((err: Error) => {
        failed.push(name);
        log(`scenario ${name} failed: ${err.stack ?? err.message}`);
      });
    }
    if (failed.length) throw new Error(`scenarios failed: ${failed.join(', ')}`);
    log(`${rec.written.length} histories written under ${path.relative(process.cwd(), HISTORIES_DIR)}`);
  } finally {
    for (const stop of cleanup.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
}

main().catch((err: Error) => {
  log(err.stack ?? err.message);
  process.exitCode = 1;
});
