// m3ter-exports: the ops CLI. Every command has --help; exit codes are 0 ok, 1 export failed, 2 bad input.
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig, loadTemporalConfig } from './config/config';
import { DefinitionsError } from './definitions/parse';
import { CliInputError, EXIT_BAD_INPUT, EXIT_EXPORT_FAILED, EXIT_OK } from './cli/exit-codes';
import {
  billsRequestFromFlags,
  operationalRequestFromFlags,
  usageRequestFromFlags,
  type BillsFlags,
  type OperationalFlags,
  type UsageFlags,
} from './cli/request-flags';
import {
  prepareExport,
  startOrAttach,
  waitAndReport,
  workflowTypeOf,
  type ExportCommonFlags,
} from './cli/export-command';
import { exportStatus, formatStatus } from './cli/status-command';
import { connectClient } from './cli/temporal-client';
import { TemporalSettingsError } from './temporal/settings';
import type { ExportKind } from './export-ids';

const collect = (value: string, previous: string[] = []) => [...previous, value];

// Commander ignores action return values; each action reports its exit code through this.
let actionExitCode = EXIT_OK;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function act<A extends any[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A) => {
    actionExitCode = (await fn(...args)) ?? EXIT_OK;
  };
}

const io = {
  stdout: (s: string) => process.stdout.write(`${s}\n`),
  stderr: (s: string) => process.stderr.write(`${s}\n`),
};

function addCommonExportOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'label used in the workflow id and file names')
    .option(
      '--id <workflowId>',
      'explicit workflow id (default: derived from the request, so a repeat attaches)',
    )
    .addOption(
      new Option(
        '--storage <mode>',
        'local: stream the file to EXPORT_DIR; s3: upload it to EXPORT_S3_BUCKET; none: return the URL (usage and operational only)',
      ).default('local'),
    )
    .option('--request <json|@file>', 'a whole request body as JSON (flags override its fields)')
    .option('--wait', 'wait for the export, show live status, then print the manifest')
    .option('--json', 'machine-readable output');
}

async function runExport(
  kind: ExportKind,
  body: Record<string, unknown>,
  flags: ExportCommonFlags,
): Promise<number> {
  const prepared = prepareExport(kind, body, flags); // before any connection: bad input costs nothing
  const temporal = loadTemporalConfig();
  const { client, close } = await connectClient(temporal);
  try {
    const { handle, attached } = await startOrAttach(client, temporal.taskQueue, prepared);
    if (flags.json && !flags.wait) {
      io.stdout(JSON.stringify({ workflowId: handle.workflowId, attached }));
    } else {
      io.stderr(
        `${attached ? 'attached to existing' : 'started'} ${workflowTypeOf(prepared)} ${handle.workflowId}`,
      );
    }
    if (!flags.wait) return EXIT_OK;
    const code = await waitAndReport(handle, io);
    if (code === EXIT_OK && prepared.kind !== 'bills' && flags.storage === 'none') {
      await printFreshDownloadUrl(handle.workflowId, await handle.result());
    }
    return code;
  } finally {
    await close();
  }
}

/**
 * `--storage none`: the workflow result deliberately omits the presigned query string (history must not
 * hold it), so the CLI asks m3ter for a fresh URL and prints it to this terminal only.
 */
async function printFreshDownloadUrl(_workflowId: string, result: unknown): Promise<void> {
  const jobId = (result as { jobId?: string } | undefined)?.jobId;
  if (!jobId) return;
  const config = loadConfig();
  const { createM3terClient } = await import('./m3ter');
  const m3ter = createM3terClient(config.m3ter);
  const { url, expirationTime } = await m3ter.getExportDownloadUrl(jobId);
  io.stderr(`download URL (valid until ${expirationTime ?? 'unknown'}; do not paste it into tickets):`);
  io.stdout(url);
}

