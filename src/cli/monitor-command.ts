// `monitor start|status`: the one DataExportJobFailure monitor of the namespace.
import type { Io } from './io';
import { failureMonitorStatus, ensureFailureMonitor } from '../alerts/monitor-start';
import { monitorInput } from '../alerts/worker-alerting';
import type { MonitorConfig, TemporalConfig } from '../config/config';
import { EXIT_OK } from './exit-codes';
import { withTemporalClient } from '../temporal/client';

import type { Command } from 'commander';
import type { CliContext } from './program';
import { loadMonitorCommandConfig, loadTemporalConfig } from '../config/config';

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
      `dropped          ${st.eventsRejected ?? 0} malformed event(s); ${st.pollsTruncated ?? 0} poll(s) capped with older events unread`,
      `interval         ${Math.round(st.intervalMs / 1000)} s`,
      ...(st.lastError ? [`last error       ${st.lastError}`] : []),
    ].join('\n'),
  );
  return EXIT_OK;
}

export function registerMonitorCommand(program: Command, ctx: CliContext): void {
  const monitor = program
    .command('monitor')
    .description('the DataExportJobFailure monitor (one per namespace)');
  monitor
    .command('start')
    .description('start the failure monitor unless it runs already (the worker does this at start too)')
    .action(
      ctx.act(async () => {
        return runMonitorStartCommand(loadMonitorCommandConfig(), ctx.io);
      }),
    );
  monitor
    .command('status')
    .description("the monitor's last poll, high-water mark, events seen and alerts sent")
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (o: { json?: boolean }) => {
        return runMonitorStatusCommand(loadTemporalConfig(), o, ctx.io);
      }),
    );
}
