// Runs a ResumableSha256 (./sha256-state.ts) on a worker thread, so hashing an upload (~150 MiB/s in
// JavaScript) no longer shares the event loop with the download and the part uploads: on a machine with a
// spare core the whole-file hash overlaps the network instead of adding to it.
//
// Parts are posted in byte order (postMessage keeps order). A part in shared memory (the S3 writer's part
// buffers) is read where it is; anything else is posted as a copy whose buffer is transferred, so the
// original stays with the caller. Either way the caller must not change the bytes before the update resolves.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Sha256Checkpoint } from './sha256-state';

// The thread loads the same module this file sits beside: compiled `.js` in the image, TypeScript sources
// (through the same register hook as bin/run-ts.js) when run from a checkout or under jest.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.module.endsWith('.ts')) {
  process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || workerData.tsconfig;
  require('@swc-node/register');
}
const { ResumableSha256 } = require(workerData.module);
const hash = new ResumableSha256(workerData.from || undefined);
parentPort.on('message', (m) => {
  try {
    if (m.type === 'update') {
      hash.update(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      parentPort.postMessage({ id: m.id, checkpoint: m.checkpoint ? hash.checkpoint() : undefined });
    } else {
      parentPort.postMessage({ id: m.id, digest: hash.digestHex() });
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

interface Reply {
  id: number;
  checkpoint?: Sha256Checkpoint;
  digest?: string;
  error?: string;
}

export class ThreadedSha256 {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private broken: Error | undefined;

  constructor(from?: Sha256Checkpoint) {
    const ext = path.extname(__filename);
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        module: path.join(__dirname, `sha256-state${ext}`),
        tsconfig: path.resolve(__dirname, '../../tsconfig.json'),
        from: from ?? null,
      },
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

  /** Hashes `data`; with `checkpoint`, resolves to the state after it (at a 64-byte boundary). */
  async update(data: Buffer, checkpoint: boolean): Promise<Sha256Checkpoint | undefined> {
    if (data.buffer instanceof SharedArrayBuffer)
      return (await this.send({ type: 'update', data, checkpoint })).checkpoint;
    const copy = new Uint8Array(data);
    return (await this.send({ type: 'update', data: copy, checkpoint }, [copy.buffer])).checkpoint;
  }

  async digestHex(): Promise<string> {
    return (await this.send({ type: 'digest' })).digest!;
  }

  async close(): Promise<void> {
    this.broken ??= new Error('SHA-256 thread closed');
    await this.worker.terminate();
  }
}
