// `failed list`, `rerun <workflowId...>`, `rerun --failed`, `monitor start|status`.
//
// "Failed" means the LATEST run of an export workflow id failed (failed, timed out, terminated or
// cancelled): a window whose re-run succeeded, or is running, is not failed any more. Visibility on the
// dev server cannot ORDER BY, so runs are grouped and sorted here.
//
// A re-run is a fresh run of the failed run's own input under the same workflow id (a new ExportJob: the
// old job's file may be gone), started with id reuse ALLOW_DUPLICATE_FAILED_ONLY so Temporal refuses it if
// the id's latest run is running or succeeded, and linked to the failed run by M3terRerunOf.
import { EXPORT_KINDS } from '../contract/vocabulary';
import readline from 'node:readline';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import {
  ApplicationFailure,
  defaultPayloadConverter,
  TemporalFailure,
  WorkflowIdReusePolicy,
  type SearchAttributePair,
} from '@temporalio/common';
import { runStateOf } from '../../activities/window-runs';
import { failureMonitorStatus, ensureFailureMonitor } from '../alerts/monitor-start';
import { monitorInput } from '../alerts/worker-alerting';
import type { MonitorConfig, TemporalConfig } from '../config/config';
import { DurationError, parseDuration } from '../config/durations';
import { parseWindowWorkflowId } from '../contract/window-ids';
import {
  M3terExportJobId,
  M3terExportKind,
  M3terExportName,
  M3terRerunOf,
  M3terWindowStart,
} from '../contract/search-attributes';
import { CliInputError, EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';
import { withTemporalClient } from './temporal-client';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
}

/** Workflow types whose runs are exports (one ExportJob or bill CSV each). */
export const EXPORT_WORKFLOW_TYPES = ['adhocExportWorkflow', 'billsCsvExportWorkflow'] as const;
const KINDS: readonly string[] = EXPORT_KINDS;

export interface FailedExport {
  workflowId: string;
  runId: string;
  workflowType: string;
  export?: string;
  kind?: string;
  windowStart?: string;
  jobId?: string;
  failureType: string;
  message: string;
  status: string;
  failedAt?: string;
  rerunOf?: string;
}

export interface FailedFilter {
  sinceMs: number;
  exportName?: string;
  kind?: string;
}

export function parseFailedFilter(flags: { since?: string; export?: string; kind?: string }): FailedFilter {
  const problems: string[] = [];
  let sinceMs = 7 * 86_400_000;
  if (flags.since !== undefined) {
    try {
      sinceMs = parseDuration(flags.since);
    } catch (e) {
      problems.push(`--since: ${e instanceof DurationError ? e.message : 'must be a duration such as 7d'}`);
    }
  }
  if (flags.kind !== undefined && !KINDS.includes(flags.kind))
    problems.push(`--kind: must be one of ${KINDS.join(', ')}`);
  if (flags.export !== undefined && !/^[A-Za-z0-9_-]{1,100}$/.test(flags.export))
    problems.push('--export: must be an export name (letters, digits, - and _)');
  if (problems.length > 0) throw new CliInputError(problems.join('\n'), problems);
  return {
    sinceMs,
    ...(flags.export ? { exportName: flags.export } : {}),
    ...(flags.kind ? { kind: flags.kind } : {}),
  };
}

function describeOf(info: WorkflowExecutionInfo) {
  const sa = info.typedSearchAttributes;
  const parsed = parseWindowWorkflowId(info.workflowId);
  const ws = sa.get(M3terWindowStart);
  return {
    export: sa.get(M3terExportName) ?? parsed?.name,
    kind: sa.get(M3terExportKind) ?? parsed?.kind,
    windowStart: ws ? ws.toISOString() : parsed?.windowStart,
    jobId: sa.get(M3terExportJobId),
    rerunOf: sa.get(M3terRerunOf),
  };
}

