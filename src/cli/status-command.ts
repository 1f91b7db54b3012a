// `m3ter-exports status <workflowId>`: the workflow's own view (status query) plus Temporal's (describe),
// including the live heartbeat of a running download or poll.
import type { Command } from 'commander';
import type { CliContext } from './program';
import { loadTemporalConfig } from '../config/config';
import { withTemporalClient } from '../temporal/client';
import { EXIT_OK } from './exit-codes';
import type { Client } from '@temporalio/client';
import { statusQuery, type ExportStatus } from '../../workflows/common';

export interface StatusReport {
  workflowId: string;
  runId: string;
  type: string;
  temporalStatus: string;
  startTime?: string;
  closeTime?: string;
  export?: ExportStatus;
  pendingActivities: {
    activityType?: string;
    attempt?: number;
    state?: string;
    lastHeartbeat?: unknown;
    lastFailure?: string;
  }[];
}

export async function exportStatus(client: Client, workflowId: string): Promise<StatusReport> {
  const handle = client.workflow.getHandle(workflowId);
  const desc = await handle.describe();
  let exportView: ExportStatus | undefined;
  try {
    exportView = await handle.query(statusQuery);
  } catch {
    exportView = undefined; // no worker running, or a workflow type without the query
  }
  const pending = desc.raw.pendingActivities ?? [];
  const payloadConverter = client.options.loadedDataConverter.payloadConverter;
  return {
    workflowId,
    runId: desc.runId,
    type: desc.type,
    temporalStatus: desc.status.name,
    startTime: desc.startTime?.toISOString(),
    closeTime: desc.closeTime?.toISOString(),
    export: exportView,
    pendingActivities: pending.map((a) => ({
      activityType: a.activityType?.name ?? undefined,
      attempt: a.attempt ?? undefined,
      state: a.state != null ? String(a.state) : undefined,
      lastHeartbeat: a.heartbeatDetails?.payloads?.length
        ? payloadConverter.fromPayload(a.heartbeatDetails.payloads[0])
        : undefined,
      lastFailure: a.lastFailure?.message ?? undefined,
    })),
  };
}

export function formatStatus(r: StatusReport): string {
  const lines = [
    `workflow   ${r.workflowId} (${r.type})`,
    `run        ${r.runId}`,
    `temporal   ${r.temporalStatus}${r.closeTime ? ` at ${r.closeTime}` : ''}`,
  ];
  if (r.export) {
    lines.push(
      `phase      ${r.export.phase ?? '?'}`,
      `job        ${r.export.jobId ?? '-'} ${r.export.jobStatus ?? ''}`.trimEnd(),
      `polls      ${r.export.polls ?? 0}`,
      `bytes      ${r.export.bytesWritten ?? 0}`,
    );
  }
  for (const a of r.pendingActivities) {
    lines.push(
      `activity   ${a.activityType} attempt ${a.attempt}${a.lastHeartbeat ? ` heartbeat ${JSON.stringify(a.lastHeartbeat)}` : ''}${a.lastFailure ? ` last failure: ${a.lastFailure}` : ''}`,
    );
  }
  return lines.join('\n');
}

export function registerStatusCommand(program: Command, ctx: CliContext): void {
  program
    .command('status <workflowId>')
    .description('show an export workflow: phase, ExportJob, polls, bytes written, pending activities')
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (workflowId: string, o: { json?: boolean }) => {
        const report = await withTemporalClient(loadTemporalConfig(), (client) =>
          exportStatus(client, workflowId),
        );
        ctx.io.stdout(o.json ? JSON.stringify(report, null, 2) : formatStatus(report));
        return EXIT_OK;
      }),
    );
}
