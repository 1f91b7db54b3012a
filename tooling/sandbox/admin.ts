import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { iso } from './clock';
import { notFound } from './errors';
import { renderEvent } from './events';
import { registerFailureInjectionRoute } from './failure-injection';
import { faultPatchSchema } from './faults';
import { fileSha256, fileSize } from './files';
import { forceJob, jobStatus, settleJobs } from './jobs';
import { seedMeasurements } from './measurements';
import type { SandboxState } from './state';
import type { JobRecord } from './types';
import { parseOrThrow } from './validation';

/**
 * The admin API under `/_sandbox/`: no auth, not counted, not faulted, not rate limited. It is how
 * tests, the demo and benchmarks steer the sandbox; nothing like it exists on m3ter.
 */
const rateSpec = z.object({ ratePerSec: z.number().positive(), burst: z.number().int().min(1) });
const timing = z.object({
  pendingMs: z.number().int().min(0),
  runningMs: z.number().int().min(0),
  runningSpreadMs: z.number().int().min(0).optional(),
});
const configSchema = z.object({
  tokenLifetimeSeconds: z.number().int().min(1).optional(),
  downloadUrlTtlSeconds: z.number().int().min(1).optional(),
  jobTiming: timing.optional(),
  nextJobOutcome: z.enum(['SUCCEEDED', 'FAILED']).optional(),
  usageFileSizeBytes: z.number().int().min(0).nullable().optional(),
  hostileDownloadUrl: z.string().min(1).nullable().optional(),
  ingestMeters: z
    .record(z.string().min(1), z.object({ required: z.array(z.string().min(1)) }))
    .nullable()
    .optional(),
  failJobs: z
    .object({
      count: z.number().int().min(0).max(100_000),
      sourceType: z.enum(['USAGE', 'OPERATIONAL']).optional(),
      errorMessage: z.string().min(1).max(2000).optional(),
    })
    .optional(),
  rateLimits: z
    .object({ config: rateSpec.optional(), dataExplorer: rateSpec.optional(), ingest: rateSpec.optional() })
    .optional(),
});
const jobPatchSchema = z.object({
  status: z.enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED']).optional(),
  pendingMs: z.number().int().min(0).optional(),
  runningMs: z.number().int().min(0).optional(),
  outcome: z.enum(['SUCCEEDED', 'FAILED']).optional(),
  error: z.string().optional(),
});
const clockSchema = z.object({ advanceMs: z.number().int().min(0) });

function adminJob(state: SandboxState, job: JobRecord): Record<string, unknown> {
  const now = state.clock.now();
  const status = jobStatus(job, now);
  return {
    id: job.id,
    status,
    sourceType: job.sourceType,
    scheduleId: job.scheduleId,
    dateCreated: iso(job.dateCreated),
    startedAt: status === 'PENDING' ? null : iso(job.startAt),
    runningAt: iso(job.startAt),
    completesAt: iso(job.endAt),
    completedAt: status === 'SUCCEEDED' || status === 'FAILED' ? iso(job.endAt) : null,
    pendingMs: job.startAt - job.dateCreated,
    runningMs: job.endAt - job.startAt,
    outcome: job.outcome,
    errorMessage: job.errorMessage,
    request: job.request,
    usageFileSizeBytes: job.usageFileSizeBytes ?? null,
    fileIds: job.fileIds,
  };
}

async function adminJobWithFiles(state: SandboxState, job: JobRecord): Promise<Record<string, unknown>> {
  const files = [];
  for (const id of job.fileIds) {
    const f = state.files.get(id);
    if (f)
      files.push({
        fileId: f.fileId,
        name: f.name,
        bytes: fileSize(f),
        sha256: await fileSha256(f),
        contentType: f.contentType,
      });
  }
  return { ...adminJob(state, job), files };
}

