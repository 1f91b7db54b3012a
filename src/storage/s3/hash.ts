// The whole-file SHA-256 of an upload, whose running state can be saved in a checkpoint and continued by
// another process: node:crypto's hash cannot be saved, and parts of an unfinished multipart upload cannot
// be read back to re-hash them. hash-wasm's SHA-256 can save and load its state; it runs on a worker thread
// so hashing overlaps the network instead of sharing the event loop with it.
//
// Parts are posted in byte order (postMessage keeps order). A part in shared memory (the writer's part
// buffers) is read where it is; anything else is posted as a copy whose buffer is transferred, so the
// original stays with the caller. Either way the caller must not change the bytes before the update resolves.
import { Worker } from 'node:worker_threads';
import { createSHA256 } from 'hash-wasm';

/** A saved hash: `bytes` hashed so far, and hash-wasm's state after them (base64). */
export interface Sha256Checkpoint {
  bytes: number;
  state: string;
}

// Plain JavaScript, so the thread needs no TypeScript loader; hash-wasm's SHA-256 bundle is required by its resolved path.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createSHA256 } = require(workerData.hashWasm);
let bytes = workerData.from ? workerData.from.bytes : 0;
let queue = createSHA256().then((h) => {
  if (workerData.from) h.load(Buffer.from(workerData.from.state, 'base64'));
  else h.init();
  return h;
});
const saved = (h) => ({ bytes, state: Buffer.from(h.save()).toString('base64') });
parentPort.on('message', (m) => {
  queue = queue.then((h) => {
    try {
      if (m.type === 'update') {
        h.update(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        bytes += m.data.byteLength;
        parentPort.postMessage({ id: m.id, checkpoint: m.checkpoint ? saved(h) : undefined });
      } else {
        const state = h.save();
        const digest = h.digest('hex');
        h.load(state);
        parentPort.postMessage({ id: m.id, digest });
      }
    } catch (err) {
      parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
    }
    return h;
  });
});
`;

interface Reply {
  id: number;
  checkpoint?: Sha256Checkpoint;
  digest?: string;
  error?: string;
}

/** True when `from` is a state this hash-wasm can continue (it refuses another version's states). */
export async function canContinue(from: Sha256Checkpoint): Promise<boolean> {
  try {
    (await createSHA256()).load(Buffer.from(from.state, 'base64'));
    return true;
  } catch {
    return false;
  }
}

/** The digest of `from` with nothing more hashed (empty without one). */
export async function digestOf(from: Sha256Checkpoint | undefined): Promise<string> {
  const h = await createSHA256();
  if (from) h.load(Buffer.from(from.state, 'base64'));
  else h.init();
  return h.digest('hex');
}

export class ThreadedSha256 {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private broken: Error | undefined;

  constructor(from?: Sha256Checkpoint) {
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      // The SHA-256 bundle alone: a thread per upload need not load every algorithm.
      workerData: { hashWasm: require.resolve('hash-wasm/dist/sha256.umd.min.js'), from: from ?? null },
    });
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

  private send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Hashes `data`; with `checkpoint`, resolves to the saved state after it. */
  async update(data: Buffer, checkpoint: boolean): Promise<Sha256Checkpoint | undefined> {
    if (data.buffer instanceof SharedArrayBuffer)
      return (await this.send({ type: 'update', data, checkpoint })).checkpoint;
    const copy = new Uint8Array(data);
    return (await this.send({ type: 'update', data: copy, checkpoint }, [copy.buffer])).checkpoint;
  }

  /** The digest of everything posted so far; the running state stays usable. */
  async digestHex(): Promise<string> {
    return (await this.send({ type: 'digest' })).digest!;
  }

  async close(): Promise<void> {
    this.broken ??= new Error('SHA-256 thread closed');
    await this.worker.terminate();
  }
}
