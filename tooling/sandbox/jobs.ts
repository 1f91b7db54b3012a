import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { iso, startOfUtcDay } from './clock';
import { badRequest, notFound, SandboxHttpError } from './errors';
import { emitEvent, JOB_FAILURE_CATEGORY, JOB_FAILURE_EVENT_NAME, jobFailureM3terEvent } from './events';
import { operationalFile, usageFile, type UsageRequest } from './exportContent';
import { addBufferFile, addGeneratedFile, presign } from './files';
import { paginate } from './pagination';
import { OPERATIONAL_DATA_TYPES, type OperationalDataType } from './seed';
import type { SandboxState } from './state';
import type { JobOutcome, JobRecord, JobStatus } from './types';
import { isoDateTime, parseOrThrow, parsePageSize, queryArray, querySingle, stringArray } from './validation';

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export const DOWNLOAD_WINDOW_MS = 24 * 3600 * 1000;
export const DEFAULT_JOB_PAGE_SIZE = 10;
export const ADHOC_ROUTE = 'POST /organizations/:orgId/dataexports/adhoc';

const MEASURE_FUNCTIONS = ['SUM', 'MIN', 'MAX', 'COUNT', 'LATEST', 'MEAN'];
const DIMENSION_FUNCTIONS = ['COUNT', 'UNIQUE'];

// ---- request schemas (docs/m3ter-api.md, Ad-hoc export request), independent of our client ----

const common = {
  destinationIds: stringArray.optional(),
  exportFileFormat: z.enum(['CSV', 'JSONL']).optional(),
  version: z.number().int().optional(),
};
const minString = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
  .min(1, 'must not be empty');
const operationalSchema = z.object({
  ...common,
  sourceType: z.literal('OPERATIONAL'),
  operationalDataTypes: z
    .array(z.enum(OPERATIONAL_DATA_TYPES, { error: `must be one of ${OPERATIONAL_DATA_TYPES.join(', ')}` }), {
      error: (i) => (i.input === undefined ? 'is required' : 'must be an array'),
    })
    .min(1, 'must contain at least one data type'),
  startDate: isoDateTime.optional(),
});
const aggregationSchema = z.object({
  meterId: minString,
  fieldCode: minString,
  fieldType: z.enum(['DIMENSION', 'MEASURE'], { error: 'must be DIMENSION or MEASURE' }),
  function: z.enum(['SUM', 'MIN', 'MAX', 'COUNT', 'LATEST', 'MEAN', 'UNIQUE'], {
    error: 'must be one of SUM, MIN, MAX, COUNT, LATEST, MEAN, UNIQUE',
  }),
});
const groupSchemas = {
  ACCOUNT: z.object({ groupType: z.literal('ACCOUNT') }),
  DIMENSION: z.object({ groupType: z.literal('DIMENSION'), meterId: minString, fieldCode: minString }),
  TIME: z.object({
    groupType: z.literal('TIME'),
    frequency: z.enum(['DAY', 'HOUR', 'WEEK', 'MONTH', 'QUARTER'], {
      error: 'must be one of DAY, HOUR, WEEK, MONTH, QUARTER',
    }),
  }),
};
const usageSchema = z.object({
  ...common,
  sourceType: z.literal('USAGE'),
  // The schema marks the dates optional; the operation's description requires both. We enforce the description
  // (docs/m3ter-api.md, Usage exports).
  startDate: isoDateTime,
  endDate: isoDateTime,
  meterIds: stringArray.optional(),
  accountIds: stringArray.optional(),
  dimensionFilters: z
    .array(
      z.object({
        meterId: minString,
        fieldCode: minString,
        values: z.array(z.string()).min(1, 'must contain at least one value'),
      }),
    )
    .optional(),
  aggregations: z.array(aggregationSchema).optional(),
  groups: z.array(z.unknown()).optional(),
});

export type AdhocRequest =
  | (z.infer<typeof operationalSchema> & { sourceType: 'OPERATIONAL' })
  | (UsageRequest & { sourceType: 'USAGE'; destinationIds?: string[] });

