// m3ter-exports: the ops CLI. Every command has --help; exit codes are 0 ok, 1 export failed, 2 bad input.
// Each command lives in its own file under src/cli/ and registers itself here.
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config/config';
import { resolveSecretFiles } from './config/secret-files';
import { DefinitionsError } from './definitions/parse';
import { registerBackfillCommand } from './cli/backfill-command';
import { registerIngestCommand } from './cli/ingest-command';
import { CliInputError, EXIT_BAD_INPUT, EXIT_EXPORT_FAILED, EXIT_OK } from './cli/exit-codes';
import { registerExportCommand } from './cli/export-command';
import { registerFailedCommand } from './cli/failed-command';
import { processIo, type Io } from './cli/io';
import { registerMonitorCommand } from './cli/monitor-command';
import { createCliContext, type CliContext, type RegisterCommand } from './cli/program';
import { registerRerunCommand } from './cli/rerun-command';
import { registerDeploymentCommand } from './cli/deployment-command';
import { registerSchedulesCommand } from './cli/schedules-command';
import { registerSetupCommand } from './cli/setup-command';
import { registerStatusCommand } from './cli/status-command';
import { registerToolingCommands } from './cli/tooling-commands';
import { registerWorkerCommand } from './cli/worker-command';
import { applyHeapFlags } from './runtime/heap-flags';
import {
  describeRefusedCall,
  loadTemporalConnectionSettings,
  TemporalSettingsError,
} from './temporal/connection';

/** In the order `--help` lists them. */
const COMMANDS: RegisterCommand[] = [
  registerWorkerCommand,
  registerExportCommand,
  registerStatusCommand,
  registerSchedulesCommand,
  registerBackfillCommand,
  registerIngestCommand,
  registerFailedCommand,
  registerRerunCommand,
  registerMonitorCommand,
  registerSetupCommand,
  registerDeploymentCommand,
  registerToolingCommands,
];

export function buildProgram(ctx: CliContext = createCliContext(processIo)): Command {
  const program = new Command('m3ter-exports')
    .description('Durable m3ter data exports on Temporal: worker, ops CLI, local sandbox')
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/** A Temporal call refused for lack of rights, said in terms of the settings in use. */
function refusedCallMessage(err: unknown): string | undefined {
  let settings;
  try {
    settings = loadTemporalConnectionSettings(resolveSecretFiles(process.env).env);
  } catch {
    return undefined;
  }
  return describeRefusedCall(settings, err);
}

/** Entry point used by bin/m3ter-exports.js; resolves to the process exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  applyHeapFlags();
  const ctx = createCliContext(io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return ctx.exitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are "errors" in commander's exitOverride mode, with exit code 0.
      return err.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    if (
      err instanceof CliInputError ||
      err instanceof ConfigError ||
      err instanceof DefinitionsError ||
      err instanceof TemporalSettingsError
    ) {
      io.stderr(err.message);
      return EXIT_BAD_INPUT;
    }
    io.stderr(refusedCallMessage(err) ?? (err instanceof Error ? err.message : String(err)));
    return EXIT_EXPORT_FAILED;
  }
}