/** The failure of a closed run: its root ApplicationFailure's type and message. */
export async function runFailure(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<{ type: string; message: string }> {
  try {
    await client.workflow.getHandle(workflowId, runId, { followRuns: false }).result();
    return { type: 'none', message: 'the run completed' };
  } catch (err) {
    let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
    let last: TemporalFailure | undefined;
    for (let i = 0; i < 8 && cause; i++) {
      if (cause instanceof ApplicationFailure && cause.type)
        return { type: cause.type, message: cause.message };
      if (cause instanceof TemporalFailure) last = cause;
      cause = (cause as { cause?: unknown }).cause;
    }
    const e = last ?? (err as Error);
    return { type: e?.name ?? 'Error', message: e?.message ?? String(err) };
  }
}

export async function listFailedExports(
  client: Client,
  filter: FailedFilter,
  now = Date.now(),
): Promise<FailedExport[]> {
  const since = new Date(now - filter.sinceMs).toISOString();
  const types = EXPORT_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ');
  const query = `WorkflowType IN (${types}) AND StartTime >= '${since}'`;
  // The latest run of each workflow id (by start time).
  const latest = new Map<string, WorkflowExecutionInfo>();
  for await (const wf of client.workflow.list({ query })) {
    const prev = latest.get(wf.workflowId);
    if (!prev || wf.startTime > prev.startTime) latest.set(wf.workflowId, wf);
  }
  const out: FailedExport[] = [];
  for (const wf of latest.values()) {
    if (runStateOf(wf.status.name) !== 'failed') continue;
    const d = describeOf(wf);
    if (filter.exportName && d.export !== filter.exportName) continue;
    if (filter.kind && d.kind !== filter.kind) continue;
    const f = await runFailure(client, wf.workflowId, wf.runId);
    out.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      workflowType: wf.type,
      ...(d.export ? { export: d.export } : {}),
      ...(d.kind ? { kind: d.kind } : {}),
      ...(d.windowStart ? { windowStart: d.windowStart } : {}),
      ...(d.jobId ? { jobId: d.jobId } : {}),
      ...(d.rerunOf ? { rerunOf: d.rerunOf } : {}),
      failureType: f.type,
      message: f.message,
      status: wf.status.name,
      ...(wf.closeTime ? { failedAt: wf.closeTime.toISOString() } : {}),
    });
  }
  return out.sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''));
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((v, c) => v.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function runFailedListCommand(
  config: TemporalConfig,
  flags: { since?: string; export?: string; kind?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const filter = parseFailedFilter(flags);
  const items = await withTemporalClient(config, (client) => listFailedExports(client, filter));
  if (flags.json) {
    io.stdout(JSON.stringify(items, null, 2));
    return EXIT_OK;
  }
  if (items.length === 0) {
    io.stdout('no failed exports');
    return EXIT_OK;
  }
  io.stdout(
    table([
      ['FAILED AT', 'WORKFLOW ID', 'EXPORT', 'WINDOW', 'JOB ID', 'FAILURE', 'MESSAGE'],
      ...items.map((i) => [
        i.failedAt ?? '-',
        i.workflowId,
        i.export ?? '-',
        i.windowStart ?? '-',
        i.jobId ?? '-',
        i.failureType,
        i.message.replace(/\s+/g, ' ').slice(0, 100),
      ]),
    ]),
  );
  return EXIT_OK;
}

export type RerunOutcome =
  | { workflowId: string; result: 'started'; runId: string; rerunOf: string }
  | { workflowId: string; result: 'would-start'; rerunOf: string }
  | { workflowId: string; result: 'skipped'; reason: string }
  | { workflowId: string; result: 'error'; reason: string };

/** Re-runs one export workflow id if its latest run failed; says why not otherwise. */
export async function rerunExport(
  client: Client,
  workflowId: string,
  opts: { dryRun?: boolean } = {},
): Promise<RerunOutcome> {
  let d;
  try {
    d = await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      return { workflowId, result: 'error', reason: 'no workflow with this id' };
    throw err;
  }
  if (!(EXPORT_WORKFLOW_TYPES as readonly string[]).includes(d.type))
    return { workflowId, result: 'error', reason: `not an export workflow (${d.type})` };
  const state = runStateOf(d.status.name);
  if (state === 'running') return { workflowId, result: 'skipped', reason: 'its latest run is running' };
  if (state === 'succeeded') return { workflowId, result: 'skipped', reason: 'its latest run succeeded' };
  if (opts.dryRun) return { workflowId, result: 'would-start', rerunOf: d.runId };

  const history = await client.workflow.getHandle(workflowId, d.runId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const args = (started?.input?.payloads ?? []).map((p) =>
    defaultPayloadConverter.fromPayload(p as Parameters<typeof defaultPayloadConverter.fromPayload>[0]),
  );
  const sa = d.typedSearchAttributes;
  const kept: SearchAttributePair[] = [];
  const kind = sa.get(M3terExportKind);
  const name = sa.get(M3terExportName);
  const ws = sa.get(M3terWindowStart);
  if (kind) kept.push({ key: M3terExportKind, value: kind });
  if (name) kept.push({ key: M3terExportName, value: name });
  if (ws) kept.push({ key: M3terWindowStart, value: ws });
  try {
    const h = await client.workflow.start(d.type, {
      workflowId,
      taskQueue: d.taskQueue,
      args,
      // Temporal refuses the start if the id's latest run is running or succeeded by now.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: [...kept, { key: M3terRerunOf, value: d.runId }],
    });
    return { workflowId, result: 'started', runId: h.firstExecutionRunId, rerunOf: d.runId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { workflowId, result: 'skipped', reason: 'another run of this id started meanwhile' };
    return { workflowId, result: 'error', reason: (err as Error).message };
  }
}

export interface RerunFlags {
  failed?: boolean;
  since?: string;
  export?: string;
  kind?: string;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((r) => rl.question(question, r));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function describeOutcome(o: RerunOutcome): string {
  switch (o.result) {
    case 'started':
      return `started      ${o.workflowId}  (run ${o.runId}, re-run of ${o.rerunOf})`;
    case 'would-start':
      return `would start  ${o.workflowId}  (re-run of ${o.rerunOf})`;
    case 'skipped':
      return `skipped      ${o.workflowId}  ${o.reason}`;
    case 'error':
      return `error        ${o.workflowId}  ${o.reason}`;
  }
}

export async function runRerunCommand(
  config: TemporalConfig,
  ids: string[],
  flags: RerunFlags,
  io: Io,
  opts: { isTty?: boolean; confirm?: (q: string) => Promise<boolean> } = {},
): Promise<number> {
  if (flags.failed && ids.length > 0) throw new CliInputError('give workflow ids or --failed, not both');
  if (!flags.failed && ids.length === 0)
    throw new CliInputError('give one or more workflow ids, or --failed');
  if (!flags.failed && (flags.since || flags.export || flags.kind))
    throw new CliInputError('--since, --export and --kind select failed exports: use them with --failed');
  const filter = flags.failed ? parseFailedFilter(flags) : undefined;
  return withTemporalClient(config, async (client) => {
    let targets = ids;
    if (filter) {
      targets = (await listFailedExports(client, filter)).map((f) => f.workflowId);
      if (targets.length === 0) {
        if (flags.json) io.stdout('[]');
        else io.stdout('no failed exports to re-run');
        return EXIT_OK;
      }
      const tty = opts.isTty ?? Boolean(process.stdin.isTTY && process.stderr.isTTY);
      if (!flags.dryRun && !flags.yes && tty) {
        for (const id of targets) io.stderr(`  ${id}`);
        const ok = await (opts.confirm ?? confirm)(`re-run these ${targets.length} failed export(s)? [y/N] `);
        if (!ok) {
          io.stderr('nothing started');
          return EXIT_OK;
        }
      }
    }
    const outcomes: RerunOutcome[] = [];
    for (const id of targets) {
      let o: RerunOutcome;
      try {
        o = await rerunExport(client, id, { dryRun: flags.dryRun });
      } catch (err) {
        o = { workflowId: id, result: 'error', reason: (err as Error).message };
      }
      outcomes.push(o);
      if (!flags.json) io.stdout(describeOutcome(o));
    }
    if (flags.json) io.stdout(JSON.stringify(outcomes, null, 2));
    return outcomes.some((o) => o.result === 'error') ? EXIT_EXPORT_FAILED : EXIT_OK;
  });
}

export async function runMonitorStartCommand(
  config: TemporalConfig & { monitor: MonitorConfig },
  io: Io,
): Promise<number> {
  const r = await withTemporalClient(config, (client) =>
    ensureFailureMonitor(client, config.taskQueue, monitorInput(config)),
  );
  io.stdout(`${r.started ? 'started' : 'already running'}: ${r.workflowId} (run ${r.runId})`);
  return EXIT_OK;
}

export async function runMonitorStatusCommand(
  config: TemporalConfig,
  flags: { json?: boolean },
  io: Io,
): Promise<number> {
  const s = await withTemporalClient(config, (client) => failureMonitorStatus(client));
  if (flags.json) {
    io.stdout(JSON.stringify({ state: s.state, runId: s.runId, ...s.status }, null, 2));
    return EXIT_OK;
  }
  const st = s.status;
  io.stdout(
    [
      `state            ${s.state} (run ${s.runId})`,
      `last poll        ${st.lastPoll ?? 'never'}`,
      `high-water mark  ${st.highWaterMark ?? 'none yet'}`,
      `events seen      ${st.eventsSeen}`,
      `alerts sent      ${st.alertsSent} (already alerted by the export: ${st.alreadyAlerted}; unowned: ${st.unowned})`,
      `polls            ${st.polls} (this run ${st.pollsThisRun}; runs ${st.runs})`,
      `interval         ${Math.round(st.intervalMs / 1000)} s`,
      ...(st.lastError ? [`last error       ${st.lastError}`] : []),
    ].join('\n'),
  );
  return EXIT_OK;
}