export function validateAdhoc(state: SandboxState, body: unknown): AdhocRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('body: must be a JSON object');
  const sourceType = (body as Record<string, unknown>).sourceType;
  if (sourceType === undefined) throw badRequest('sourceType: is required');
  if (sourceType === 'OPERATIONAL') return parseOrThrow(operationalSchema, body);
  if (sourceType !== 'USAGE') throw badRequest('sourceType: must be USAGE or OPERATIONAL');

  const req = parseOrThrow(usageSchema, body);
  const start = Date.parse(req.startDate);
  const end = Date.parse(req.endDate);
  if (!(end > start)) throw badRequest('endDate: must be after startDate');
  const latest = startOfUtcDay(state.clock.now()) + 86_400_000;
  if (end > latest) throw badRequest(`endDate: must be no later than tomorrow 00:00 UTC (${iso(latest)})`);
  req.aggregations?.forEach((a, i) => {
    const allowed = a.fieldType === 'MEASURE' ? MEASURE_FUNCTIONS : DIMENSION_FUNCTIONS;
    if (!allowed.includes(a.function))
      throw badRequest(
        `aggregations[${i}].function: ${a.function} is not allowed for a ${a.fieldType} field (allowed: ${allowed.join(', ')})`,
      );
  });
  const groups: NonNullable<UsageRequest['groups']> = [];
  if (req.groups?.length) {
    if (!req.aggregations?.length) throw badRequest('groups: grouping requires aggregations');
    req.groups.forEach((g, i) => {
      const type = (g as { groupType?: unknown } | null)?.groupType;
      if (type === undefined) throw badRequest(`groups[${i}].groupType: is required`);
      if (type !== 'ACCOUNT' && type !== 'DIMENSION' && type !== 'TIME')
        throw badRequest(`groups[${i}].groupType: must be ACCOUNT, DIMENSION or TIME`);
      groups.push(
        parseOrThrow<NonNullable<UsageRequest['groups']>[number]>(groupSchemas[type], g, ['groups', i]),
      );
    });
  }
  return { ...req, groups: req.groups ? groups : undefined } as AdhocRequest;
}

// ---- state machine: computed from timestamps on the sandbox clock, so clock jumps work ----

export function jobStatus(job: JobRecord, now: number): JobStatus {
  if (now < job.startAt) return 'PENDING';
  if (now < job.endAt) return 'RUNNING';
  return job.outcome;
}

export function createJob(state: SandboxState, req: AdhocRequest): JobRecord {
  const now = state.clock.now();
  const { pendingMs, runningSpreadMs = 0 } = state.config.jobTiming;
  const seq = state.nextSeq();
  // The golden ratio's fractional multiples fill [0, 1) evenly in any prefix of the sequence.
  const runningMs =
    state.config.jobTiming.runningMs + Math.round(runningSpreadMs * ((seq * 0.6180339887) % 1));
  // An export told to keep failing: its next jobs fail, then the configured outcome applies again.
  const failing = state.config.failJobs;
  const injected =
    failing && failing.remaining > 0 && (!failing.sourceType || failing.sourceType === req.sourceType);
  if (injected) {
    failing.remaining -= 1;
    if (failing.remaining === 0) state.config.failJobs = undefined;
  }
  const job: JobRecord = {
    id: state.newId(),
    seq,
    sourceType: req.sourceType,
    scheduleId: null,
    dateCreated: now,
    startAt: now + pendingMs,
    endAt: now + pendingMs + runningMs,
    outcome: injected ? 'FAILED' : state.config.nextJobOutcome,
    errorMessage: (injected && failing?.errorMessage) || 'Export job failed (sandbox-injected failure)',
    request: req as unknown as Record<string, unknown>,
    usageFileSizeBytes: req.sourceType === 'USAGE' ? state.config.usageFileSizeBytes : undefined,
    settled: false,
    fileIds: [],
  };
  state.jobs.set(job.id, job);
  state.jobDeadline = Math.min(state.jobDeadline, job.endAt);
  state.markDirty();
  return job;
}

