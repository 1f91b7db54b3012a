// The SHA-256s of an upload, computed with node:crypto on a worker thread so that hashing overlaps the
// network instead of sharing the event loop with it: each part's own digest (sent with the part, checked by
// the server) and the whole file's, fed part after part. A native hash's running state cannot be saved, so
// a resumed upload re-reads the bytes before its checkpoint instead of continuing a saved state (./resume.ts).
//
// Parts are posted in byte order (postMessage keeps order). A part in shared memory (the writer's part
// buffers) is read where it is; anything else is posted as a copy whose buffer is transferred, so the
// original stays with the caller. Either way the caller must not change the bytes before the update resolves.
import { Worker } from 'node:worker_threads';

// Plain JavaScript, so the thread needs no TypeScript loader.
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const whole = createHash('sha256');
parentPort.on('message', (m) => {
  try {
    if (m.type === 'part') {
      const bytes = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      whole.update(bytes);
      parentPort.postMessage({ id: m.id, digest: createHash('sha256').update(bytes).digest('base64') });
    } else {
      parentPort.postMessage({ id: m.id, digest: whole.copy().digest('hex') });
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

interface Reply {
  id: number;
  digest?: string;
  error?: string;
}

export class ThreadedSha256 {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private broken: Error | undefined;

  constructor() {
    this.worker = new Worker(THREAD_SOURCE, { eval: true });
    // Never keeps the process alive on its own; the writer terminates it when done.
    this.worker.unref();
    const fail = (err: Error) => {
      this.broken ??= err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('message', (r: Reply) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (!w) return;
      if (r.error) w.reject(new Error(`SHA-256 thread: ${r.error}`));
      else w.resolve(r);
    });
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`SHA-256 thread exited (${code})`)));
  }

  private async send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<string> {
    if (this.broken) throw this.broken;
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
    return reply.digest!;
  }

  /** Adds the next part to the whole file's hash; resolves to the part's own SHA-256 (base64). */
  part(data: Buffer): Promise<string> {
    if (data.buffer instanceof SharedArrayBuffer) return this.send({ type: 'part', data });
    const copy = new Uint8Array(data);
    return this.send({ type: 'part', data: copy }, [copy.buffer]);
  }

  /** The whole file's SHA-256 (hex) over every part posted so far; more parts may follow. */
  digestHex(): Promise<string> {
    return this.send({ type: 'digest' });
  }

  async close(): Promise<void> {
    this.broken ??= new Error('SHA-256 thread closed');
    await this.worker.terminate();
  }
}
