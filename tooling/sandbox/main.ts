import { parseArgs } from 'node:util';
import { applyHeapFlags, runningMajor, toolFlagsFor } from '../../src/runtime/heap-flags';
import { startSandbox, type RunningSandbox } from './index';

/**
 * `m3ter-exports sandbox` and `node bin/run-ts.js tooling/sandbox/main.ts [--port N] [--ingest-port N]
 * [--seed N] [--data-file F] [--json]`. Prints a banner (or one JSON ready line) with the
 * sandbox's base URL and its credentials.
 */
export interface SandboxCommandOptions {
  port?: number;
  /** Listen address (default loopback; a container needs 0.0.0.0). */
  host?: string;
  ingestPort?: number;
  seed?: number;
  json?: boolean;
  dataFile?: string;
}

export function banner(s: RunningSandbox): string {
  return [
    '=====================================================================',
    ' m3ter SANDBOX (not m3ter): a local simulator for tests and demos',
    '=====================================================================',
    ` base URL      ${s.baseUrl}`,
    ` ingest URL    ${s.ingestUrl}`,
    ` admin API     ${s.adminUrl}`,
    ` org id        ${s.orgId}`,
    ` access key id ${s.accessKeyId}`,
    ` api secret    ${s.apiSecret}   (the sandbox's own generated credential)`,
    '',
    ' Point the worker at it:',
    `   export M3TER_API_URL=${s.baseUrl}`,
    `   export M3TER_INGEST_URL=${s.ingestUrl}`,
    `   export M3TER_ORG_ID=${s.orgId}`,
    `   export M3TER_ACCESS_KEY_ID=${s.accessKeyId}`,
    `   export M3TER_API_SECRET=${s.apiSecret}`,
    '',
  ].join('\n');
}

export async function runSandboxCommand(opts: SandboxCommandOptions): Promise<RunningSandbox> {
  const sandbox = await startSandbox({
    port: opts.port,
    host: opts.host,
    ingestPort: opts.ingestPort,
    seed: opts.seed,
    dataFile: opts.dataFile,
  });
  if (opts.json) {
    const ready = {
      event: 'sandbox.ready',
      baseUrl: sandbox.baseUrl,
      ingestUrl: sandbox.ingestUrl,
      adminUrl: sandbox.adminUrl,
      orgId: sandbox.orgId,
      accessKeyId: sandbox.accessKeyId,
      apiSecret: sandbox.apiSecret,
    };
    process.stdout.write(JSON.stringify(ready) + '\n');
  } else {
    process.stdout.write(banner(sandbox));
  }
  return sandbox;
}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

export async function runFromArgv(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'ingest-port': { type: 'string' },
      seed: { type: 'string' },
      'data-file': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const sandbox = await runSandboxCommand({
    port: intOption(values.port, 'port'),
    ingestPort: intOption(values['ingest-port'], 'ingest-port'),
    seed: intOption(values.seed, 'seed'),
    dataFile: values['data-file'],
    json: values.json,
  });
  const shutdown = (): void => {
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/**
 * Run directly? `bin/run-ts.js` requires this file from its own module, so `require.main` is the
 * launcher, not this module; being required by the launcher itself counts as "run directly".
 */
function isEntryPoint(): boolean {
  if (require.main === module) return true;
  const launcher = require.main?.filename ?? '';
  return /[\\/]bin[\\/]run-ts\.js$/.test(launcher) && module.parent === require.main;
}

if (isEntryPoint()) {
  // It serves files as an object store would: without Node.js 24's costly collections of short-lived
  // Buffers, so that it does not take CPU from the worker it serves on a small machine.
  applyHeapFlags(toolFlagsFor(runningMajor()));
  runFromArgv(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`sandbox failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
