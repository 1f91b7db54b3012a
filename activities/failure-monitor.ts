// The failure monitor's poll: page DataExportJobFailure events newest first down to what the monitor has
// already seen, join each new event's job id to the workflow owning it, and claim its alert in the ledger
// (src/alerts/ledger.ts). A retried or repeated poll is harmless: an already claimed alert is not sent
// again. Everything runs in one activity so the monitor's history grows by a handful of events per poll.
import { heartbeat } from '@temporalio/activity';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { claimAlert } from '../src/alerts/ledger';
import type { Alert } from '../src/alerts/webhook';
import { FailureType } from '../src/contract/failures';
import type { M3terEvent } from '../src/m3ter/schemas';
import { M3terExportKind, M3terExportName, M3terWindowStart } from '../src/contract/search-attributes';
import type { M3terClient } from '../src/m3ter';
import type { ActivityLogger, Clock } from './deps';
import type { SeenEvent } from '../src/contract/monitor';
import { toApplicationFailure } from './failures';
import {
  failureEventJobId,
  failureEventMessage,
  failureEventScheduleId,
  failureEventSourceType,
} from './failure-events';

export interface PollFailureEventsInput {
  /** Newest event time seen so far (ISO); absent on a first start. */
  highWaterMark?: string;
  /** Ids of recently seen events (the newest ones, within `overlapMs` of the high-water mark). */
  recent: SeenEvent[];
  /** First start: how far back to look. */
  lookbackMs: number;
  /**
   * Events may become visible a little after their event time; the poll re-reads this far below the
   * high-water mark and skips ids it has seen. Default 10 minutes.
   */
  overlapMs?: number;
  pageSize?: number;
}

export interface PollFailureEventsResult {
  polledAt: string;
  pages: number;
  /** Events new to the monitor, oldest first. */
  newEvents: number;
  /** Alerts this poll claimed (and so sent); the rest were claimed before (by the export workflow). */
  alertsSent: number;
  alreadyAlerted: number;
  unowned: number;
  highWaterMark?: string;
  recent: SeenEvent[];
}

export interface FailureMonitorActivityDeps {
  m3ter: Pick<M3terClient, 'listEvents'>;
  client: Client;
  taskQueue: string;
  log: ActivityLogger;
  clock?: Clock;
}

/** How many recent ids are carried between polls at most. */
export const MAX_RECENT_EVENTS = 1000;
const DEFAULT_OVERLAP_MS = 10 * 60_000;

export function createFailureMonitorActivities(deps: FailureMonitorActivityDeps) {
  const now = () => deps.clock?.now() ?? Date.now();

  /** The latest run of the workflow owning `jobId`, from visibility. */
  async function owner(jobId: string): Promise<WorkflowExecutionInfo | undefined> {
    let best: WorkflowExecutionInfo | undefined;
    for await (const wf of deps.client.workflow.list({ query: `M3terExportJobId = '${jobId}'` })) {
      if (!best || wf.startTime > best.startTime) best = wf;
    }
    return best;
  }

  async function alertFor(e: M3terEvent): Promise<{ alert: Alert; owned: boolean }> {
    const jobId = failureEventJobId(e);
    const scheduleId = failureEventScheduleId(e);
    const reason = failureEventMessage(e);
    const base: Alert = {
      kind: FailureType.ExportJobFailed,
      eventId: e.id,
      noticedBy: 'monitor',
      message: `export job ${jobId ?? '(id not in the event)'} FAILED${reason ? `: ${reason}` : ''}`,
      ...(jobId ? { jobId } : {}),
      ...(scheduleId ? { scheduleId } : {}),
      details: {
        eventTime: e.eventTime,
        ...(failureEventSourceType(e) ? { sourceType: failureEventSourceType(e) } : {}),
      },
    };
    const wf = jobId ? await owner(jobId) : undefined;
    if (!wf) return { alert: base, owned: false };
    const sa = wf.typedSearchAttributes;
    const start = sa.get(M3terWindowStart);
    const kind = sa.get(M3terExportKind);
    return {
      owned: true,
      alert: {
        ...base,
        workflowId: wf.workflowId,
        runId: wf.runId,
        ...(sa.get(M3terExportName) ? { exportName: sa.get(M3terExportName) } : {}),
        ...(kind ? { exportKind: kind } : {}),
        ...(start ? { window: { start: start.toISOString() } } : {}),
        details: { ...base.details, workflowStatus: wf.status.name },
      },
    };
  }

  async function pollFailureEvents(input: PollFailureEventsInput): Promise<PollFailureEventsResult> {
    const polledAt = now();
    const hwm = input.highWaterMark ? Date.parse(input.highWaterMark) : undefined;
    const cutoff =
      hwm !== undefined ? hwm - (input.overlapMs ?? DEFAULT_OVERLAP_MS) : polledAt - input.lookbackMs;
    const seen = new Set(input.recent.map((r) => r.id));
    const fresh: M3terEvent[] = [];
    let pages = 0;
    let nextToken: string | undefined;
    try {
      outer: for (;;) {
        const page = await deps.m3ter.listEvents({
          eventType: 'DataExportJobFailure',
          includeActioned: true,
          pageSize: input.pageSize ?? 100,
          ...(nextToken ? { nextToken } : {}),
        });
        pages++;
        heartbeat({ pages });
        for (const e of page.data) {
          const t = Date.parse(e.eventTime);
          // Newest first: the first event older than the cutoff ends the walk.
          if (!Number.isNaN(t) && t < cutoff) break outer;
          if (!seen.has(e.id)) fresh.push(e);
        }
        nextToken = page.nextToken ?? undefined;
        if (!nextToken || page.data.length === 0) break;
      }
    } catch (err) {
      throw toApplicationFailure(err, 'listing DataExportJobFailure events');
    }

    let alertsSent = 0;
    let alreadyAlerted = 0;
    let unowned = 0;
    // Oldest first, so channels show failures in the order they happened.
    for (const e of fresh.reverse()) {
      const { alert, owned } = await alertFor(e);
      if (!owned) unowned++;
      const { claimed, ledgerId } = await claimAlert(deps.client, deps.taskQueue, alert);
      if (claimed) alertsSent++;
      else alreadyAlerted++;
      deps.log.info(
        { eventId: e.id, jobId: alert.jobId, workflowId: alert.workflowId, ledgerId, claimed, owned },
        claimed ? 'export failure event: alert claimed' : 'export failure event: already alerted',
      );
      heartbeat({ pages, processed: alertsSent + alreadyAlerted });
    }

    const all = [
      ...input.recent,
      ...fresh.map((e) => ({ id: e.id, t: Date.parse(e.eventTime) })).filter((r) => !Number.isNaN(r.t)),
    ];
    const newest = all.reduce((m, r) => Math.max(m, r.t), hwm ?? -Infinity);
    const keepFrom = newest - (input.overlapMs ?? DEFAULT_OVERLAP_MS);
    const recent = all
      .filter((r) => r.t >= keepFrom)
      .sort((a, b) => b.t - a.t)
      .slice(0, MAX_RECENT_EVENTS);
    return {
      polledAt: new Date(polledAt).toISOString(),
      pages,
      newEvents: fresh.length,
      alertsSent,
      alreadyAlerted,
      unowned,
      ...(Number.isFinite(newest) ? { highWaterMark: new Date(newest).toISOString() } : {}),
      recent,
    };
  }

  return { pollFailureEvents };
}

export type FailureMonitorActivities = ReturnType<typeof createFailureMonitorActivities>;
