import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { badRequest, notFound } from './errors';
import { purgeOldEvents, sampleEventData } from './events';
import { checkCalculation } from './expression';
import type { SandboxState } from './state';
import { parseOrThrow } from './validation';

const bodySchema = z.object({
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): m3ter's specification does not mark calculation
  // required, but there is nothing to evaluate without one.
  calculation: z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }),
  eventId: z.string().optional(),
  eventName: z.string().optional(),
});

/** `POST /notifications/evaluate` (docs/m3ter-api.md, Notification calculations). eventName wins. */
export function registerEvaluateRoutes(app: FastifyInstance, state: SandboxState): void {
  app.post(
    '/organizations/:orgId/notifications/evaluate',
    { config: { m3ter: { rateClass: 'config', auth: true } } },
    async (request) => {
      const body = request.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw badRequest('body: must be a JSON object');
      const req = parseOrThrow(bodySchema, body);
      let data: Record<string, unknown>;
      if (req.eventName !== undefined) {
        const sample = sampleEventData(req.eventName);
        if (!sample) return { success: false, errorMessage: `Unknown event name '${req.eventName}'` };
        data = sample;
      } else if (req.eventId !== undefined) {
        purgeOldEvents(state);
        const event = state.events.get(req.eventId);
        if (!event) throw notFound(`Event ${req.eventId} not found`);
        data = ((event.m3terEvent as { eventData?: Record<string, unknown> }).eventData ?? {}) as Record<
          string,
          unknown
        >;
      } else {
        throw badRequest('eventId: eventId or eventName is required');
      }
      return checkCalculation(req.calculation, data);
    },
  );
}