/**
 * Produces the side effects of jobs that have reached their outcome: the file of a SUCCEEDED job,
 * the failure event of a FAILED one (event time = completion time). Runs before every request; the
 * cached next deadline keeps it O(1) when nothing is due.
 */
export function settleJobs(state: SandboxState): void {
  const now = state.clock.now();
  if (now < state.jobDeadline) return;
  let upcoming = Infinity;
  for (const job of state.jobs.values()) {
    if (job.settled) continue;
    if (job.endAt > now) {
      upcoming = Math.min(upcoming, job.endAt);
      continue;
    }
    settleJob(state, job);
  }
  state.jobDeadline = upcoming;
}

function settleJob(state: SandboxState, job: JobRecord): void {
  job.settled = true;
  if (job.outcome === 'FAILED') {
    emitEvent(state, {
      eventName: JOB_FAILURE_EVENT_NAME,
      category: JOB_FAILURE_CATEGORY,
      eventTime: job.endAt,
      m3terEvent: jobFailureM3terEvent(job, job.endAt),
      // ASSUMPTION (docs/m3ter-api.md, Assumptions): resourceId of a job failure event is the job id.
      resourceId: job.id,
    });
    return;
  }
  const deleteAt = job.endAt + DOWNLOAD_WINDOW_MS;
  if (job.sourceType === 'USAGE' && job.usageFileSizeBytes !== undefined) {
    const f = addGeneratedFile(state, {
      name: `${job.id}_measurements.csv`,
      contentType: 'text/csv; charset=utf-8',
      size: job.usageFileSizeBytes,
      seed: state.seed,
      deleteAt,
      jobId: job.id,
    });
    job.fileIds = [f.fileId];
  } else {
    const content =
      job.sourceType === 'USAGE'
        ? usageFile(state, job.id, job.request as unknown as UsageRequest)
        : operationalFile(
            state,
            job.id,
            job.request.operationalDataTypes as OperationalDataType[],
            job.request.startDate as string | undefined,
            job.request.exportFileFormat as 'CSV' | 'JSONL' | undefined,
          );
    const f = addBufferFile(state, { ...content, deleteAt, jobId: job.id });
    job.fileIds = [f.fileId];
  }
  state.markDirty();
}

/** Admin: force a state or retime one job. Re-bases the timeline so the job proceeds from now. */
export function forceJob(
  state: SandboxState,
  job: JobRecord,
  patch: { status?: JobStatus; pendingMs?: number; runningMs?: number; outcome?: JobOutcome; error?: string },
): void {
  if (job.settled && patch.status !== undefined && patch.status !== job.outcome) {
    throw badRequest(
      `status: job ${job.id} already completed as ${job.outcome}; it cannot change state again`,
    );
  }
  const now = state.clock.now();
  const pendingMs = patch.pendingMs ?? job.startAt - job.dateCreated;
  const runningMs = patch.runningMs ?? job.endAt - job.startAt;
  if (patch.outcome) job.outcome = patch.outcome;
  if (patch.error !== undefined) job.errorMessage = patch.error;
  switch (patch.status) {
    case 'PENDING':
      job.startAt = now + pendingMs;
      job.endAt = job.startAt + runningMs;
      break;
    case 'RUNNING':
      job.startAt = now;
      job.endAt = now + runningMs;
      break;
    case 'SUCCEEDED':
    case 'FAILED':
      job.outcome = patch.status;
      job.startAt = Math.min(job.startAt, now);
      job.endAt = now;
      break;
    case undefined:
      if (!job.settled && (patch.pendingMs !== undefined || patch.runningMs !== undefined)) {
        job.startAt = job.dateCreated + pendingMs;
        job.endAt = job.startAt + runningMs;
      }
  }
  // The timing changed, so the cached deadline must not skip this job.
  state.jobDeadline = -Infinity;
  state.markDirty();
}

export function renderJob(job: JobRecord, now: number): Record<string, unknown> {
  const status = jobStatus(job, now);
  return {
    id: job.id,
    version: 1,
    // scheduleId is only present for scheduled jobs (docs/m3ter-api.md, Export jobs).
    ...(job.scheduleId ? { scheduleId: job.scheduleId } : {}),
    dateCreated: iso(job.dateCreated),
    ...(status !== 'PENDING' ? { startedAt: iso(job.startAt) } : {}),
    sourceType: job.sourceType,
    status,
  };
}

