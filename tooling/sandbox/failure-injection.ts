// Admin call: DataExportJobFailure events for ExportJobs no workflow started (as m3ter's own export
// schedules or a console export would produce), with the same payload the sandbox gives the jobs it
// fails. `count` events share one call so tests can span several pages of `GET /events`.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  emitEvent,
  JOB_FAILURE_CATEGORY,
  JOB_FAILURE_EVENT_NAME,
  jobFailureM3terEvent,
  renderEvent,
} from './events';
import type { SandboxState } from './state';
import { parseOrThrow } from './validation';

const injectSchema = z.object({
  count: z.number().int().min(1).max(5000).default(1),
  /** Only with count 1: the failed job's id (default: a new id). */
  jobId: z.string().min(1).optional(),
  scheduleId: z.string().min(1).nullable().optional(),
  sourceType: z.enum(['USAGE', 'OPERATIONAL']).default('USAGE'),
  errorMessage: z.string().default('export job failed (injected)'),
  /** Leave the job id out of the payload entirely (an event the monitor cannot join). */
  withoutJobId: z.boolean().default(false),
});

export function registerFailureInjectionRoute(app: FastifyInstance, state: SandboxState): void {
  app.post('/_sandbox/events/job-failures', async (request) => {
    const body = parseOrThrow(injectSchema, request.body ?? {});
    const now = state.clock.now();
    const created = [];
    for (let i = 0; i < body.count; i++) {
      const id = body.count === 1 && body.jobId ? body.jobId : state.newId();
      const m3terEvent = jobFailureM3terEvent(
        {
          id,
          scheduleId: body.scheduleId ?? null,
          sourceType: body.sourceType,
          errorMessage: body.errorMessage,
        },
        now,
      );
      if (body.withoutJobId) delete (m3terEvent.eventData as Record<string, unknown>).jobId;
      created.push(
        emitEvent(state, {
          eventName: JOB_FAILURE_EVENT_NAME,
          category: JOB_FAILURE_CATEGORY,
          eventTime: now,
          m3terEvent,
          ...(body.withoutJobId ? {} : { resourceId: id }),
        }),
      );
    }
    return { data: created.map(renderEvent) };
  });
}
