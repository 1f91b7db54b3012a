// The input contract of the export workflows: one zod schema builder per workflow input, built on the same
// request schema builders the m3ter client's schemas come from (src/m3ter/export-request-schemas.ts). The
// CLI validates with these before it starts anything, and each workflow validates its own input with the
// same schema as its first step (a workflow may also be started from the Temporal UI or a script).
//
// Builders, not schemas: this module is evaluated again for every workflow run, so a schema built at module
// load would stay in the heap of every cached run. A workflow builds its schema in the validation call and
// drops it once the input is parsed.
//
// zod is pure and deterministic, so it is bundled with the workflows. The one time-dependent rule (a usage
// export may end at most tomorrow 00:00 UTC) reads the clock it is given: `Date.now()` inside a workflow is
// the workflow task's time, recorded in history and identical on replay.
import { z } from 'zod';
import { EXPORT_NAME_PATTERN, EXPORT_NAME_RULE, StorageMode } from './vocabulary';
import { createAdhocExportRequestSchema, createBillsCsvRequestSchema } from '../m3ter/export-request-schemas';
import { ruleMessage, toIssues } from '../m3ter/validation';
import { failure, FailureType } from './failures';
import { alertRoutingSchema } from './alert-routing';

export { StorageMode } from './vocabulary';

export const MIN_DEADLINE_MS = 10_000;
export const DEFAULT_DEADLINE_MS = 24 * 60 * 60 * 1000;

const positive = () => z.number().positive();

/** Tuning of the wait's polling (see activities/wait.ts); every field has a production default. */
export const pollOptionsSchema = () =>
  z.strictObject({
    /** Time between the starts of two polls. Default 1 s (reads are batched and paced per worker). */
    fastPollMs: positive().optional(),
    /** How long polls stay `fastPollMs` apart before the interval grows. Default: the whole wait. */
    fastPhaseMs: positive().optional(),
    /** Cap of the growing interval after the fast phase. Default 20 s. */
    mediumMaxPollMs: positive().optional(),
    /**
     * How long a wait attempt polls before handing over to the retry policy, one poll per retry (the tiered
     * strategy). Default: unset, each attempt polls until the job ends.
     */
    inActivityPhaseMs: positive().optional(),
    /** The wait's retry interval. Default 10 s; 60 s when `inActivityPhaseMs` is set (it is the slow poller). */
    slowPollMs: positive().optional(),
  });
export type PollOptions = z.infer<ReturnType<typeof pollOptionsSchema>>;

const exportName = () => z.string().regex(EXPORT_NAME_PATTERN, { error: EXPORT_NAME_RULE });

export function createAdhocExportInputSchema(now: () => number = Date.now) {
  return z.strictObject({
    request: createAdhocExportRequestSchema(now),
    /** Default `local`. */
    storage: z.enum([StorageMode.local, StorageMode.none, StorageMode.s3]).optional(),
    /** Operator-facing name (also part of the workflow id chosen by the CLI). */
    name: exportName().optional(),
    /** Overall deadline for the job to finish, from the start of the wait. Default 24 h. */
    deadlineMs: z.number().min(MIN_DEADLINE_MS).optional(),
    poll: pollOptionsSchema().optional(),
    /** Where its alerts go: its definition's channels as written (absent: the worker's default routing). */
    alerting: alertRoutingSchema().optional(),
  });
}
export type AdhocExportInput = z.infer<ReturnType<typeof createAdhocExportInputSchema>>;

export const createBillsCsvExportInputSchema = () =>
  z.strictObject({
    request: createBillsCsvRequestSchema(),
    /** Default `local`. No `none`: the bill CSV's URL has no job to come back to, so it always downloads. */
    storage: z.enum([StorageMode.local, StorageMode.s3]).optional(),
    name: exportName().optional(),
  });
export type BillsCsvExportInput = z.infer<ReturnType<typeof createBillsCsvExportInputSchema>>;

/** `field: rule` lines for every problem, or the parsed value. Shared by the CLI and the workflows. */
export function checkInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { ok: true; value: z.output<S> } | { ok: false; problems: string[] } {
  const r = schema.safeParse(input, { error: ruleMessage });
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, problems: toIssues(r.error).map((i) => `${i.path || '(input)'}: ${i.message}`) };
}

/** The workflows' first step: the input, parsed, or a non-retryable InvalidExportRequest naming every problem. */
export function parseWorkflowInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = checkInput(schema, input);
  if (r.ok) return r.value;
  throw failure(FailureType.InvalidExportRequest, r.problems.join('; '), {
    details: { problems: r.problems },
  });
}
