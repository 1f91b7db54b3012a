import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { iso } from './clock';
import { SandboxHttpError } from './errors';
import { generatedSha256, generatedStream } from './generated';
import type { SandboxState } from './state';
import type { BufferFile, FileEntry, GeneratedFile } from './types';

/**
 * Export files behind presigned-style URLs: `${baseUrl}/files/<fileId>?expires=<epochSec>&sig=<hmac>`.
 * Like an S3 presigned URL, the signature covers the file and the expiry; a tampered or expired URL
 * gets 403. Files disappear 24 h after their job completed.
 */
export function addBufferFile(
  state: SandboxState,
  f: Omit<BufferFile, 'kind' | 'sha256' | 'fileId' | 'createdAt'>,
): BufferFile {
  const entry: BufferFile = {
    ...f,
    kind: 'buffer',
    fileId: state.newId(),
    createdAt: state.clock.now(),
    sha256: createHash('sha256').update(f.data).digest('hex'),
  };
  state.files.set(entry.fileId, entry);
  state.markDirty();
  return entry;
}

export function addGeneratedFile(
  state: SandboxState,
  f: Omit<GeneratedFile, 'kind' | 'fileId' | 'createdAt'>,
): GeneratedFile {
  const entry: GeneratedFile = {
    ...f,
    kind: 'generated',
    fileId: state.newId(),
    createdAt: state.clock.now(),
  };
  state.files.set(entry.fileId, entry);
  state.markDirty();
  return entry;
}

export function fileSize(f: FileEntry): number {
  return f.kind === 'buffer' ? f.data.length : f.size;
}

export async function fileSha256(f: FileEntry): Promise<string> {
  return f.kind === 'buffer' ? f.sha256 : generatedSha256(f.seed, f.size);
}

function signature(state: SandboxState, fileId: string, expires: number): string {
  return createHmac('sha256', state.urlKey).update(`${fileId}\n${expires}`).digest('hex');
}

export function presign(state: SandboxState, fileId: string): { url: string; expirationTime: string } {
  const expiresMs = state.clock.now() + state.config.downloadUrlTtlSeconds * 1000;
  const expires = Math.floor(expiresMs / 1000);
  const url = `${state.baseUrl}/files/${encodeURIComponent(fileId)}?expires=${expires}&sig=${signature(state, fileId, expires)}`;
  return { url: state.config.hostileDownloadUrl ?? url, expirationTime: iso(expires * 1000) };
}

/** Parses a single `bytes=` range. Returns null for "serve the whole file", 'unsatisfiable' for 416. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multi-range or malformed Range headers are ignored (RFC 9110 allows serving the full file).
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

export function registerFileRoutes(app: FastifyInstance, state: SandboxState): void {
  app.get(
    '/files/:fileId',
    { config: { m3ter: { rateClass: null, auth: false } } },
    async (request, reply) => {
      const { fileId } = request.params as { fileId: string };
      const q = request.query as { expires?: string; sig?: string };
      if (typeof q.expires !== 'string' || typeof q.sig !== 'string' || !/^\d+$/.test(q.expires)) {
        throw new SandboxHttpError(403, 'Request is not signed: expires and sig are required');
      }
      const expected = Buffer.from(signature(state, fileId, Number(q.expires)));
      const given = Buffer.from(q.sig);
      if (expected.length !== given.length || !timingSafeEqual(expected, given))
        throw new SandboxHttpError(403, 'The request signature does not match');
      if (Number(q.expires) * 1000 <= state.clock.now())
        throw new SandboxHttpError(403, 'Request has expired');
      const file = state.files.get(fileId);
      if (!file || (file.deleteAt !== undefined && file.deleteAt <= state.clock.now()))
        throw new SandboxHttpError(404, 'export file no longer available');

      const size = fileSize(file);
      void reply
        .header('Accept-Ranges', 'bytes')
        .header('Content-Type', file.contentType)
        .header('Content-Disposition', `attachment; filename="${file.name}"`);
      const range = parseRange(request.headers.range, size);
      if (range === 'unsatisfiable') {
        return reply
          .code(416)
          .header('Content-Range', `bytes */${size}`)
          .type('application/json')
          .send({ message: `Range not satisfiable for a file of ${size} bytes` });
      }
      const start = range ? range.start : 0;
      const end = range ? range.end : size - 1;
      if (range) void reply.code(206).header('Content-Range', `bytes ${start}-${end}/${size}`);
      void reply.header('Content-Length', String(end - start + 1));
      if (size === 0) return reply.send(Buffer.alloc(0));
      const body =
        file.kind === 'buffer'
          ? Readable.from([file.data.subarray(start, end + 1)])
          : generatedStream(file.seed, file.size, start, end);
      const cut = state.faults.takeCutStream(FILE_ROUTE);
      return reply.send(
        countServed(
          state,
          cut ? cutAfter(body, cut.afterBytes, () => state.clock.advance(cut.advanceClockMs ?? 0)) : body,
        ),
      );
    },
  );
}

export const FILE_ROUTE = 'GET /files/:fileId';

/** Adds every body byte passed on towards the socket to `state.fileBytesServed`. */
function countServed(state: SandboxState, source: Readable): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      state.fileBytesServed += chunk.length;
      done(null, chunk);
    },
  });
  // pipeline, not pipe: a client that goes away must also stop the generator behind the body.
  return pipeline(source, counter, () => undefined);
}

/** Passes `limit` bytes through, then fails the stream: fastify destroys the socket mid-body. */
function cutAfter(source: Readable, limit: number, onCut: () => void): Readable {
  let sent = 0;
  const cutter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const room = limit - sent;
      if (room > 0) this.push(chunk.subarray(0, room));
      sent += Math.min(room, chunk.length);
      if (sent >= limit) {
        onCut();
        source.unpipe(cutter);
        source.destroy();
        // Let the bytes already pushed reach the socket before the connection is torn down.
        setTimeout(() => cutter.destroy(new Error('sandbox fault: connection cut mid-file')), 50);
        return done();
      }
      done();
    },
  });
  return source.pipe(cutter);
}
