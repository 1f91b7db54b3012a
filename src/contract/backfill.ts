// The contract of backfillWorkflow: its input schema (shared by the workflow's first step and the CLI), the
// progress query and the summary it returns. Pure and deterministic (zod only), so the workflow bundle and
// the activities can both import it. The schema is a builder for the reason given in ./inputs.ts: this
// module is evaluated again for every workflow run.
import { z } from 'zod';
import { defineQuery } from '@temporalio/workflow';
import {
  EXPORT_KINDS,
  EXPORT_NAME_PATTERN,
  EXPORT_NAME_RULE,
  ISO_INSTANT_PATTERN,
  ISO_INSTANT_RULE,
  REPROCESS_VALUES,
  STORAGE_MODES,
  type Reprocess,
  WINDOW_UNITS,
} from './vocabulary';
import type { FailureType } from './failures';
import { pollOptionsSchema } from './inputs';
import { alertRoutingSchema } from './alert-routing';

export { Reprocess, REPROCESS_VALUES } from './vocabulary';

export const DEFAULT_BACKFILL_CONCURRENCY = 4;
/**
 * The most window exports one backfill runs at once. Each in-flight window holds an ExportJob on m3ter and
 * a share of the worker's m3ter request pacing; the cap keeps a backfill from crowding out scheduled exports
 * on the same worker and org.
 */
export const MAX_BACKFILL_CONCURRENCY = 50;
/**
 * Windows one run of the backfill handles before it continues as new. Each window adds a handful of
 * events to the parent (child initiated, started, completed, workflow tasks), so the default keeps a run's
 * history well below the server's history-size warnings, whatever the range.
 */
export const DEFAULT_CONTINUE_AS_NEW_AFTER = 500;
export const MAX_CONTINUE_AS_NEW_AFTER = 2000;
/** Windows planned per planning activity (one visibility query each). */
export const DEFAULT_PAGE_SIZE = 100;
/** Failed windows listed by name in the summary; beyond that they are only counted. */
export const MAX_LISTED_FAILURES = 500;

const instant = () =>
  z
    .string()
    .regex(ISO_INSTANT_PATTERN, { error: ISO_INSTANT_RULE })
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'must be a valid instant' });

const backfillDefinitionSchema = () =>
  z.object({
    name: z.string().regex(EXPORT_NAME_PATTERN, { error: EXPORT_NAME_RULE }),
    kind: z.enum(EXPORT_KINDS),
    request: z.record(z.string(), z.unknown()),
    window: z.enum(WINDOW_UNITS, {
      error: 'must be hour, day, week or month (a snapshot export has no range to backfill)',
    }),
    timezone: z.string().min(1),
    storage: z.enum(STORAGE_MODES),
    alerting: alertRoutingSchema().optional(),
  });

export interface BackfillTotals {
  /** Exported by this backfill and succeeded. */
  succeeded: number;
  /** Another run (the schedule, another backfill) was exporting the window; it succeeded. */
  awaited: number;
  /** Not run: already exported, or failed with `reprocess: none`. */
  skipped: number;
  failed: number;
  /** In flight when the backfill was cancelled. */
  cancelled: number;
}

export interface FailedWindow {
  workflowId: string;
  windowStart: string;
  type: FailureType;
  message: string;
}

/** What a run hands to the next when it continues as new. */
export interface BackfillCarry {
  /** The last window start handled (in the backfill's order). */
  cursor: string;
  total: number;
  totals: BackfillTotals;
  failedWindows: FailedWindow[];
  /** Failed windows beyond MAX_LISTED_FAILURES. */
  failedUnlisted: number;
  /** Windows that ran (not skipped), for the rate. */
  ran: number;
  startedAt: string;
  /** Runs before this one. */
  runs: number;
}

const count = () => z.number().int().min(0);
const totalsSchema = () =>
  z.object({ succeeded: count(), awaited: count(), skipped: count(), failed: count(), cancelled: count() });
const carrySchema = () =>
  z.object({
    cursor: z.string(),
    total: count(),
    totals: totalsSchema(),
    failedWindows: z.array(
      z.object({ workflowId: z.string(), windowStart: z.string(), type: z.string(), message: z.string() }),
    ),
    failedUnlisted: count(),
    ran: count(),
    startedAt: z.string(),
    runs: count(),
  });

export const createBackfillInputSchema = () =>
  z
    .strictObject({
      /** The windowed part of an export definition (name, kind, request, window, timezone, storage). */
      definition: backfillDefinitionSchema(),
      /** Windows whose start is in [from, to); `from` is floored to the start of its window. */
      from: instant(),
      to: instant(),
      /** Window exports in flight at once. Default 4. */
      concurrency: z.number().int().min(1).max(MAX_BACKFILL_CONCURRENCY).optional(),
      /** Default `failed`. */
      reprocess: z.enum(REPROCESS_VALUES).optional(),
      /** Newest window first (default oldest first). */
      newestFirst: z.boolean().optional(),
      /** Windows per run before continuing as new. Default 500. */
      continueAsNewAfter: z.number().int().min(1).max(MAX_CONTINUE_AS_NEW_AFTER).optional(),
      /** Windows planned per planning activity. Default 100. */
      pageSize: z.number().int().min(1).max(1000).optional(),
      /** Passed to every window's export (tests shorten the polling). */
      poll: pollOptionsSchema().optional(),
      /** Set by the backfill itself when it continues as new. */
      carried: carrySchema().optional(),
    })
    .refine((v) => Date.parse(v.from) < Date.parse(v.to), { path: ['to'], error: 'must be after from' });

export type BackfillInput = Omit<z.input<ReturnType<typeof createBackfillInputSchema>>, 'carried'> & {
  carried?: BackfillCarry;
};

export type BackfillState = 'running' | 'completed' | 'cancelled';

export interface BackfillProgress {
  name: string;
  from: string;
  to: string;
  reprocess: Reprocess;
  concurrency: number;
  state: BackfillState;
  /** Windows in the range, once the first page is planned. */
  total?: number;
  /** Windows handled so far (every outcome). */
  done: number;
  totals: BackfillTotals;
  /** Window ids being exported (or awaited) right now. */
  inFlight: string[];
  /** Windows that ran (skips excluded) per minute since the backfill started. */
  ratePerMinute?: number;
  /** Seconds left at that rate for the windows not handled yet. */
  etaSeconds?: number;
  startedAt: string;
  /** The workflow's clock at its last step: the moment this snapshot describes. */
  asOf: string;
  /** This run's number (1 for the first; each continue-as-new adds one). */
  run: number;
  failedWindows: FailedWindow[];
  failedUnlisted: number;
  /** Windows whose export was cancelled with the backfill (their ExportJobs were left to m3ter). */
  cancelledWindows: string[];
}

/** The backfill's result: the progress at the end. */
export type BackfillSummary = BackfillProgress;

export const backfillProgressQuery = defineQuery<BackfillProgress>('progress');

export function emptyTotals(): BackfillTotals {
  return { succeeded: 0, awaited: 0, skipped: 0, failed: 0, cancelled: 0 };
}

export function doneCount(t: BackfillTotals): number {
  return t.succeeded + t.awaited + t.skipped + t.failed + t.cancelled;
}
