// `m3ter-exports backfill <name> --from --to [...]`, `backfill status <id>`, `backfill cancel <id>`.
//
// Everything is validated before any connection (exit 2, every problem named by flag and rule). The dry run
// plans with the very function the workflow's planning activity runs, so what it prints is what a backfill
// started now would do. The backfill's workflow id is a function of (name, from, to, reprocess), and it is
// started with the USE_EXISTING conflict policy: repeating the command attaches to the running backfill.
import type { Command } from 'commander';
import { registerWorkflowIdCommand, type CliContext, type WorkflowIdAction } from './program';
import { loadTemporalConfig } from '../config/config';
import type { Io } from './io';
import { DEFAULT_DEFINITIONS_FILE } from './schedules-command';
import type { TemporalConfig } from '../config/config';
import { backfillWorkflowId } from '../contract/ids';
import type { backfillWorkflow } from '../../workflows/backfill';
import { backfillProgressQuery, type BackfillProgress } from '../contract/backfill';
import { EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';
import {
  cancelRunningWorkflowOfType,
  describeWorkflowOfType,
  withTemporalClient,
  type CommandWorkflowType,
} from '../temporal/client';

import { prepareBackfill, type BackfillFlags } from './backfill-prepare';
import { formatPlan, planBackfill } from './backfill-plan';
import {
  exitCodeOf,
  finalProgress,
  formatSummary,
  waitWithProgress,
  type BackfillHandle,
} from './backfill-progress';

export type { Io, BackfillFlags };
export { backfillWorkflowId, prepareBackfill };

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

const BACKFILL: CommandWorkflowType = { workflowType: 'backfillWorkflow', noun: 'a backfill' };

export const backfillStatus: WorkflowIdAction = (temporal, workflowId, o, io) =>
  withTemporalClient(temporal, async (client) => {
    const { handle, d } = await describeWorkflowOfType<BackfillHandle>(client, workflowId, BACKFILL);
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

export const backfillCancel: WorkflowIdAction = (temporal, workflowId, o, io) =>
  withTemporalClient(temporal, async (client) => {
    const { handle } = await cancelRunningWorkflowOfType<BackfillHandle>(client, workflowId, BACKFILL);
    io.stderr(`cancel requested for ${workflowId}; waiting for its in-flight windows to stop ...`);
    const p = await finalProgress(handle);
    if (o.json) io.stdout(JSON.stringify({ workflowId, progress: p }, null, 2));
    else if (p) io.stdout(formatSummary(workflowId, p));
    return EXIT_OK;
  });

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
    .option('--file <path>', 'export definitions file', DEFAULT_DEFINITIONS_FILE)
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
  registerWorkflowIdCommand(
    backfill,
    ctx,
    'status',
    "a backfill's progress (totals, in-flight windows, rate, ETA) or its summary",
    backfillStatus,
  );
  registerWorkflowIdCommand(
    backfill,
    ctx,
    'cancel',
    'cancel a backfill: its in-flight window exports are cancelled (their ExportJobs are left to m3ter)',
    backfillCancel,
  );
}
