// `sandbox`, `dev` and `demo`: the CLI's doors to the tooling (tooling/). The tooling is loaded with
// import() only when one of these commands runs, so the worker and the ops commands never load it and the
// product never depends on it.
import type { Command } from 'commander';
import { CliInputError } from './exit-codes';
import type { CliContext } from './program';

/**
 * Loads a tooling module. The worker image leaves out the sandbox's HTTP framework: there, the command says
 * where the sandbox is instead of failing with a stack trace.
 */
async function loadTooling<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'MODULE_NOT_FOUND' && /'fastify'/.test(e.message ?? ''))
      throw new CliInputError(
        'the m3ter sandbox is not part of this install: the worker image leaves out its HTTP framework, ' +
          "fastify. Use the Dockerfile's `sandbox` stage (docker compose --profile sandbox up), or a " +
          'checkout of this repository',
      );
    throw err;
  }
}

export function registerToolingCommands(program: Command, ctx: CliContext): void {
  program
    .command('sandbox')
    .description('run the local m3ter SANDBOX (a stand-in for tests and demos, not m3ter)')
    .option('--port <n>', 'port (0 = any free port)', '8080')
    .option('--host <addr>', 'address to listen on (0.0.0.0 in a container)', '127.0.0.1')
    .option('--ingest-port <n>', 'also serve measurements on a separate ingest port')
    .option('--seed <n>', 'seed for generated entities', '1')
    .option('--data-file <path>', 'persist measurements/jobs/events to this file')
    .option('--json', 'print one JSON ready line instead of the banner')
    .action(
      ctx.act(
        async (o: {
          port: string;
          host: string;
          ingestPort?: string;
          seed: string;
          dataFile?: string;
          json?: boolean;
        }) => {
          const { runSandboxCommand } = await loadTooling(() => import('../../tooling/sandbox/main'));
          const toInt = (flag: string, v: string) => {
            if (!/^\d+$/.test(v) || Number(v) > 65535)
              throw new CliInputError(`${flag}: must be an integer 0-65535`);
            return Number(v);
          };
          await runSandboxCommand({
            port: toInt('--port', o.port),
            host: o.host,
            ingestPort: o.ingestPort === undefined ? undefined : toInt('--ingest-port', o.ingestPort),
            seed: Number(o.seed),
            dataFile: o.dataFile,
            json: o.json,
          });
          await new Promise(() => undefined); // serve until a signal ends the process
        },
      ),
    );

  program
    .command('dev')
    .description('run an embedded Temporal dev server (with UI), the sandbox and a worker together')
    .option('--ui-port <n>', 'Temporal UI port', '8233')
    .option('--temporal-port <n>', 'Temporal frontend port', '7233')
    .option('--sandbox-port <n>', 'sandbox port (0 = any)', '0')
    .action(
      ctx.act(async (o: { uiPort: string; temporalPort: string; sandboxPort: string }) => {
        const { runDev } = await loadTooling(() => import('../../tooling/cli/dev-command'));
        return runDev({
          uiPort: Number(o.uiPort),
          temporalPort: Number(o.temporalPort),
          sandboxPort: Number(o.sandboxPort),
        });
      }),
    );

  program
    .command('demo')
    .description(
      'seed the sandbox, run a usage, an operational and a bills export end to end, print manifests',
    )
    .option('--export-dir <dir>', 'where files go', './exports/demo')
    .action(
      ctx.act(async (o: { exportDir: string }) => {
        const { runDemo } = await loadTooling(() => import('../../tooling/cli/demo-command'));
        return runDemo({ exportDir: o.exportDir });
      }),
    );
}
