// A tiny real HTTP file server for the download tests: presigned-style URLs that can expire mid-stream,
// Range support (or deliberately ignored), a streaming mode for large files, no announced size, and a
// trickle.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServerOptions {
  /** Bytes served; or a size for generated (streamed, pseudo-random) content. */
  data?: Buffer;
  generatedSize?: number;
  fileName?: string;
  contentType?: string;
  ignoreRange?: boolean;
  /** No Content-Length (chunked transfer encoding): the size is known only at the end. */
  chunked?: boolean;
  /** Sends `bytes` bytes every `everyMs`, connection open: a server that trickles. */
  trickle?: { bytes: number; everyMs: number };
}

export interface FileServer {
  baseUrl: string;
  /** A new valid URL (what getdownloadurl would return). */
  issueUrl(): string;
  /** The next request on `url` sends `bytes` bytes, then the connection drops and the URL is dead (403). */
  expireAfter(bytes: number): void;
  requests: Array<{ sig: string; range?: string; status: number }>;
  close(): Promise<void>;
}

// Pseudo-random content repeating every 1 MiB (+13 so chunk boundaries do not line up with it); served
// as slices of a doubled buffer so a 256 MiB file costs no CPU to generate.
const PATTERN_SIZE = 1024 * 1024 + 13;
const doubled = (() => {
  const b = Buffer.allocUnsafe(2 * PATTERN_SIZE);
  for (let i = 0; i < PATTERN_SIZE; i++) b[i] = (i * 2654435761) >>> 24;
  b.copy(b, PATTERN_SIZE, 0, PATTERN_SIZE);
  return b;
})();

/** `length` must be at most 1 MiB. */
export function generatedChunk(offset: number, length: number): Buffer {
  const p = offset % PATTERN_SIZE;
  return doubled.subarray(p, p + length);
}

export async function startFileServer(opts: FileServerOptions): Promise<FileServer> {
  const size = opts.data ? opts.data.length : (opts.generatedSize ?? 0);
  const valid = new Set<string>();
  let nextSig = 1;
  let expireAfterBytes: number | undefined;
  const requests: FileServer['requests'] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const sig = url.searchParams.get('sig') ?? '';
    const range = req.headers.range;
    if (!valid.has(sig)) {
      requests.push({ sig, range, status: 403 });
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error>Request has expired</Error>');
      return;
    }
    let start = 0;
    const m = range && !opts.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) start = Number(m[1]);
    if (start >= size && m) {
      requests.push({ sig, range, status: 416 });
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    const status = m ? 206 : 200;
    requests.push({ sig, range, status });
    res.writeHead(status, {
      'content-type': opts.contentType ?? 'text/csv; charset=utf-8',
      ...(opts.chunked ? {} : { 'content-length': String(size - start) }),
      'content-disposition': `attachment; filename="${opts.fileName ?? 'job_measurements.csv'}"`,
      'accept-ranges': 'bytes',
      ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    const cut = expireAfterBytes;
    expireAfterBytes = undefined;
    const end = cut === undefined ? size : Math.min(size, start + cut);
    let pos = start;
    if (opts.trickle) {
      const { bytes, everyMs } = opts.trickle;
      const timer = setInterval(() => {
        const n = Math.min(bytes, end - pos);
        res.write(opts.data ? opts.data.subarray(pos, pos + n) : generatedChunk(pos, n));
        pos += n;
        if (pos >= end) {
          clearInterval(timer);
          res.end();
        }
      }, everyMs);
      res.on('close', () => clearInterval(timer));
      return;
    }
    const pump = () => {
      while (pos < end) {
        const n = Math.min(256 * 1024, end - pos);
        const chunk = opts.data ? opts.data.subarray(pos, pos + n) : generatedChunk(pos, n);
        pos += n;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (cut !== undefined) {
        // The URL expires mid-stream: drop the connection, refuse the URL from now on.
        valid.delete(sig);
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    issueUrl() {
      const sig = `s${nextSig++}secret`;
      valid.add(sig);
      return `${baseUrl}/files/abc?expires=999&sig=${sig}`;
    },
    expireAfter(bytes) {
      expireAfterBytes = bytes;
    },
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
