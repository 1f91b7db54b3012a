// `m3ter-exports export usage|operational|bills`: validate (zod, before anything starts), start or attach to
// the export workflow under a deterministic id, optionally wait with live status, print the manifest.
import { Option, type Command } from 'commander';
import type { CliContext } from './program';
import { collect } from './program';
import { loadConfig, loadTemporalConfig } from '../config/config';
import { withTemporalClient } from '../temporal/client';
import {
  billsRequestFromFlags,
  operationalRequestFromFlags,
  usageRequestFromFlags,
  type BillsFlags,
  type OperationalFlags,
  type UsageFlags,
} from './request-flags';
import { describeFailure } from '../contract/failures';
import type { Io } from './io';
import {
  EXPORT_NAME_PATTERN,
  EXPORT_NAME_RULE,
  storageRuleFor,
  type StorageMode,
} from '../contract/vocabulary';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { exportWorkflowId } from '../definitions/hash';
import type { ExportKind } from '../contract/vocabulary';
import { adhocExportWorkflow, billsCsvExportWorkflow } from '../../workflows';
import { statusQuery, type ExportStatus } from '../../workflows/common';
import {
  checkInput,
  createAdhocExportInputSchema,
  createBillsCsvExportInputSchema,
  type AdhocExportInput,
  type BillsCsvExportInput,
} from '../contract/inputs';
import { CliInputError, EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';
import { checkUrl } from '../net/url-guard';
import type { M3terClient } from '../m3ter/client';

export interface ExportCommonFlags {
  name?: string;
  id?: string;
  storage?: string;
  wait?: boolean;
  json?: boolean;
}

export type PreparedExport =
  | { kind: 'usage' | 'operational'; workflowId: string; input: AdhocExportInput }
  | { kind: 'bills'; workflowId: string; input: BillsCsvExportInput };

/**
 * Validates everything up front with the workflows' own input schemas; throws CliInputError listing every
 * problem. No I/O.
 */
export function prepareExport(
  kind: ExportKind,
  body: Record<string, unknown>,
  flags: ExportCommonFlags,
  now = Date.now(),
): PreparedExport {
  const problems: string[] = [];
  if (flags.name !== undefined && !EXPORT_NAME_PATTERN.test(flags.name)) {
    problems.push(`--name: ${EXPORT_NAME_RULE}`);
  }
  if (flags.id !== undefined && (flags.id.trim() === '' || flags.id.length > 255)) {
    problems.push('--id: must be 1-255 characters');
  }
  const storage = flags.storage ?? 'local';
  const billsStorage = storage === 'none' ? undefined : storage;
  const storageRule = storageRuleFor(kind, storage as StorageMode);
  if (storageRule) problems.push(`--storage: ${storageRule}`);

  const checked =
    kind === 'bills'
      ? checkInput(createBillsCsvExportInputSchema(), {
          request: body,
          storage: billsStorage,
          name: flags.name,
        })
      : checkInput(
          createAdhocExportInputSchema(() => now),
          { request: body, storage, name: flags.name },
        );
  if (!checked.ok) {
    // Flags map onto the request body; name problems as the operator wrote them.
    for (const p of checked.problems) {
      if (p.startsWith('storage:')) problems.push(`--${p}`);
      else if (p.startsWith('name:'))
        continue; // reported above with the flag's own rule
      else problems.push(p.replace(/^request\.?/, '') || p);
    }
  }
  if (problems.length)
    throw new CliInputError(`invalid ${kind} export:\n  ${problems.join('\n  ')}`, problems);
  if (!checked.ok) throw new Error('unreachable: problems were reported above');

  const value = checked.value;
  const workflowId = flags.id ?? exportWorkflowId(kind, value.request, flags.name);
  return kind === 'bills'
    ? { kind, workflowId, input: value as BillsCsvExportInput }
    : { kind, workflowId, input: value as AdhocExportInput };
}

export interface StartedExport {
  handle: WorkflowHandle;
  attached: boolean;
}

/** The workflow type an export runs as. */
export function workflowTypeOf(p: PreparedExport): string {
  return p.kind === 'bills' ? billsCsvExportWorkflow.name : adhocExportWorkflow.name;
}

/**
 * Starts the workflow, or attaches to the run that already owns this id: a running one (USE_EXISTING),
 * or one that already completed successfully (the reuse policy refuses a second export of the same request).
 */
export async function startOrAttach(
  client: Client,
  taskQueue: string,
  p: PreparedExport,
): Promise<StartedExport> {
  try {
    const existing = await client.workflow
      .getHandle(p.workflowId)
      .describe()
      .catch(() => undefined);
    const options = {
      taskQueue,
      workflowId: p.workflowId,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    } as const;
    const handle =
      p.kind === 'bills'
        ? await client.workflow.start(billsCsvExportWorkflow, { ...options, args: [p.input] })
        : await client.workflow.start(adhocExportWorkflow, { ...options, args: [p.input] });
    const attached = existing?.status.name === 'RUNNING' && existing.runId === handle.firstExecutionRunId;
    return { handle, attached };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { handle: client.workflow.getHandle(p.workflowId), attached: true };
    }
    throw err;
  }
}

