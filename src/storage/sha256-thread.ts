// SHA-256 off the event loop: one thread per process hashes every local write in progress, with node:crypto
// (and so the CPU's SHA extensions where it has them). A download's bytes then cost the event loop a copy
// instead of a hash, and the hash of one batch runs while the next is received.
//
// One thread for the process, not one per download: a thread is a V8 isolate of its own, and a worker may
// run many downloads at once. Updates of one hash are applied in the order they are posted. A Buffer in
// shared memory (the writers' batch buffers) is read where it is, so the caller must not change it until
// the update resolves; anything else is posted as a copy.
import { Worker } from 'node:worker_threads';

// Plain JavaScript, so the thread needs no TypeScript loader.
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.op === 'update') {
      let h = hashes.get(m.hash);
      if (!h) hashes.set(m.hash, (h = createHash('sha256')));
      h.update(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      parentPort.postMessage({ id: m.id });
    } else if (m.op === 'digest') {
      const h = hashes.get(m.hash) || createHash('sha256');
      hashes.delete(m.hash);
      parentPort.postMessage({ id: m.id, digest: h.digest('hex') });
    } else {
      hashes.delete(m.hash);
      parentPort.postMessage({ id: m.id });
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

/** The process's hashing thread; replaced by a new one if it dies (the hashes it held fail). */
class HashThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  dead: Error | undefined;

  constructor() {
    this.worker = new Worker(THREAD_SOURCE, { eval: true });
    const fail = (err: Error) => {
      this.dead ??= err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('message', (r: Reply) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (!w) return;
      if (r.error) w.reject(new Error(`SHA-256 thread: ${r.error}`));
      else w.resolve(r);
    });
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`SHA-256 thread exited (${code})`)));
    // Keeps the process alive only while an answer is awaited; after the listeners, which take a reference.
    this.worker.unref();
  }

  send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }
}

let shared: HashThread | undefined;
let nextHash = 0;

function hashThread(): HashThread {
  if (!shared || shared.dead) shared = new HashThread();
  return shared;
}

/** One running SHA-256 on the process's hashing thread. */
export class OffThreadSha256 {
  private readonly thread = hashThread();
  private readonly id = nextHash++;

  /** Hashes `data` after everything posted before it. */
  async update(data: Buffer): Promise<void> {
    if (data.buffer instanceof SharedArrayBuffer) {
      await this.thread.send({ op: 'update', hash: this.id, data });
      return;
    }
    const copy = new Uint8Array(data);
    await this.thread.send({ op: 'update', hash: this.id, data: copy }, [copy.buffer]);
  }

  /** The digest of everything posted (hex); the hash is finished. */
  async digestHex(): Promise<string> {
    return (await this.thread.send({ op: 'digest', hash: this.id })).digest!;
  }

  /** Forgets the hash without a digest. */
  discard(): void {
    if (!this.thread.dead) void this.thread.send({ op: 'drop', hash: this.id }).catch(() => undefined);
  }
}
