// `m3ter-exports schedules ...`: Temporal Schedules from the export definitions file.
import type { Command } from 'commander';
import type { CliContext } from './program';
import { loadM3terConfig, loadTemporalConfig } from '../config/config';
import type { ExportDefinitions } from '../definitions';
import { ruleProblems } from '../alerts/rules';
import type { Io } from './io';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { TemporalConfig } from '../config/config';
import { loadRoutedDefinitionsFile } from '../definitions';
import { executePlan, formatPlan, planApply } from '../schedules/apply';
import { scheduleIdFor } from '../schedules/desired';
import {
  formatScheduleDescription,
  formatScheduleList,
  listScheduleViews,
  viewSchedule,
} from '../schedules/inspect';
import { CliInputError, EXIT_OK } from './exit-codes';
import { withTemporalClient } from '../temporal/client';

export const DEFAULT_DEFINITIONS_FILE = 'm3ter-exports.yaml';

export type { Io };

export async function schedulesApply(
  temporal: TemporalConfig,
  o: { file?: string; dryRun?: boolean; prune?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  // The whole file is validated (every problem at once) before any connection.
  const defs = loadRoutedDefinitionsFile(o.file ?? DEFAULT_DEFINITIONS_FILE);
  await checkRoutingRules(defs);
  return withTemporalClient(temporal, async (client) => {
    const plan = await planApply(client, defs, { prune: Boolean(o.prune) });
    if (!o.dryRun) await executePlan(client, defs, plan, { taskQueue: temporal.taskQueue });
    if (o.json) io.stdout(JSON.stringify({ dryRun: Boolean(o.dryRun), plan }, null, 2));
    else io.stdout(`${o.dryRun ? 'plan (dry run, nothing changed):\n' : ''}${formatPlan(plan)}`);
    return EXIT_OK;
  });
}

/** `when:` rules are checked with m3ter before anything is created (exit 2 naming export and channel). */
async function checkRoutingRules(defs: ExportDefinitions): Promise<void> {
  const hasRules = defs.exports.some((e) => e.alerting?.channels.some((c) => c.when));
  if (!hasRules) return;
  const { createM3terClient } = await import('../m3ter');
  const m3ter = createM3terClient(loadM3terConfig());
  let problems: string[];
  try {
    problems = await ruleProblems(defs, (req) => m3ter.evaluateNotification(req));
  } finally {
    m3ter.close();
  }
  if (problems.length > 0)
    throw new CliInputError(`invalid routing rules:\n  ${problems.join('\n  ')}`, problems);
}

export async function schedulesList(
  temporal: TemporalConfig,
  o: { json?: boolean },
  io: Io,
): Promise<number> {
  return withTemporalClient(temporal, async (client) => {
    const views = await listScheduleViews(client);
    io.stdout(
      o.json
        ? JSON.stringify(
            views.map(({ definition: _d, ...v }) => v),
            null,
            2,
          )
        : formatScheduleList(views),
    );
    return EXIT_OK;
  });
}

async function describeByName(client: Client, name: string) {
  const scheduleId = scheduleIdFor(name);
  try {
    return { scheduleId, desc: await client.schedule.getHandle(scheduleId).describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new CliInputError(`<name>: no schedule ${scheduleId} (run "schedules apply" first)`);
    throw err;
  }
}

export async function schedulesDescribe(
  temporal: TemporalConfig,
  name: string,
  o: { json?: boolean },
  io: Io,
): Promise<number> {
  return withTemporalClient(temporal, async (client) => {
    const { scheduleId, desc } = await describeByName(client, name);
    const view = await viewSchedule(client, name, scheduleId, desc, 5);
    io.stdout(o.json ? JSON.stringify(view, null, 2) : formatScheduleDescription(view));
    return EXIT_OK;
  });
}

export const ScheduleOperation = {
  pause: 'pause',
  unpause: 'unpause',
  trigger: 'trigger',
  delete: 'delete',
} as const;
export type ScheduleOperation = (typeof ScheduleOperation)[keyof typeof ScheduleOperation];

export async function schedulesOperate(
  temporal: TemporalConfig,
  op: ScheduleOperation,
  name: string,
  o: { note?: string },
  io: Io,
): Promise<number> {
  return withTemporalClient(temporal, async (client) => {
    const { scheduleId } = await describeByName(client, name);
    const handle = client.schedule.getHandle(scheduleId);
    if (op === ScheduleOperation.pause) await handle.pause(o.note ?? 'paused with m3ter-exports');
    else if (op === ScheduleOperation.unpause) await handle.unpause(o.note ?? 'unpaused with m3ter-exports');
    // Trigger-now: its nominal time is now, so it exports the window before this instant.
    else if (op === ScheduleOperation.trigger) await handle.trigger();
    else await handle.delete();
    const done = { pause: 'paused', unpause: 'unpaused', trigger: 'triggered', delete: 'deleted' }[op];
    io.stderr(`${done} ${scheduleId}`);
    return EXIT_OK;
  });
}

export function registerSchedulesCommand(program: Command, ctx: CliContext): void {
  const schedules = program
    .command('schedules')
    .description('Temporal Schedules from the export definitions file (m3ter-exports.yaml)');
  schedules
    .command('apply')
    .description(
      'make the schedules match the file: create, update what changed, --prune deletes ours not in it',
    )
    .option('--file <path>', 'export definitions file', DEFAULT_DEFINITIONS_FILE)
    .option(
      '--dry-run',
      'print the plan (create / update with field diff / unchanged / delete); change nothing',
    )
    .option('--prune', 'delete schedules created by this tool whose export is no longer in the file')
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (o: { file: string; dryRun?: boolean; prune?: boolean; json?: boolean }) => {
        return schedulesApply(loadTemporalConfig(), o, ctx.io);
      }),
    );
  schedules
    .command('list')
    .description('schedules managed by this tool: spec, time zone, paused, last run and its window, next run')
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (o: { json?: boolean }) => {
        return schedulesList(loadTemporalConfig(), o, ctx.io);
      }),
    );
  schedules
    .command('describe <name>')
    .description('definition, policies, recent runs, and the next 5 nominal times with their windows')
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (name: string, o: { json?: boolean }) => {
        return schedulesDescribe(loadTemporalConfig(), name, o, ctx.io);
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
      ctx.act(async (name: string, o: { note?: string }) => {
        return schedulesOperate(loadTemporalConfig(), op, name, o, ctx.io);
      }),
    );
  }
}
