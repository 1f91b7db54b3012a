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
import type { HeldFailure, SeenEvent } from '../src/contract/monitor';
import { routingFromMemo } from '../src/contract/alert-routing';
import { createWorkflowJobClaims } from './claims';
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
  /** Failures held at the last poll for their owner (see HeldFailure). */
  held?: HeldFailure[];
  /** How long after its event time an unowned failure is held (default DEFAULT_OWNER_WAIT_MS). */
  ownerWaitMs?: number;
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
  /** Failures still held for their owner, for the next poll (absent: none). */
  held?: HeldFailure[];
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
/**
 * The trigger adopts a job whose POST response was lost within one attempt: the request timeout (30 s),
 * a grace pause, and its wait for the job's owner to claim it (36 s with the defaults); a worker lost
 * mid-attempt adds the heartbeat timeout and a retry. Three minutes covers that with room to spare.
 */
export const DEFAULT_OWNER_WAIT_MS = 3 * 60_000;
/** Held failures carried between polls at most (the oldest are alerted unowned beyond it). */
const MAX_HELD = 500;
const MAX_FUTURE_SKEW_MS = 60 * 60_000;

export function createFailureMonitorActivities(deps: FailureMonitorActivityDeps) {
  const now = () => deps.clock?.now() ?? Date.now();

  const claims = createWorkflowJobClaims({ client: deps.client, taskQueue: deps.taskQueue });

  /**
   * The run owning `jobId`: its job claim first (strongly consistent, written the moment the trigger
   * learns the id), then visibility (`M3terExportJobId`, for runs that predate claims).
   */
  async function owner(jobId: string): Promise<Omit<WorkflowExecutionInfo, 'raw'> | undefined> {
    const holder = (await claims.owners([jobId])).get(jobId);
    if (holder && holder.workflowId !== '(unknown)') {
      try {
        return await deps.client.workflow.getHandle(holder.workflowId, holder.runId).describe();
      } catch {
        /* gone (retention): visibility may still know it */
      }
    }
    let best: WorkflowExecutionInfo | undefined;
    for await (const wf of deps.client.workflow.list({ query: `M3terExportJobId = '${jobId}'` })) {
      if (!best || wf.startTime > best.startTime) best = wf;
    }
    return best;
  }

  function factsOf(e: M3terEvent): Omit<HeldFailure, 'jobId'> & { jobId?: string } {
    const jobId = failureEventJobId(e);
    const scheduleId = failureEventScheduleId(e);
    const reason = failureEventMessage(e);
    const sourceType = failureEventSourceType(e);
    return {
      eventId: e.id,
      t: Date.parse(e.eventTime),
      ...(jobId ? { jobId } : {}),
      ...(scheduleId ? { scheduleId } : {}),
      ...(reason ? { reason } : {}),
      ...(sourceType ? { sourceType } : {}),
    };
  }

  async function alertFor(
    f: Omit<HeldFailure, 'jobId'> & { jobId?: string },
  ): Promise<{ alert: Alert; owned: boolean }> {
    const { jobId, scheduleId, reason } = f;
    const base: Alert = {
      kind: FailureType.ExportJobFailed,
      eventId: f.eventId,
      noticedBy: 'monitor',
      message: `export job ${jobId ?? '(id not in the event)'} FAILED${reason ? `: ${reason}` : ''}`,
      ...(jobId ? { jobId } : {}),
      ...(scheduleId ? { scheduleId } : {}),
      details: {
        eventTime: new Date(f.t).toISOString(),
        ...(f.sourceType ? { sourceType: f.sourceType } : {}),
      },
    };
    const wf = jobId ? await owner(jobId) : undefined;
    if (!wf) return { alert: base, owned: false };
    const routing = routingFromMemo(wf.memo);
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
        ...(routing ? { routing } : {}),
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
    }
    // Held failures first (they are older), then this poll's, oldest first, so channels show failures in
    // the order they happened.
    const pending = [...(input.held ?? []), ...(isDigest ? [] : [...fresh].reverse().map(factsOf))];
    const held: HeldFailure[] = [];
    const ownerWaitMs = input.ownerWaitMs ?? DEFAULT_OWNER_WAIT_MS;
    for (const f of pending) {
      const { alert, owned } = await alertFor(f);
      // Its owner's trigger may still be adopting the job: the owner alerts it, on its export's channels.
      if (!owned && f.jobId && polledAt - f.t < ownerWaitMs && held.length < MAX_HELD) {
        held.push({ ...f, jobId: f.jobId });
        continue;
      }
      if (!owned) unowned++;
      const { claimed, ledgerId } = await claimAlert(deps.client, deps.taskQueue, alert);
      if (claimed) alertsSent++;
      else alreadyAlerted++;
      deps.log.info(
        { eventId: f.eventId, jobId: alert.jobId, workflowId: alert.workflowId, ledgerId, claimed, owned },
        claimed ? 'export failure event: alert claimed' : 'export failure event: already alerted',
      );
      heartbeat({ pages, processed: alertsSent + alreadyAlerted });
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
      held,
    };
  }

  return { pollFailureEvents };
}

export type FailureMonitorActivities = ReturnType<typeof createFailureMonitorActivities>;