export function buildProgram(): Command {
  const program = new Command('m3ter-exports')
    .description('Durable m3ter data exports on Temporal: worker, ops CLI, local sandbox')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('worker')
    .description('run the export worker (SIGINT/SIGTERM shut it down gracefully)')
    .action(
      act(async () => {
        const { runWorkerCommand } = await import('./worker');
        return runWorkerCommand(loadConfig());
      }),
    );

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
      act(
        async (o: {
          port: string;
          host: string;
          ingestPort?: string;
          seed: string;
          dataFile?: string;
          json?: boolean;
        }) => {
          const { runSandboxCommand } = await import('../tooling/sandbox/main');
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

  const exp = program.command('export').description('start an export (usage, operational or bills)');
  addCommonExportOptions(
    exp
      .command('usage')
      .description('usage data for [start, end)')
      .option('--start <date>', 'inclusive start (ISO date-time, or YYYY-MM-DD = 00:00 UTC)')
      .option('--end <date>', 'exclusive end; at most tomorrow 00:00 UTC')
      .option('--meter <id>', 'meter id (repeatable or comma-separated)', collect)
      .option('--account <id>', 'account id (repeatable or comma-separated)', collect)
      .option('--aggregation <spec>', 'meterId:fieldCode:MEASURE|DIMENSION:FUNCTION (repeatable)', collect)
      .option(
        '--group <spec>',
        'account | time:DAY|HOUR|WEEK|MONTH|QUARTER | dimension:meterId:fieldCode',
        collect,
      )
      .option('--format <fmt>', 'CSV or JSONL')
      .option('--destination <id>', 'export destination id (repeatable)', collect),
  ).action(act((o: UsageFlags & ExportCommonFlags) => runExport('usage', usageRequestFromFlags(o), o)));

  addCommonExportOptions(
    exp
      .command('operational')
      .description('operational data (bills, accounts, plans, ...)')
      .option('--types <list>', 'operational data types, e.g. BILLS,ACCOUNTS (repeatable)', collect)
      .option('--start <date>', 'only data since this date-time')
      .option('--format <fmt>', 'CSV or JSONL')
      .option('--destination <id>', 'export destination id (repeatable)', collect),
  ).action(
    act((o: OperationalFlags & ExportCommonFlags) =>
      runExport('operational', operationalRequestFromFlags(o), o),
    ),
  );

  addCommonExportOptions(
    exp
      .command('bills')
      .description('Data Explorer bill line items as CSV')
      .option('--start <date>', 'start (ISO date-time or YYYY-MM-DD)')
      .option('--end <date>', 'end (ISO date-time or YYYY-MM-DD)')
      .option('--line-item-types <list>', 'e.g. USAGE,STANDING_CHARGE (repeatable)', collect)
      .option('--dimension <spec>', 'name=value[,value] filter, "*" for all (repeatable)', collect)
      .option('--limit <n>', 'max data points, 1-2000'),
  ).action(act((o: BillsFlags & ExportCommonFlags) => runExport('bills', billsRequestFromFlags(o), o)));

  program
    .command('status <workflowId>')
    .description('show an export workflow: phase, ExportJob, polls, bytes written, pending activities')
    .option('--json', 'machine-readable output')
    .action(
      act(async (workflowId: string, o: { json?: boolean }) => {
        const { client, close } = await connectClient(loadTemporalConfig());
        try {
          const report = await exportStatus(client, workflowId);
          io.stdout(o.json ? JSON.stringify(report, null, 2) : formatStatus(report));
          return EXIT_OK;
        } finally {
          await close();
        }
      }),
    );

  const schedules = program
    .command('schedules')
    .description('Temporal Schedules from the export definitions file (m3ter-exports.yaml)');
  schedules
    .command('apply')
    .description(
      'make the schedules match the file: create, update what changed, --prune deletes ours not in it',
    )
    .option('--file <path>', 'export definitions file', 'm3ter-exports.yaml')
    .option(
      '--dry-run',
      'print the plan (create / update with field diff / unchanged / delete); change nothing',
    )
    .option('--prune', 'delete schedules created by this tool whose export is no longer in the file')
    .option('--json', 'machine-readable output')
    .action(
      act(async (o: { file: string; dryRun?: boolean; prune?: boolean; json?: boolean }) => {
        const { schedulesApply } = await import('./cli/schedules-command');
        return schedulesApply(loadTemporalConfig(), o, io);
      }),
    );
  schedules
    .command('list')
    .description('schedules managed by this tool: spec, time zone, paused, last run and its window, next run')
    .option('--json', 'machine-readable output')
    .action(
      act(async (o: { json?: boolean }) => {
        const { schedulesList } = await import('./cli/schedules-command');
        return schedulesList(loadTemporalConfig(), o, io);
      }),
    );
  schedules
    .command('describe <name>')
    .description('definition, policies, recent runs, and the next 5 nominal times with their windows')
    .option('--json', 'machine-readable output')
    .action(
      act(async (name: string, o: { json?: boolean }) => {
        const { schedulesDescribe } = await import('./cli/schedules-command');
        return schedulesDescribe(loadTemporalConfig(), name, o, io);
      }),
    );
  for (const [op, what] of [
    ['pause', 'pause a schedule'],
    ['unpause', 'resume a paused schedule'],
    ['trigger', 'run now: exports the window before this instant'],
    ['delete', 'delete a schedule (runs already started continue)'],
  ] as const) {
    const cmd = schedules.command(`${op} <name>`).description(what);
    if (op === 'pause' || op === 'unpause') cmd.option('--note <text>', 'why (shown by describe)');
    cmd.action(
      act(async (name: string, o: { note?: string }) => {
        const { schedulesOperate } = await import('./cli/schedules-command');
        return schedulesOperate(loadTemporalConfig(), op, name, o, io);
      }),
    );
  }

  program
    .command('setup')
    .description('register the search attributes the workflows use on the namespace (idempotent)')
    .option('--json', 'machine-readable output')
    .action(
      act(async (o: { json?: boolean }) => {
        const { registerSearchAttributes, formatSetupReport } = await import('./cli/setup-command');
        const temporal = loadTemporalConfig();
        const { client, close } = await connectClient(temporal);
        try {
          const report = await registerSearchAttributes(client, temporal.namespace);
          io.stdout(o.json ? JSON.stringify(report) : formatSetupReport(report));
          return EXIT_OK;
        } finally {
          await close();
        }
      }),
    );

  program
    .command('dev')
    .description('run an embedded Temporal dev server (with UI), the sandbox and a worker together')
    .option('--ui-port <n>', 'Temporal UI port', '8233')
    .option('--temporal-port <n>', 'Temporal frontend port', '7233')
    .option('--sandbox-port <n>', 'sandbox port (0 = any)', '0')
    .action(
      act(async (o: { uiPort: string; temporalPort: string; sandboxPort: string }) => {
        const { runDev } = await import('../tooling/cli/dev-command');
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
      act(async (o: { exportDir: string }) => {
        const { runDemo } = await import('../tooling/cli/demo-command');
        return runDemo({ exportDir: o.exportDir });
      }),
    );

  const backfill = program
    .command('backfill')
    .description('export every window of [--from, --to) for an export definition, window by window')
    .argument('<name>', 'export name in the definitions file')
    .option(
      '--from <date>',
      "first window: YYYY-MM-DD (midnight in the export's time zone) or an ISO instant",
    )
    .option('--to <date>', 'end of the range (exclusive), same forms')
    .option('--file <path>', 'export definitions file', 'm3ter-exports.yaml')
    .option('--concurrency <n>', 'window exports in flight at once (1-50)', '4')
    .option(
      '--reprocess <mode>',
      'none | failed | all: which windows that already ran to export again',
      'failed',
    )
    .option('--newest-first', 'start with the newest window')
    .option('--kind <kind>', 'ad-hoc form, no definitions file: usage | operational | bills')
    .option('--step <unit>', 'ad-hoc form: the window, hour | day | week | month')
    .option('--timezone <tz>', 'ad-hoc form: IANA zone of the window boundaries (default UTC)')
    .option('--request <json|@file>', 'ad-hoc form: the request body without dates')
    .option('--storage <mode>', 'ad-hoc form: local | none | s3 (default local)')
    .option('--dry-run', 'print each window with its state and action; start nothing')
    .option('--wait', 'show progress until the backfill ends; exit 1 if any window failed')
    .option('--json', 'machine-readable output')
    .action(
      act(async (name: string, o: import('./cli/backfill-command').BackfillFlags) => {
        const { runBackfillCommand } = await import('./cli/backfill-command');
        return runBackfillCommand(loadTemporalConfig(), name, o, io);
      }),
    );
  backfill
    .command('status <workflowId>')
    .description("a backfill's progress (totals, in-flight windows, rate, ETA) or its summary")
    .option('--json', 'machine-readable output')
    .action(
      // `--json` after the workflow id is parsed by `backfill` itself, which declares it too.
      act(async (workflowId: string, _o: { json?: boolean }, cmd: Command) => {
        const { backfillStatus } = await import('./cli/backfill-command');
        return backfillStatus(loadTemporalConfig(), workflowId, cmd.optsWithGlobals(), io);
      }),
    );
  backfill
    .command('cancel <workflowId>')
    .description(
      'cancel a backfill: its in-flight window exports are cancelled (their ExportJobs are left to m3ter)',
    )
    .option('--json', 'machine-readable output')
    .action(
      // `--json` after the workflow id is parsed by `backfill` itself, which declares it too.
      act(async (workflowId: string, _o: { json?: boolean }, cmd: Command) => {
        const { backfillCancel } = await import('./cli/backfill-command');
        return backfillCancel(loadTemporalConfig(), workflowId, cmd.optsWithGlobals(), io);
      }),
    );

  const failed = program.command('failed').description('exports whose latest run failed');
  failed
    .command('list')
    .description('windows and ad-hoc exports whose latest run failed, newest first')
    .option('--since <duration>', 'started within this period (e.g. 7d, 36h)', '7d')
    .option('--export <name>', 'only this export')
    .option('--kind <kind>', 'only this kind: usage | operational | bills')
    .option('--json', 'machine-readable output')
    .action(
      act(async (o: { since?: string; export?: string; kind?: string; json?: boolean }) => {
        const { runFailedListCommand } = await import('./cli/failures-command');
        return runFailedListCommand(loadTemporalConfig(), o, io);
      }),
    );
  program
    .command('rerun [workflowIds...]')
    .description(
      'a fresh run of each failed export under its workflow id (linked by M3terRerunOf); running or succeeded ones are skipped',
    )
    .option('--failed', 'every export whose latest run failed (see failed list)')
    .option('--since <duration>', 'with --failed: started within this period', '7d')
    .option('--export <name>', 'with --failed: only this export')
    .option('--kind <kind>', 'with --failed: only this kind')
    .option('--dry-run', 'say what would be re-run; start nothing')
    .option('--yes', 'do not ask for confirmation (bulk re-runs ask on a terminal)')
    .option('--json', 'machine-readable output')
    .action(
      act(async (ids: string[], o: import('./cli/failures-command').RerunFlags, cmd: Command) => {
        const { runRerunCommand } = await import('./cli/failures-command');
        // --since has a default; only an explicitly given one is an error without --failed.
        const since = cmd.getOptionValueSource('since') === 'default' ? undefined : o.since;
        return runRerunCommand(loadTemporalConfig(), ids ?? [], { ...o, since }, io);
      }),
    );
  const monitor = program
    .command('monitor')
    .description('the DataExportJobFailure monitor (one per namespace)');
  monitor
    .command('start')
    .description('start the failure monitor unless it runs already (the worker does this at start too)')
    .action(
      act(async () => {
        const { runMonitorStartCommand } = await import('./cli/failures-command');
        const { loadMonitorCommandConfig } = await import('./config/config');
        return runMonitorStartCommand(loadMonitorCommandConfig(), io);
      }),
    );
  monitor
    .command('status')
    .description("the monitor's last poll, high-water mark, events seen and alerts sent")
    .option('--json', 'machine-readable output')
    .action(
      act(async (o: { json?: boolean }) => {
        const { runMonitorStatusCommand } = await import('./cli/failures-command');
        return runMonitorStatusCommand(loadTemporalConfig(), o, io);
      }),
    );

  return program;
}

/** Entry point used by bin/m3ter-exports.js; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    actionExitCode = EXIT_OK;
    await program.parseAsync(argv);
    return actionExitCode;
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
    io.stderr(err instanceof Error ? err.message : String(err));
    return EXIT_EXPORT_FAILED;
  }
}
