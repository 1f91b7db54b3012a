import type { FastifyReply } from 'fastify';

/**
 * m3ter answers every 4xx/5xx with `{"message": "..."}` and nothing else (docs/m3ter-api.md, Error
 * body). Handlers throw this error and the server's error handler renders it in that shape.
 */
export class SandboxHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SandboxHttpError';
  }
}

export const badRequest = (message: string): SandboxHttpError => new SandboxHttpError(400, message);
export const notFound = (message: string): SandboxHttpError => new SandboxHttpError(404, message);

export function sendError(
  reply: FastifyReply,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): FastifyReply {
  for (const [k, v] of Object.entries(headers)) void reply.header(k, v);
  return reply.code(status).type('application/json').send({ message });
}
