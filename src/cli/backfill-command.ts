// `m3ter-exports backfill <name> --from --to [...]`, `backfill status <id>`, `backfill cancel <id>`.
//
// Everything is validated before any connection (exit 2, every problem named by flag and rule). The dry run
// plans with the very function the workflow's planning activity runs, so what it prints is what a backfill
// started now would do. The backfill's workflow id is a function of (name, from, to, reprocess), and it is
// started with the USE_EXISTING conflict policy: repeating the command attaches to the running backfill.
import type { Command } from 'commander';
import type { CliContext } from './program';
import { loadTemporalConfig } from '../config/config';
import type { Io } from './io';
import { SingleBar } from 'cli-progress';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { planBackfillPage, type PlannedWindow } from '../../activities/backfill-plan';
import type { TemporalConfig } from '../config/config';
import { DefinitionsError, loadDefinitionsFile, type ExportDefinition } from '../definitions';
import { windowStartForId } from '../contract/window-ids';
import {
  EXPORT_KINDS as KINDS,
  EXPORT_NAME_PATTERN,
  EXPORT_NAME_RULE,
  STORAGE_MODES as STORAGES,
  WINDOW_UNITS as STEPS,
} from '../contract/vocabulary';
import { requestProblems } from '../definitions/request';
import { readRequestOption } from './request-flags';
import { countWindowsInRange, isValidTimeZone, localMidnight, periodContaining } from '../windows/windows';
import type { WindowedExportDefinition } from '../../activities/window-plan';
import type { backfillWorkflow } from '../../workflows/backfill';
import {
  backfillProgressQuery,
  createBackfillInputSchema,
  DEFAULT_BACKFILL_CONCURRENCY,
  MAX_BACKFILL_CONCURRENCY,
  REPROCESS_VALUES,
  type BackfillInput,
  type BackfillProgress,
  type Reprocess,
} from '../contract/backfill';
import { checkInput } from '../contract/inputs';
import { CliInputError, EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';
import { DEFAULT_DEFINITIONS_FILE } from './schedules-command';
import { withTemporalClient } from './temporal-client';

export interface BackfillFlags {
  from?: string;
  to?: string;
  file?: string;
  concurrency?: string;
  reprocess?: string;
  newestFirst?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
  /** Ad-hoc form (no definitions file): the export's kind, window unit, zone, request body and storage. */
  kind?: string;
  step?: string;
  timezone?: string;
  request?: string;
  storage?: string;
}

export type { Io };

export interface PreparedBackfill {
  workflowId: string;
  input: BackfillInput & { reprocess: Reprocess; concurrency: number };
  /** Windows in the range. */
  windows: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** A --from/--to value: a date is the first instant of that date in `tz`; an instant is taken as is. */
function parseWhen(flag: string, value: string | undefined, tz: string | undefined, problems: string[]) {
  if (value === undefined) {
    problems.push(`${flag}: is required (YYYY-MM-DD or an ISO 8601 instant)`);
    return undefined;
  }
  if (DATE.test(value)) {
    if (!tz) return undefined; // the definition's problem is reported instead
    try {
      return localMidnight(value, tz).toISOString();
    } catch {
      problems.push(`${flag}: ${value} is not a calendar date (YYYY-MM-DD)`);
      return undefined;
    }
  }
  if (INSTANT.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  problems.push(
    `${flag}: must be a date YYYY-MM-DD (midnight in the export's time zone) or an ISO 8601 instant with Z or an offset`,
  );
  return undefined;
}

/** `backfill:<name>:<from>:<to>:<reprocess>`: the same request attaches to the same backfill. */
export function backfillWorkflowId(name: string, from: string, to: string, reprocess: Reprocess): string {
  return `backfill:${name}:${windowStartForId(from)}:${windowStartForId(to)}:${reprocess}`;
}

function windowedPart(def: ExportDefinition): WindowedExportDefinition {
  // Only what a run needs: no alert channels (whose URLs and secrets must stay out of history).
  return {
    name: def.name,
    kind: def.kind,
    request: def.request,
    window: def.window,
    timezone: def.timezone,
    storage: def.storage,
  };
}

/**
 * The ad-hoc form: a definition built from flags instead of read from the file, checked by the same rules
 * the file's definitions are (the request with the schemas of the ad-hoc path).
 */
function adhocDefinition(
  name: string,
  flags: BackfillFlags,
  problems: string[],
): ExportDefinition | undefined {
  const before = problems.length;
  if (!EXPORT_NAME_PATTERN.test(name)) problems.push(`<name>: ${EXPORT_NAME_RULE}`);
  const kind = flags.kind as ExportDefinition['kind'];
  if (!(KINDS as readonly string[]).includes(kind))
    problems.push(`--kind: must be one of ${KINDS.join(', ')}`);
  const step = flags.step as (typeof STEPS)[number];
  if (step === undefined) problems.push(`--step: is required with --kind (${STEPS.join(', ')})`);
  else if (!(STEPS as readonly string[]).includes(step))
    problems.push(`--step: must be one of ${STEPS.join(', ')}`);
  const timezone = flags.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone))
    problems.push('--timezone: must be an IANA time zone name such as Europe/London or UTC');
  const storage = (flags.storage ?? 'local') as ExportDefinition['storage'];
  if (!(STORAGES as readonly string[]).includes(storage))
    problems.push(`--storage: must be one of ${STORAGES.join(', ')}`);
  else if (kind === 'bills' && storage !== 'local')
    problems.push('--storage: bills exports are always stored (local)');
  let request: Record<string, unknown> = {};
  try {
    request = readRequestOption(flags.request) ?? {};
  } catch (err) {
    if (!(err instanceof CliInputError)) throw err;
    problems.push(err.message);
  }
  if (problems.length > before) return undefined;
  for (const p of requestProblems(kind, step, request)) {
    problems.push(`--request: ${p.path.slice(1).join('.') || '(body)'}: ${p.message}`);
  }
  if (problems.length > before) return undefined;
  return { name, kind, request, window: step, timezone, storage, alerts: [] };
}

/** The named export of the definitions file (windowed), or undefined with the problems recorded. */
function definitionFromFile(
  name: string,
  flags: BackfillFlags,
  env: Record<string, string | undefined>,
  problems: string[],
): ExportDefinition | undefined {
  for (const flag of ['step', 'timezone', 'request', 'storage'] as const) {
    if (flags[flag] !== undefined) problems.push(`--${flag}: only with --kind (the ad-hoc form)`);
  }
  const file = flags.file ?? DEFAULT_DEFINITIONS_FILE;
  try {
    const defs = loadDefinitionsFile(file, env);
    const def = defs.exports.find((e) => e.name === name);
    if (!def) {
      const known = defs.exports.map((e) => e.name).join(', ') || 'none';
      problems.push(`<name>: no export named "${name}" in ${file} (exports: ${known})`);
    } else if (def.window === 'none') {
      problems.push(
        `<name>: export "${name}" has window none (a snapshot); backfills need hour, day, week or month`,
      );
    } else return def;
  } catch (err) {
    if (!(err instanceof DefinitionsError)) throw err;
    problems.push(...err.problems.map((p) => (p.startsWith(file) ? p : `--file ${file}: ${p}`)));
  }
  return undefined;
}

/**
 * Validates the command line and the definitions file; throws CliInputError naming every problem. No
 * network. `now` decides which windows have ended.
 */
export function prepareBackfill(
  name: string,
  flags: BackfillFlags,
  env: Record<string, string | undefined> = process.env,
  now = Date.now(),
): PreparedBackfill {
  const problems: string[] = [];
  const def =
    flags.kind !== undefined
      ? adhocDefinition(name, flags, problems)
      : definitionFromFile(name, flags, env, problems);
  const tz = def && isValidTimeZone(def.timezone) ? def.timezone : undefined;
  const from = parseWhen('--from', flags.from, tz, problems);
  const to = parseWhen('--to', flags.to, tz, problems);
  if (from && to && !(Date.parse(from) < Date.parse(to))) problems.push('--to: must be after --from');

  let concurrency = DEFAULT_BACKFILL_CONCURRENCY;
  if (flags.concurrency !== undefined) {
    concurrency = Number(flags.concurrency);
    if (!/^\d+$/.test(flags.concurrency) || concurrency < 1 || concurrency > MAX_BACKFILL_CONCURRENCY) {
      problems.push(`--concurrency: must be a whole number from 1 to ${MAX_BACKFILL_CONCURRENCY}`);
    }
  }
  const reprocess = (flags.reprocess ?? 'failed') as Reprocess;
  if (!(REPROCESS_VALUES as readonly string[]).includes(reprocess)) {
    problems.push(`--reprocess: must be one of ${REPROCESS_VALUES.join(', ')}`);
  }

  let windows = 0;
  if (def && def.window !== 'none' && from && to && Date.parse(from) < Date.parse(to)) {
    windows = countWindowsInRange(from, to, def.window, def.timezone);
    if (windows === 0) problems.push('--from/--to: the range holds no window');
    else {
      // Only finished windows hold their final data; m3ter also refuses usage ending after tomorrow.
      const last = periodContaining(new Date(Date.parse(to) - 1), def.window, def.timezone);
      if (Date.parse(last.end) > now) {
        problems.push(
          `--to: the last window [${last.start}, ${last.end}) has not ended yet; backfills export finished windows only`,
        );
      }
    }
  }
  if (problems.length || !def || !from || !to) {
    throw new CliInputError(`invalid backfill:\n  ${problems.join('\n  ')}`, problems);
  }
  const input = {
    definition: windowedPart(def),
    from,
    to,
    concurrency,
    reprocess,
    ...(flags.newestFirst ? { newestFirst: true } : {}),
  };
  // The workflow checks its input with the same schema; anything it would refuse is refused here.
  const checked = checkInput(createBackfillInputSchema(), input);
  if (!checked.ok)
    throw new CliInputError(`invalid backfill:\n  ${checked.problems.join('\n  ')}`, checked.problems);
  return {
    workflowId: backfillWorkflowId(def.name, from, to, reprocess),
    input: { ...(checked.value as BackfillInput), concurrency, reprocess },
    windows,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Dry run

export interface DryRunPlan {
  workflowId: string;
  windows: Array<{ workflowId: string; start: string; end: string; state: string; action: string }>;
  totals: Record<string, number>;
}

/** Every window's state and action, page by page, exactly as the workflow would plan them now. */
export async function planBackfill(client: Client, p: PreparedBackfill): Promise<DryRunPlan> {
  const windows: PlannedWindow[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await planBackfillPage(client, {
      definition: p.input.definition as WindowedExportDefinition,
      from: p.input.from,
      to: p.input.to,
      reprocess: p.input.reprocess,
      newestFirst: p.input.newestFirst ?? false,
      ...(after ? { after } : {}),
      limit: 100,
    });
    windows.push(...page.windows);
    if (!page.next) break;
    after = page.next;
  }
  const totals: Record<string, number> = { windows: windows.length, run: 0, rerun: 0, await: 0, skip: 0 };
  for (const w of windows) totals[w.action]++;
  return {
    workflowId: p.workflowId,
    windows: windows.map((w) => ({
      workflowId: w.workflowId,
      start: w.window.start,
      end: w.window.end,
      state: w.state,
      action: w.action,
    })),
    totals,
  };
}

export function formatPlan(plan: DryRunPlan): string {
  const rows = [
    ['WINDOW START', 'WINDOW END', 'STATE', 'ACTION'],
    ...plan.windows.map((w) => [w.start, w.end, w.state, w.action]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const table = rows
    .map((r) =>
      r
        .map((v, c) => v.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
  const t = plan.totals;
  return (
    `${table}\n\n${t.windows} windows: ${t.run} run, ${t.rerun} rerun, ${t.await} await, ${t.skip} skip` +
    ` (dry run: nothing started; backfill id ${plan.workflowId})`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Progress and summary

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressLine(p: BackfillProgress): string {
  const t = p.totals;
  const parts = [
    `${p.done}/${p.total ?? '?'} windows`,
    `succeeded ${t.succeeded}, awaited ${t.awaited}, skipped ${t.skipped}, failed ${t.failed}` +
      (t.cancelled ? `, cancelled ${t.cancelled}` : ''),
    `${p.inFlight.length} in flight`,
  ];
  if (p.ratePerMinute !== undefined) parts.push(`${p.ratePerMinute} windows/min`);
  if (p.etaSeconds !== undefined && p.state === 'running') parts.push(`ETA ${duration(p.etaSeconds)}`);
  return parts.join(' | ');
}

export function formatSummary(workflowId: string, p: BackfillProgress): string {
  const lines = [
    `backfill   ${workflowId} (${p.state}, run ${p.run})`,
    `export     ${p.name}  [${p.from}, ${p.to})  reprocess ${p.reprocess}  concurrency ${p.concurrency}`,
    `progress   ${progressLine(p)}`,
  ];
  if (p.inFlight.length) lines.push(`in flight  ${p.inFlight.join(', ')}`);
  if (p.failedWindows.length || p.failedUnlisted) {
    lines.push('failed windows:');
    for (const f of p.failedWindows) lines.push(`  ${f.workflowId}  ${f.type}: ${f.message}`);
    if (p.failedUnlisted) lines.push(`  ... and ${p.failedUnlisted} more`);
  }
  if (p.cancelledWindows.length) {
    lines.push('cancelled windows (their ExportJobs were left to m3ter):');
    for (const id of p.cancelledWindows) lines.push(`  ${id}`);
  }
  return lines.join('\n');
}

/** 1 when any window failed or the backfill did not complete. */
function exitCodeOf(p: BackfillProgress | undefined): number {
  return p && p.state === 'completed' && p.totals.failed === 0 ? EXIT_OK : EXIT_EXPORT_FAILED;
}

type BackfillHandle = WorkflowHandle<typeof backfillWorkflow>;

/** The backfill's final progress: its result, or (cancelled) what the progress query answers. */
async function finalProgress(handle: BackfillHandle): Promise<BackfillProgress | undefined> {
  try {
    return await handle.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
      return handle.query(backfillProgressQuery).catch(() => undefined);
    }
    throw err;
  }
}

async function waitWithProgress(handle: BackfillHandle, io: Io, json: boolean): Promise<number> {
  const tty = Boolean(process.stderr.isTTY) && !json;
  const bar = tty
    ? new SingleBar(
        {
          format:
            'backfill [{bar}] {value}/{total} | {counts} | {inflight} in flight | {rate} | ETA {eta_text}',
          hideCursor: true,
          stream: process.stderr,
        },
        undefined,
      )
    : undefined;
  let started = false;
  let lastLine = '';
  let lastPrint = 0;
  let done = false;
  const ticker = (async () => {
    while (!done) {
      try {
        const p = await handle.query(backfillProgressQuery);
        if (bar) {
          const payload = {
            counts: `ok ${p.totals.succeeded + p.totals.awaited}, skipped ${p.totals.skipped}, failed ${p.totals.failed}`,
            inflight: p.inFlight.length,
            rate: p.ratePerMinute !== undefined ? `${p.ratePerMinute}/min` : '-',
            eta_text: p.etaSeconds !== undefined ? duration(p.etaSeconds) : '-',
          };
          if (!started) bar.start(p.total ?? 0, p.done, payload);
          else bar.setTotal(p.total ?? 0);
          started = true;
          bar.update(p.done, payload);
        } else {
          const line = progressLine(p);
          // Plain lines for logs: on change, at most every 5 s, and at least once a minute.
          const now = Date.now();
          if ((line !== lastLine && now - lastPrint >= 5_000) || now - lastPrint >= 60_000) {
            io.stderr(`${handle.workflowId}: ${line}`);
            lastLine = line;
            lastPrint = now;
          }
        }
      } catch {
        /* no worker yet, or between runs of a continue-as-new: the result wait below decides */
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  try {
    const p = await finalProgress(handle);
    done = true;
    await ticker;
    if (bar && started) {
      if (p) bar.update(p.done);
      bar.stop();
    }
    if (!p) {
      io.stderr(`${handle.workflowId}: cancelled`);
      return EXIT_EXPORT_FAILED;
    }
    io.stdout(
      json
        ? JSON.stringify({ workflowId: handle.workflowId, ...p }, null, 2)
        : formatSummary(handle.workflowId, p),
    );
    return exitCodeOf(p);
  } catch (err) {
    done = true;
    await ticker;
    bar?.stop();
    io.stderr(
      `backfill ${handle.workflowId} failed: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`,
    );
    return EXIT_EXPORT_FAILED;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Commands

export async function runBackfillCommand(
  temporal: TemporalConfig,
  name: string,
  flags: BackfillFlags,
  io: Io,
): Promise<number> {
  const prepared = prepareBackfill(name, flags); // before any connection: bad input costs nothing
  return withTemporalClient(temporal, async (client) => {
    if (flags.dryRun) {
      const plan = await planBackfill(client, prepared);
      io.stdout(flags.json ? JSON.stringify({ dryRun: true, ...plan }, null, 2) : formatPlan(plan));
      return EXIT_OK;
    }
    const existing = await client.workflow
      .getHandle(prepared.workflowId)
      .describe()
      .catch(() => undefined);
    const handle = await client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
      taskQueue: temporal.taskQueue,
      workflowId: prepared.workflowId,
      args: [prepared.input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const attached = existing?.status.name === 'RUNNING' && existing.runId === handle.firstExecutionRunId;
    if (flags.json && !flags.wait) {
      io.stdout(JSON.stringify({ workflowId: handle.workflowId, attached, windows: prepared.windows }));
    } else {
      io.stderr(
        attached
          ? `attached to the running backfill ${handle.workflowId} (its own concurrency and order apply)`
          : `started backfill ${handle.workflowId}: ${prepared.windows} windows, concurrency ${prepared.input.concurrency}, reprocess ${prepared.input.reprocess}`,
      );
    }
    if (!flags.wait) return EXIT_OK;
    return waitWithProgress(handle, io, Boolean(flags.json));
  });
}

async function backfillHandle(client: Client, workflowId: string): Promise<BackfillHandle> {
  const handle = client.workflow.getHandle<typeof backfillWorkflow>(workflowId);
  try {
    const d = await handle.describe();
    if (d.type !== 'backfillWorkflow')
      throw new CliInputError(`<workflowId>: ${workflowId} is a ${d.type}, not a backfill`);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new CliInputError(`<workflowId>: no workflow ${workflowId}`);
    throw err;
  }
  return handle;
}

export async function backfillStatus(
  temporal: TemporalConfig,
  workflowId: string,
  o: { json?: boolean },
  io: Io,
): Promise<number> {
  return withTemporalClient(temporal, async (client) => {
    const handle = await backfillHandle(client, workflowId);
    const d = await handle.describe();
    let p: BackfillProgress | undefined;
    if (d.status.name === 'COMPLETED') p = await handle.result();
    else p = await handle.query(backfillProgressQuery).catch(() => undefined);
    if (o.json)
      io.stdout(JSON.stringify({ workflowId, temporalStatus: d.status.name, progress: p }, null, 2));
    else if (p) io.stdout(`${formatSummary(workflowId, p)}\ntemporal   ${d.status.name}`);
    else
      io.stdout(
        `backfill   ${workflowId}\ntemporal   ${d.status.name} (progress unavailable: no worker answered)`,
      );
    if (d.status.name === 'RUNNING') return p && p.totals.failed > 0 ? EXIT_EXPORT_FAILED : EXIT_OK;
    return exitCodeOf(p);
  });
}

export async function backfillCancel(
  temporal: TemporalConfig,
  workflowId: string,
  o: { json?: boolean },
  io: Io,
): Promise<number> {
  return withTemporalClient(temporal, async (client) => {
    const handle = await backfillHandle(client, workflowId);
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') {
      throw new CliInputError(`<workflowId>: ${workflowId} is not running (${d.status.name})`);
    }
    await handle.cancel();
    io.stderr(`cancel requested for ${workflowId}; waiting for its in-flight windows to stop ...`);
    const p = await finalProgress(handle);
    if (o.json) io.stdout(JSON.stringify({ workflowId, progress: p }, null, 2));
    else if (p) io.stdout(formatSummary(workflowId, p));
    return EXIT_OK;
  });
}

export function registerBackfillCommand(program: Command, ctx: CliContext): void {
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
      ctx.act(async (name: string, o: BackfillFlags) => {
        return runBackfillCommand(loadTemporalConfig(), name, o, ctx.io);
      }),
    );
  backfill
    .command('status <workflowId>')
    .description("a backfill's progress (totals, in-flight windows, rate, ETA) or its summary")
    .option('--json', 'machine-readable output')
    .action(
      // `--json` after the workflow id is parsed by `backfill` itself, which declares it too.
      ctx.act(async (workflowId: string, _o: { json?: boolean }, cmd: Command) => {
        return backfillStatus(loadTemporalConfig(), workflowId, cmd.optsWithGlobals(), ctx.io);
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
      ctx.act(async (workflowId: string, _o: { json?: boolean }, cmd: Command) => {
        return backfillCancel(loadTemporalConfig(), workflowId, cmd.optsWithGlobals(), ctx.io);
      }),
    );
}
