// `rerun <workflowId...>` and `rerun --failed`: a fresh run of each failed export under its own workflow
// id (a new ExportJob: the old job's file may be gone), started with id reuse ALLOW_DUPLICATE_FAILED_ONLY so
// Temporal refuses it if the id's latest run is running or succeeded, linked to the failed run by
// M3terRerunOf.
import type { Io } from './io';
import readline from 'node:readline';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import { runStateOf } from '../../activities/window-runs';
import type { TemporalConfig } from '../config/config';
import {
  M3terExportKind,
  M3terExportName,
  M3terRerunOf,
  M3terWindowStart,
} from '../contract/search-attributes';
import { CliInputError, EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';
import { withTemporalClient } from '../temporal/client';

import { EXPORT_WORKFLOW_TYPES, listFailedExports, parseFailedFilter } from './failed-command';
import type { Command } from 'commander';
import type { CliContext } from './program';
import { loadTemporalConfig } from '../config/config';

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
      // The export's routing (the failure monitor reads it there) stays with the re-run.
      ...(d.memo && Object.keys(d.memo).length > 0 ? { memo: d.memo } : {}),
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

export function registerRerunCommand(program: Command, ctx: CliContext): void {
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
      ctx.act(async (ids: string[], o: RerunFlags, cmd: Command) => {
        // --since has a default; only an explicitly given one is an error without --failed.
        const since = cmd.getOptionValueSource('since') === 'default' ? undefined : o.since;
        return runRerunCommand(loadTemporalConfig(), ids ?? [], { ...o, since }, ctx.io);
      }),
    );
}
