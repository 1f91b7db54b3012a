import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerAdminRoutes } from './admin';
import { authenticate, registerAuthRoutes } from './auth';
import { registerDataExplorerRoutes } from './dataexplorer';
import { sendError, SandboxHttpError } from './errors';
import { registerEvaluateRoutes } from './evaluate';
import { registerEventRoutes } from './events';
import { registerFileRoutes } from './files';
import { registerJobRoutes, settleJobs } from './jobs';
import { MEASUREMENTS_ROUTE, registerMeasurementRoutes } from './measurements';
import type { SandboxState } from './state';

/** Generous global body limit; the ingest route has its own (it must answer 403 at 512,000 bytes). */
export const BODY_LIMIT = 1024 * 1024;

export interface BuildOptions {
  /** 'ingest' serves only `POST /organizations/:orgId/measurements` (the optional separate ingest port). */
  role: 'main' | 'ingest';
  logger: boolean;
}

export function routeKey(request: FastifyRequest): string | undefined {
  const url = request.routeOptions.url;
  return url === undefined ? undefined : `${request.method} ${url}`;
}

/** Counters, faults, rate limits and auth, in that order, for m3ter-like routes only. */
async function m3terGate(
  state: SandboxState,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const meta = request.routeOptions.config.m3ter;
  const key = routeKey(request);
  if (!meta || !key) return undefined;
  state.count(key);

  const fault = state.faults.decide(key);
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);
  if (fault.action === 'drop') {
    // No response at all: the client sees a reset/closed socket.
    reply.hijack();
    request.raw.socket.destroy();
    return reply;
  }
  if (fault.action === 'fail') {
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
    else if (fault.status === 429 || fault.status === 503) headers['Retry-After'] = '1';
    return sendError(
      reply,
      fault.status,
      `Sandbox injected fault (${fault.reason}): HTTP ${fault.status}`,
      headers,
    );
  }

  if (meta.rateClass) {
    const orgId = (request.params as { orgId?: string }).orgId ?? state.orgId;
    state.logRequest({ at: Date.now(), route: key, rateClass: meta.rateClass });
    const r = state.rateLimiter.take(orgId, meta.rateClass);
    if (!r.ok) {
      state.rateLimited++;
      // ASSUMPTION (docs/m3ter-api.md, Assumptions): m3ter does not document Retry-After; the sandbox
      // always sends it, in whole seconds.
      return sendError(
        reply,
        429,
        `Rate limit exceeded for the ${meta.rateClass} API; retry after ${r.retryAfterSeconds}s`,
        { 'Retry-After': String(r.retryAfterSeconds) },
      );
    }
  }
  if (meta.auth) authenticate(state, request);
  return undefined;
}

function installParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const buf = body as Buffer;
    // Kept for the ingest route's exact 512,000-byte rule (chunked bodies have no Content-Length).
    (request as FastifyRequest & { rawBodyLength?: number }).rawBodyLength = buf.length;
    if (buf.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(buf.toString('utf8')));
    } catch (err) {
      done(new SandboxHttpError(400, `Malformed JSON body: ${(err as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
}

function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | SandboxHttpError, request, reply) => {
    if (err instanceof SandboxHttpError) return sendError(reply, err.statusCode, err.message, err.headers);
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        // The ingest API answers an oversize payload with 403 (docs/m3ter-api.md, Rate limits); else 400.
        if (request.routeOptions.url === MEASUREMENTS_ROUTE)
          return sendError(
            reply,
            403,
            'Request payload exceeds the limit: it must be less than 512000 bytes',
          );
        return sendError(reply, 400, 'Request body is too large');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(
          reply,
          400,
          `Unsupported Content-Type: ${request.headers['content-type'] ?? '(none)'}; use application/json`,
        );
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 400, err.message);
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, status, err.message);
    request.log.error({ err }, 'sandbox handler failed');
    return sendError(reply, 500, `Internal sandbox error: ${err.message}`);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, `No such route: ${request.method} ${request.url.split('?')[0]}`),
  );
}

export function buildApp(state: SandboxState, opts: BuildOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger,
    bodyLimit: BODY_LIMIT,
    // close() must not wait for keep-alive sockets or a half-read 1 GiB download.
    forceCloseConnections: true,
    // Presigned URLs and ids are long; keep the defaults generous.
    routerOptions: { maxParamLength: 500 },
  });
  installParsers(app);
  installErrorHandling(app);
  app.addHook('onRequest', async (request, reply) => {
    // Job outcomes are computed lazily from the clock; produce their files/events before anyone looks.
    settleJobs(state);
    return m3terGate(state, request, reply);
  });

  if (opts.role === 'ingest') {
    registerMeasurementRoutes(app, state);
    return app;
  }
  registerAuthRoutes(app, state);
  registerMeasurementRoutes(app, state);
  registerJobRoutes(app, state);
  registerEventRoutes(app, state);
  registerDataExplorerRoutes(app, state);
  registerEvaluateRoutes(app, state);
  registerFileRoutes(app, state);
  registerAdminRoutes(app, state);
  return app;
}