function statusLine(s: ExportStatus): string {
  const parts = [`phase=${s.phase ?? '?'}`];
  if (s.jobId) parts.push(`job=${s.jobId}`);
  if (s.jobStatus) parts.push(`status=${s.jobStatus}`);
  if (s.polls !== undefined) parts.push(`polls=${s.polls}`);
  if (s.bytesWritten) parts.push(`bytes=${s.bytesWritten}`);
  return parts.join(' ');
}

/** Waits for the result while printing status changes to stderr; returns the exit code. */
export async function waitAndReport(handle: WorkflowHandle, out: Io): Promise<number> {
  let done = false;
  let last = '';
  const ticker = (async () => {
    while (!done) {
      try {
        const line = statusLine(await handle.query(statusQuery));
        if (line !== last && !done) out.stderr(`${handle.workflowId}: ${line}`);
        last = line;
      } catch {
        /* the query can fail while no worker is up; the result wait below is what matters */
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  try {
    const result = await handle.result();
    out.stdout(JSON.stringify(result, null, 2));
    return EXIT_OK;
  } catch (err) {
    out.stderr(failureLine(err));
    return EXIT_EXPORT_FAILED;
  } finally {
    done = true;
    await ticker;
  }
}

/** One line for the terminal: the failure described the one way (describeFailure). */
export function failureLine(err: unknown): string {
  const { type, message } = describeFailure(err);
  return `export failed: ${type}: ${message}`;
}

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
  io: Io,
): Promise<number> {
  const prepared = prepareExport(kind, body, flags); // before any connection: bad input costs nothing
  const temporal = loadTemporalConfig();
  return withTemporalClient(temporal, async (client) => {
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
      await printFreshDownloadUrl(await handle.result(), io);
    }
    return code;
  });
}

/**
 * `--storage none`: the workflow result deliberately omits the presigned query string (history must not
 * hold it), so the CLI asks m3ter for a fresh URL and prints it to this terminal only.
 */
export async function printFreshDownloadUrl(
  result: unknown,
  io: Io,
  m3terClient?: Pick<M3terClient, 'apiOrigin' | 'getExportDownloadUrl'>,
): Promise<void> {
  const jobId = (result as { jobId?: string } | undefined)?.jobId;
  if (!jobId) return;
  const m3ter = m3terClient ?? (await import('../m3ter')).createM3terClient(loadConfig().m3ter);
  const { url, expirationTime } = await m3ter.getExportDownloadUrl(jobId);
  // The same rules as a download: a terminal user may open whatever is printed here. Printed as parsed,
  // so no control character m3ter sent reaches the terminal.
  const checked = checkUrl(url, { trustedOrigin: m3ter.apiOrigin });
  io.stderr(`download URL (valid until ${expirationTime ?? 'unknown'}; do not paste it into tickets):`);
  io.stdout(checked.href);
}

export function registerExportCommand(program: Command, ctx: CliContext): void {
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
  ).action(
    ctx.act((o: UsageFlags & ExportCommonFlags) => runExport('usage', usageRequestFromFlags(o), o, ctx.io)),
  );

  addCommonExportOptions(
    exp
      .command('operational')
      .description('operational data (bills, accounts, plans, ...)')
      .option('--types <list>', 'operational data types, e.g. BILLS,ACCOUNTS (repeatable)', collect)
      .option('--start <date>', 'only data since this date-time')
      .option('--format <fmt>', 'CSV or JSONL')
      .option('--destination <id>', 'export destination id (repeatable)', collect),
  ).action(
    ctx.act((o: OperationalFlags & ExportCommonFlags) =>
      runExport('operational', operationalRequestFromFlags(o), o, ctx.io),
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
  ).action(
    ctx.act((o: BillsFlags & ExportCommonFlags) => runExport('bills', billsRequestFromFlags(o), o, ctx.io)),
  );
}