export function registerAdminRoutes(app: FastifyInstance, state: SandboxState): void {
  app.post('/_sandbox/reset', async () => {
    state.reset();
    return { ok: true };
  });

  app.get('/_sandbox/counters', async () => {
    const routes = Object.fromEntries([...state.counters.entries()].sort(([a], [b]) => a.localeCompare(b)));
    const total = [...state.counters.values()].reduce((a, b) => a + b, 0);
    return { total, routes, fileBytesServed: state.fileBytesServed, rateLimited: state.rateLimited };
  });

  // Arrival times of rate-limited requests (optionally of one class, from `since` epoch ms on).
  app.get('/_sandbox/requests', async (request) => {
    const q = request.query as { rateClass?: string; since?: string };
    const since = q.since === undefined ? 0 : Number(q.since);
    const data = state.requestLog.filter(
      (e) => (q.rateClass === undefined || e.rateClass === q.rateClass) && e.at >= since,
    );
    return { data, rateLimited: state.rateLimited };
  });

  app.post('/_sandbox/faults', async (request) => {
    const patch = parseOrThrow(faultPatchSchema, request.body ?? {});
    const merged = state.faults.merge(patch);
    return { route: patch.route ?? '*', config: merged, faults: state.faults.snapshot() };
  });

  app.delete('/_sandbox/faults', async () => {
    state.faults.clear();
    return { ok: true };
  });

  app.post('/_sandbox/config', async (request) => {
    const patch = parseOrThrow(configSchema, request.body ?? {});
    const c = state.config;
    if (patch.tokenLifetimeSeconds !== undefined) c.tokenLifetimeSeconds = patch.tokenLifetimeSeconds;
    if (patch.downloadUrlTtlSeconds !== undefined) c.downloadUrlTtlSeconds = patch.downloadUrlTtlSeconds;
    if (patch.jobTiming) c.jobTiming = patch.jobTiming;
    if (patch.nextJobOutcome) c.nextJobOutcome = patch.nextJobOutcome;
    if (patch.failJobs) {
      const { count, ...rest } = patch.failJobs;
      c.failJobs = count > 0 ? { remaining: count, ...rest } : undefined;
    }
    // null switches generated big files off again.
    if (patch.usageFileSizeBytes !== undefined) c.usageFileSizeBytes = patch.usageFileSizeBytes ?? undefined;
    if (patch.hostileDownloadUrl !== undefined) c.hostileDownloadUrl = patch.hostileDownloadUrl ?? undefined;
    // null switches ingest validation off again (every meter known).
    if (patch.ingestMeters !== undefined) c.ingestMeters = patch.ingestMeters ?? undefined;
    if (patch.rateLimits) {
      c.rateLimits = { ...c.rateLimits, ...patch.rateLimits } as typeof c.rateLimits;
      state.rateLimiter.setLimits(c.rateLimits);
    }
    return { config: c };
  });

  app.get('/_sandbox/jobs', async () => {
    settleJobs(state);
    const jobs = [...state.jobs.values()].sort((a, b) => b.seq - a.seq);
    return { data: jobs.map((j) => adminJob(state, j)) };
  });

  app.get('/_sandbox/jobs/:id', async (request) => {
    const { id } = request.params as { id: string };
    const job = state.jobs.get(id);
    if (!job) throw notFound(`Export job ${id} not found`);
    return adminJobWithFiles(state, job);
  });

  app.post('/_sandbox/jobs/:id', async (request) => {
    const { id } = request.params as { id: string };
    const job = state.jobs.get(id);
    if (!job) throw notFound(`Export job ${id} not found`);
    forceJob(state, job, parseOrThrow(jobPatchSchema, request.body ?? {}));
    settleJobs(state);
    return adminJobWithFiles(state, job);
  });

  app.get('/_sandbox/clock', async () => ({ now: iso(state.clock.now()), offsetMs: state.clock.offset }));

  app.post('/_sandbox/clock', async (request) => {
    const { advanceMs } = parseOrThrow(clockSchema, request.body ?? {});
    state.clock.advance(advanceMs);
    state.markDirty();
    settleJobs(state);
    return { now: iso(state.clock.now()), offsetMs: state.clock.offset };
  });

  app.post('/_sandbox/events/:id/action', async (request) => {
    const { id } = request.params as { id: string };
    const event = state.events.get(id);
    if (!event) throw notFound(`Event ${id} not found`);
    if (event.dtActioned === null) event.dtActioned = state.clock.now();
    state.markDirty();
    return renderEvent(event);
  });

  app.post('/_sandbox/measurements/seed', async (request) => seedMeasurements(state, request.body));

  // `uidPrefix` counts the stored measurements whose uid starts with it (one ingest's derived uids).
  app.get('/_sandbox/measurements', async (request) => {
    const prefix = (request.query as { uidPrefix?: string }).uidPrefix;
    return {
      count: state.measurements.length,
      duplicatesReceived: state.duplicatesReceived,
      ...(prefix !== undefined
        ? { matching: [...state.uids.keys()].filter((u) => u.startsWith(prefix)).length }
        : {}),
    };
  });

  registerFailureInjectionRoute(app, state);
}
