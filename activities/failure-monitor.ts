// The failure monitor's poll: page DataExportJobFailure events newest first down to what the monitor has
// already seen, join each new event's job id to the workflow owning it, and claim its alert in the ledger
// (src/alerts/ledger.ts). A retried or repeated poll is harmless: an already claimed alert is not sent
// again. Everything runs in one activity so the monitor's history grows by a handful of events per poll.
//
// m3ter's answers are bounded here: at most `maxPages` pages and `maxEvents` new events per poll (a server
// that never stops paging, or a flood, cannot hold the poll or the worker's memory); events that break
// their schema (an oversized id, an unreadable time) are dropped by the client and counted; and above
// `digestAbove` new failures in one poll, each is claimed silently and one digest alert names them all.
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
  /** Pages read per poll at most. */
  maxPages?: number;
  /** New events handled per poll at most (the newest ones). */
  maxEvents?: number;
  /** More new failures than this in one poll are alerted as one digest. */
  digestAbove?: number;
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
  /** Events m3ter sent that broke their schema (dropped). */
  rejected: number;
  /** True when the page or event cap ended the walk before the cutoff. */
  truncated: boolean;
  /** True when this poll's failures went out as one digest alert. */
  digest: boolean;
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
export const MONITOR_LIMITS = { maxPages: 20, maxEvents: 1000, digestAbove: 20 } as const;
/** Job ids a digest alert names; the rest are counted. */
const DIGEST_LISTED = 20;
const DEFAULT_OVERLAP_MS = 10 * 60_000;
const MAX_FUTURE_SKEW_MS = 60 * 60_000;

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

  interface Walk {
    fresh: M3terEvent[];
    pages: number;
    rejected: number;
    truncated: boolean;
  }

  /** Pages newest first down to the cutoff, within the page and event caps. */
  async function walk(
    input: PollFailureEventsInput,
    cutoff: number,
    polledAt: number,
    seen: Set<string>,
  ): Promise<Walk> {
    const maxPages = input.maxPages ?? MONITOR_LIMITS.maxPages;
    const maxEvents = input.maxEvents ?? MONITOR_LIMITS.maxEvents;
    const w: Walk = { fresh: [], pages: 0, rejected: 0, truncated: false };
    let nextToken: string | undefined;
    for (;;) {
      if (w.pages >= maxPages) return { ...w, truncated: true };
      const page = await deps.m3ter.listEvents({
        eventType: 'DataExportJobFailure',
        includeActioned: true,
        pageSize: input.pageSize ?? 100,
        ...(nextToken ? { nextToken } : {}),
      });
      w.pages++;
      w.rejected += page.rejected ?? 0;
      heartbeat({ pages: w.pages });
      for (const e of page.data) {
        const t = Date.parse(e.eventTime);
        // The schema accepts only ISO times; one that still does not parse is skipped, never walked past.
        // A time far in the future would lift the high-water mark above every real event to come.
        if (Number.isNaN(t) || t > polledAt + MAX_FUTURE_SKEW_MS) {
          w.rejected++;
          continue;
        }
        // Newest first: the first event older than the cutoff ends the walk.
        if (t < cutoff) return w;
        if (seen.has(e.id)) continue;
        if (w.fresh.length >= maxEvents) return { ...w, truncated: true };
        seen.add(e.id);
        w.fresh.push(e);
      }
      nextToken = page.nextToken ?? undefined;
      // An empty page ends the walk; one whose every event was dropped does not (older ones may be fine).
      if (!nextToken || (page.data.length === 0 && !page.rejected)) return w;
    }
  }

  /** Claims each failure without a message of its own, then one digest alert for them all. */
  async function digest(fresh: M3terEvent[], polledAt: number): Promise<{ sent: number; already: number }> {
    let sent = 0;
    let already = 0;
    const jobIds: string[] = [];
    for (const e of fresh) {
      const jobId = failureEventJobId(e);
      const alert: Alert = {
        kind: FailureType.ExportJobFailed,
        eventId: e.id,
        noticedBy: 'monitor',
        message: `export job ${jobId ?? '(id not in the event)'} FAILED (reported in a digest)`,
        ...(jobId ? { jobId } : {}),
      };
      const { claimed } = await claimAlert(deps.client, deps.taskQueue, alert, undefined, []);
      if (claimed) sent++;
      else already++;
      if (claimed && jobIds.length < DIGEST_LISTED) jobIds.push(jobId ?? `event ${e.id}`);
      heartbeat({ processed: sent + already });
    }
    // A retried poll finds every failure claimed already: nothing new to report.
    if (sent === 0) return { sent, already };
    const more = sent - jobIds.length;
    const at = new Date(polledAt).toISOString();
    await claimAlert(
      deps.client,
      deps.taskQueue,
      {
        kind: FailureType.ExportJobFailed,
        noticedBy: 'monitor',
        message:
          `${sent} export jobs FAILED since the last poll: ${jobIds.join(', ')}` +
          (more > 0 ? ` and ${more} more` : '') +
          ' (m3ter-exports failed list shows those this worker owns)',
        details: { failures: sent, at },
      },
      `alert:digest:${at}`,
    );
    deps.log.warn({ failures: sent }, 'export failure events: one digest alert sent');
    return { sent, already };
  }

  async function pollFailureEvents(input: PollFailureEventsInput): Promise<PollFailureEventsResult> {
    const polledAt = now();
    const hwm = input.highWaterMark ? Date.parse(input.highWaterMark) : undefined;
    const cutoff =
      hwm !== undefined ? hwm - (input.overlapMs ?? DEFAULT_OVERLAP_MS) : polledAt - input.lookbackMs;
    let w: Walk;
    try {
      w = await walk(input, cutoff, polledAt, new Set(input.recent.map((r) => r.id)));
    } catch (err) {
      throw toApplicationFailure(err, 'listing DataExportJobFailure events');
    }
    const { fresh, pages } = w;
    if (w.rejected > 0 || w.truncated)
      deps.log.warn(
        { rejected: w.rejected, truncated: w.truncated, pages, fresh: fresh.length },
        'failure monitor: m3ter events dropped (malformed) or the poll capped',
      );

    let alertsSent = 0;
    let alreadyAlerted = 0;
    let unowned = 0;
    const isDigest = fresh.length > (input.digestAbove ?? MONITOR_LIMITS.digestAbove);
    if (isDigest) {
      const d = await digest([...fresh].reverse(), polledAt);
      alertsSent = d.sent;
      alreadyAlerted = d.already;
    } else {
      // Oldest first, so channels show failures in the order they happened.
      for (const e of [...fresh].reverse()) {
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
    }

    const all = [...input.recent, ...fresh.map((e) => ({ id: e.id, t: Date.parse(e.eventTime) }))];
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
      rejected: w.rejected,
      truncated: w.truncated,
      digest: isDigest,
      ...(Number.isFinite(newest) ? { highWaterMark: new Date(newest).toISOString() } : {}),
      recent,
    };
  }

  return { pollFailureEvents };
}

export type FailureMonitorActivities = ReturnType<typeof createFailureMonitorActivities>;
