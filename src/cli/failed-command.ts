// `failed list`: exports whose latest run failed (`rerun` and `monitor` have their own files).
//
// "Failed" means the LATEST run of an export workflow id failed (failed, timed out, terminated or
// cancelled): a window whose re-run succeeded, or is running, is not failed any more. Visibility on the
// dev server cannot ORDER BY, so runs are grouped and sorted here.
//
// A re-run is a fresh run of the failed run's own input under the same workflow id (a new ExportJob: the
// old job's file may be gone), started with id reuse ALLOW_DUPLICATE_FAILED_ONLY so Temporal refuses it if
// the id's latest run is running or succeeded, and linked to the failed run by M3terRerunOf.
import type { Io } from './io';
import { describeFailure } from '../contract/failures';
import { EXPORT_KINDS } from '../contract/vocabulary';
import { type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { runStateOf } from '../../activities/window-runs';
import type { TemporalConfig } from '../config/config';
import { DurationError, parseDuration } from '../config/durations';
import { parseWindowWorkflowId } from '../contract/window-ids';
import {
  M3terExportJobId,
  M3terExportKind,
  M3terExportName,
  M3terRerunOf,
  M3terWindowStart,
} from '../contract/search-attributes';
import { CliInputError, EXIT_OK } from './exit-codes';
import { withTemporalClient } from '../temporal/client';
import { EXPORT_INCIDENT_WORKFLOW, incidentStateQuery } from '../contract/incidents';

import { EXPORT_NAME_PATTERN, EXPORT_NAME_RULE } from '../contract/vocabulary';
import type { Command } from 'commander';
import type { CliContext } from './program';
import { loadTemporalConfig } from '../config/config';

export type { Io };

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
  if (flags.export !== undefined && !EXPORT_NAME_PATTERN.test(flags.export))
    problems.push(`--export: ${EXPORT_NAME_RULE}`);
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

/** The failure of a closed run, described the one way (describeFailure). */
export async function runFailure(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<{ type: string; message: string }> {
  try {
    await client.workflow.getHandle(workflowId, runId, { followRuns: false }).result();
    return { type: 'none', message: 'the run completed' };
  } catch (err) {
    return describeFailure(err);
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

export interface OpenIncident {
  workflowId: string;
  subject: string;
  openedAt: string;
  failures: number;
  latestWindow?: string;
  latestMessage: string;
}

/** Incidents still open (workflows/export-incident.ts): one running incident workflow each. */
export async function listOpenIncidents(client: Client): Promise<OpenIncident[]> {
  const query = `WorkflowType = '${EXPORT_INCIDENT_WORKFLOW}' AND ExecutionStatus = 'Running'`;
  const out: OpenIncident[] = [];
  for await (const wf of client.workflow.list({ query })) {
    const s = await client.workflow
      .getHandle(wf.workflowId)
      .query(incidentStateQuery)
      .catch(() => undefined);
    if (!s) continue;
    out.push({
      workflowId: wf.workflowId,
      subject: s.subject,
      openedAt: s.openedAt,
      failures: s.failures,
      ...(s.latest.window?.start ? { latestWindow: s.latest.window.start } : {}),
      latestMessage: s.latest.message,
    });
  }
  return out.sort((a, b) => b.openedAt.localeCompare(a.openedAt));
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

function ofExport(incidents: OpenIncident[], exportName?: string): OpenIncident[] {
  return incidents.filter((i) => !exportName || i.subject === `export ${exportName}`);
}

function incidentsTable(open: OpenIncident[]): string {
  return table([
    ['OPENED AT', 'INCIDENT', 'FAILURES', 'LATEST WINDOW', 'LATEST'],
    ...open.map((i) => [
      i.openedAt,
      i.subject,
      String(i.failures),
      i.latestWindow ?? '-',
      i.latestMessage.replace(/\s+/g, ' ').slice(0, 80),
    ]),
  ]);
}

/** `failed incidents`: the open incidents alone; its `--json` is their list (`failed list --json` is runs). */
export async function runFailedIncidentsCommand(
  config: TemporalConfig,
  flags: { export?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const { exportName } = parseFailedFilter({ export: flags.export });
  const open = ofExport(await withTemporalClient(config, listOpenIncidents), exportName);
  if (flags.json) io.stdout(JSON.stringify(open, null, 2));
  else io.stdout(open.length > 0 ? incidentsTable(open) : 'no open incidents');
  return EXIT_OK;
}

export async function runFailedListCommand(
  config: TemporalConfig,
  flags: { since?: string; export?: string; kind?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const filter = parseFailedFilter(flags);
  const [items, incidents] = await withTemporalClient(config, async (client) => [
    await listFailedExports(client, filter),
    flags.json ? [] : await listOpenIncidents(client),
  ]);
  if (flags.json) {
    io.stdout(JSON.stringify(items, null, 2));
    return EXIT_OK;
  }
  const open = ofExport(incidents, filter.exportName);
  if (open.length > 0) io.stdout(`open incidents:\n${incidentsTable(open)}\n`);
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

export function registerFailedCommand(program: Command, ctx: CliContext): void {
  const failed = program.command('failed').description('exports whose latest run failed');
  failed
    .command('list')
    .description('windows and ad-hoc exports whose latest run failed, newest first')
    .option('--since <duration>', 'started within this period (e.g. 7d, 36h)', '7d')
    .option('--export <name>', 'only this export')
    .option('--kind <kind>', 'only this kind: usage | operational | bills')
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (o: { since?: string; export?: string; kind?: string; json?: boolean }) => {
        return runFailedListCommand(loadTemporalConfig(), o, ctx.io);
      }),
    );
  failed
    .command('incidents')
    .description('open incidents: exports failing since their last success, newest first')
    .option('--export <name>', 'only this export')
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (o: { export?: string; json?: boolean }) => {
        return runFailedIncidentsCommand(loadTemporalConfig(), o, ctx.io);
      }),
    );
}
