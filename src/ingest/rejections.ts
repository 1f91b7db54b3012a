// m3ter validates measurements after accepting them and reports the rows it rejects as
// IngestValidationFailure events. This joins those events to the lines of the file they came from.
//
// Derived uids name their line (./uid.ts). A file's own uids are looked up by reading the file again,
// keeping only the uids the events named. DuplicateUid needs care: an ingest that resent a batch (a retry
// after a lost answer, a worker killed mid-batch) makes m3ter see its own rows twice. That is the dedup
// working, not a rejected row; only a uid the file itself repeats is a rejected line.
import { cleanText } from '../m3ter/errors';
import type { M3terEvent } from '../m3ter/schemas';
import type { IngestRejections, RejectedLine } from '../contract/ingest';
import { lineOfDerivedUid } from './uid';

export const DUPLICATE_UID = 'DuplicateUid';
/** Rejected lines tracked in detail; beyond this they are counted only (a file m3ter rejects wholesale). */
export const MAX_TRACKED_REJECTIONS = 200_000;

export interface RejectionEvent {
  eventId: string;
  uid: string;
  type: string;
  reason: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * The uid, failure type and reason of an IngestValidationFailure event.
 *
 * ASSUMPTION (docs/m3ter-api.md, Assumptions): no source documents the payload of
 * `ingest.validation.failure`. The uid is looked for as `eventData.uid`, `eventData.measurement.uid`, a `uid`
 * at the top of `m3terEvent`, then the event's `resourceId`; the type as `failureType`, `type`, `errorType`
 * or `errorCode`; the reason as `errorMessage`, `message` or `reason`.
 */
export function parseRejectionEvent(e: M3terEvent): RejectionEvent | undefined {
  const m = obj(e.m3terEvent);
  const data = obj(m.eventData);
  const uid =
    str(data.uid) ??
    str(obj(data.measurement).uid) ??
    str(m.uid) ??
    str((e as { resourceId?: unknown }).resourceId);
  if (!uid || uid.length > 50) return undefined;
  const type =
    str(data.failureType) ?? str(data.type) ?? str(data.errorType) ?? str(data.errorCode) ?? 'Unknown';
  const reason = str(data.errorMessage) ?? str(data.message) ?? str(data.reason) ?? '';
  return { eventId: e.id, uid, type: cleanText(type, 80), reason: cleanText(reason, 300) };
}

export interface JoinContext {
  sha256: string;
  salt?: string;
}

/** Collects the events of one ingest and turns them into rejected lines. */
export class RejectionJoin {
  private readonly byLine = new Map<number, RejectedLine>();
  /** Events on uids that are not derived ones: joined to lines by reading the file. */
  private readonly ownUidEvents = new Map<string, RejectionEvent[]>();
  private readonly seenEvents = new Set<string>();
  resendDuplicates = 0;
  untracked = 0;

  constructor(private readonly ctx: JoinContext) {}

  /** Adds one event; false when it is not about this ingest's rows or was already added. */
  add(e: RejectionEvent, hasOwnUids: boolean): boolean {
    if (this.seenEvents.has(e.eventId)) return false;
    const line = lineOfDerivedUid(e.uid, this.ctx.sha256, this.ctx.salt);
    if (line !== undefined) {
      this.seenEvents.add(e.eventId);
      // A derived uid is on one line only: a duplicate of it is this ingest's own resend.
      if (e.type === DUPLICATE_UID) this.resendDuplicates += 1;
      else this.reject({ line, uid: e.uid, type: e.type, reason: e.reason });
      return true;
    }
    if (!hasOwnUids || e.uid.startsWith('ig-')) return false;
    this.seenEvents.add(e.eventId);
    const list = this.ownUidEvents.get(e.uid) ?? [];
    list.push(e);
    this.ownUidEvents.set(e.uid, list);
    return true;
  }

  /** The own uids the events named, to look up in the file. */
  ownUidsToFind(): Set<string> {
    return new Set(this.ownUidEvents.keys());
  }

  /** Joins the own-uid events, given every line each of those uids is on (in file order). */
  resolveOwnUids(linesByUid: ReadonlyMap<string, number[]>): void {
    for (const [uid, events] of this.ownUidEvents) {
      const lines = linesByUid.get(uid) ?? [];
      for (const e of events) {
        if (lines.length === 0) {
          // Not in this file: another ingest's row with the same uid.
          continue;
        }
        if (e.type === DUPLICATE_UID) {
          // Every repeat of a uid the file holds more than once is rejected; a single one was resent.
          if (lines.length === 1) this.resendDuplicates += 1;
          for (const line of lines.slice(1)) this.reject({ line, uid, type: e.type, reason: e.reason });
        } else {
          this.reject({ line: lines[0], uid, type: e.type, reason: e.reason });
        }
      }
    }
    this.ownUidEvents.clear();
  }

  private reject(r: RejectedLine): void {
    if (this.byLine.has(r.line)) return;
    if (this.byLine.size >= MAX_TRACKED_REJECTIONS) {
      this.untracked += 1;
      return;
    }
    this.byLine.set(r.line, r);
  }

  isRejected(line: number): RejectedLine | undefined {
    return this.byLine.get(line);
  }

  get rejectedCount(): number {
    return this.byLine.size + this.untracked;
  }

  summary(rowsSent: number, maxListed: number, settledAt: string, reportFile?: string): IngestRejections {
    const byType: Record<string, number> = {};
    for (const r of this.byLine.values()) byType[r.type] = (byType[r.type] ?? 0) + 1;
    if (this.untracked > 0) byType.Untracked = this.untracked;
    const firstRejected = [...this.byLine.values()].sort((a, b) => a.line - b.line).slice(0, maxListed);
    return {
      accepted: Math.max(0, rowsSent - this.rejectedCount),
      rejected: this.rejectedCount,
      byType,
      firstRejected,
      resendDuplicates: this.resendDuplicates,
      ...(reportFile ? { reportFile } : {}),
      settledAt,
    };
  }
}

/** One CSV field, quoted when it has to be. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const REJECTED_CSV_HEADER = 'line,uid,type,reason,row';