/** Accepts `yyyy-MM-dd'T'HH:mm:ss'Z'` (the documented format) and full ISO date-times. */
function parseDateQuery(value: unknown, field: string): number | undefined {
  const raw = querySingle(value, field);
  if (raw === undefined) return undefined;
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/.test(raw);
  const ms = Date.parse(raw);
  if (!ok || Number.isNaN(ms)) throw badRequest(`${field}: must be a date-time like 2025-01-31T00:00:00Z`);
  return ms;
}

export function registerJobRoutes(app: FastifyInstance, state: SandboxState): void {
  const meta = { m3ter: { rateClass: 'config' as const, auth: true } };

  app.post('/organizations/:orgId/dataexports/adhoc', { config: meta }, async (request, reply) => {
    const req = validateAdhoc(state, request.body);
    // No idempotency key exists: every accepted POST is a new job (docs/m3ter-api.md, Ad-hoc export request).
    const job = createJob(state, req);
    if (state.faults.takeLoseResponseAfterCommit(ADHOC_ROUTE)) {
      // The job is committed, but the client never learns its id: the hardest case for a worker.
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    return { jobId: job.id };
  });

  app.get('/organizations/:orgId/dataexports/jobs', { config: meta }, async (request) => {
    const q = request.query as Record<string, unknown>;
    const pageSize = parsePageSize(q.pageSize, DEFAULT_JOB_PAGE_SIZE);
    const nextToken = querySingle(q.nextToken, 'nextToken');
    const ids = queryArray(q.ids);
    const scheduleId = querySingle(q.scheduleId, 'scheduleId');
    const status = querySingle(q.status, 'status');
    if (status !== undefined && !(JOB_STATUSES as readonly string[]).includes(status))
      throw badRequest(`status: must be one of ${JOB_STATUSES.join(', ')}`);
    const from = parseDateQuery(q.dateCreatedStart, 'dateCreatedStart');
    const to = parseDateQuery(q.dateCreatedEnd, 'dateCreatedEnd');
    const now = state.clock.now();
    const items = [...state.jobs.values()].filter(
      (j) =>
        (ids === undefined || ids.includes(j.id)) &&
        (scheduleId === undefined || j.scheduleId === scheduleId) &&
        (status === undefined || jobStatus(j, now) === status) &&
        (from === undefined || j.dateCreated >= from) &&
        (to === undefined || j.dateCreated < to),
    );
    const page = paginate(items, (j) => ({ t: j.dateCreated, s: j.seq }), pageSize, nextToken);
    return {
      data: page.data.map((j) => renderJob(j, now)),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  });

  app.get('/organizations/:orgId/dataexports/jobs/:id', { config: meta }, async (request) => {
    const { id } = request.params as { id: string };
    const job = state.jobs.get(id);
    if (!job) throw notFound(`Export job ${id} not found`);
    return renderJob(job, state.clock.now());
  });

  app.get(
    '/organizations/:orgId/dataexports/jobs/:jobId/getdownloadurl',
    { config: meta },
    async (request) => {
      const { jobId } = request.params as { jobId: string };
      const job = state.jobs.get(jobId);
      if (!job) throw notFound(`Export job ${jobId} not found`);
      const now = state.clock.now();
      const status = jobStatus(job, now);
      // ASSUMPTION (docs/m3ter-api.md, Assumptions): not SUCCEEDED → 400; completed more than 24 h ago → 404.
      if (status !== 'SUCCEEDED')
        throw badRequest(
          `jobId: export job ${jobId} is ${status}; a download URL exists only for SUCCEEDED jobs`,
        );
      if (now - job.endAt >= DOWNLOAD_WINDOW_MS)
        throw new SandboxHttpError(404, 'export file no longer available');
      settleJobs(state);
      const fileId = job.fileIds[0];
      if (!fileId) throw new SandboxHttpError(500, 'export file missing');
      return presign(state, fileId);
    },
  );
}
