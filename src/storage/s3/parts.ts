// The part pipeline of one upload: bytes are copied into part buffers as they arrive; a full buffer is
// posted to the hashing thread (in byte order) and uploaded, up to `concurrentParts` at once, and the
// stream waits for a free slot. Buffers live in shared memory and are reused once both the upload and the
// hash are done with them, so memory stays at (concurrentParts + 1) part buffers whatever the file size.
// When parts 1..n are all uploaded, the hash state and newline count at the end of part n make a new
// checkpoint.
import { ApplicationFailure } from '@temporalio/common';
import { countNewlines } from '../newlines';
import type { S3Checkpoint, UploadedPart } from './checkpoint';
import type { Ctx } from './context';
import { storageFailure } from './errors';
import { digestOf, ThreadedSha256, type Sha256Checkpoint } from './hash';
import { createUpload, uploadPart } from './multipart';

/** Where a pipeline starts: empty, or the end of a resumed checkpoint's last part. */
export interface PipelineStart {
  partSize: number;
  /** The resumed upload's key; a new upload asks `keyForNewUpload` when its first part is ready. */
  key?: string;
  uploadId?: string;
  hash?: Sha256Checkpoint;
  newlines: number;
  parts: UploadedPart[];
}

interface Boundary {
  hash?: Sha256Checkpoint;
  newlines: number;
}

export class PartPipeline {
  readonly partSize: number;
  /** The key the upload goes to, once it exists. */
  key: string | undefined;
  uploadId: string | undefined;
  newlines: number;
  accepted: number;
  failed: Error | undefined;
  private readonly hashFrom: Sha256Checkpoint | undefined;
  /** Started with the first part (small files that never fill one still get one). */
  private hasher: ThreadedSha256 | undefined;
  /** The part being filled, and how much of it is. */
  private part: Buffer | undefined;
  private buffered = 0;
  /** Part buffers whose upload and hashing are over, ready for the next part. */
  private readonly freeParts: Buffer[] = [];
  private nextPart: number;
  private readonly done = new Map<number, UploadedPart>();
  /** Hash state and newline count at the end of each dispatched part, until the checkpoint passes it. */
  private readonly boundaries = new Map<number, Boundary>();
  private contiguous: number;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly ctx: Ctx,
    private readonly keyForNewUpload: () => Promise<string>,
    start: PipelineStart,
    private readonly onCheckpoint: (cp: S3Checkpoint) => void,
  ) {
    this.partSize = start.partSize;
    this.key = start.uploadId ? start.key : undefined;
    this.uploadId = start.uploadId;
    this.hashFrom = start.hash;
    this.newlines = start.newlines;
    this.accepted = start.hash?.bytes ?? 0;
    for (const p of start.parts) this.done.set(p.n, p);
    this.contiguous = start.parts.length;
    this.nextPart = start.parts.length + 1;
  }

  /** Copies `chunks` into parts; resolves once every full part has an upload slot. Callers serialise. */
  async append(chunks: Buffer[]): Promise<void> {
    if (this.failed) throw this.failed;
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.length) {
        const part = (this.part ??= this.takePartBuffer());
        const copied = chunk.copy(part, this.buffered, offset);
        this.newlines += countNewlines(part.subarray(this.buffered, this.buffered + copied));
        this.buffered += copied;
        this.accepted += copied;
        offset += copied;
        if (this.buffered === this.partSize) await this.dispatchPart(false);
      }
    }
  }

  /** Uploads what is buffered and waits for every part; resolves to the whole-file SHA-256 (hex). */
  async finish(): Promise<string> {
    if (this.buffered > 0) await this.dispatchPart(true);
    await this.drain();
    if (this.failed) throw this.failed;
    // No new bytes: empty, or everything was uploaded before a resume.
    const sha256 = this.hasher ? await this.hasher.digestHex() : await digestOf(this.hashFrom);
    await this.stopHasher();
    return sha256;
  }

  uploadedParts(): UploadedPart[] {
    return [...this.done.values()];
  }

  /** Waits for parts in flight and stops hashing; the upload itself stays for the caller to abort. */
  async stop(): Promise<void> {
    await this.drain();
    await this.stopHasher();
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  private async stopHasher(): Promise<void> {
    const hasher = this.hasher;
    this.hasher = undefined;
    await hasher?.close();
  }

  /**
   * A free part buffer, or a new one. Shared memory, so the hashing thread reads it without a copy. At most
   * concurrentParts + 1 exist: dispatchPart waits for an upload slot before the next part starts filling,
   * and a slot frees only after its buffer went back to `freeParts`.
   */
  private takePartBuffer(): Buffer {
    return this.freeParts.pop() ?? Buffer.from(new SharedArrayBuffer(this.partSize));
  }

  /** The upload's key and id, created with the first part (after the caller had its chance to name the file). */
  private async ensureUpload(): Promise<{ key: string; uploadId: string }> {
    if (!this.uploadId || !this.key) {
      this.key = await this.keyForNewUpload();
      this.uploadId = await createUpload(this.ctx, this.key);
    }
    return { key: this.key, uploadId: this.uploadId };
  }

  /** Hands the buffered bytes to an upload slot, waiting for one (this is the stream's backpressure). */
  private async dispatchPart(last: boolean): Promise<void> {
    const buffer = this.part ?? this.takePartBuffer();
    const body = buffer.subarray(0, this.buffered);
    this.part = undefined;
    this.buffered = 0;
    const n = this.nextPart++;
    const boundary: Boundary = { newlines: this.newlines };
    if (!last) this.boundaries.set(n, boundary);
    // Posted now, in byte order; hashing runs on its thread while the part uploads.
    this.hasher ??= new ThreadedSha256(this.hashFrom);
    const hashed = this.hasher.update(body, !last);
    hashed.catch(() => undefined); // observed below; a rejection before then must not go unhandled
    const { key, uploadId } = await this.ensureUpload();
    while (this.inFlight.size >= this.ctx.concurrentParts) await Promise.race(this.inFlight);
    if (this.failed) throw this.failed;
    // The buffer is reused only once both the upload and the hashing thread are done reading it; it goes
    // back before the slot frees, so the part filling next can take it.
    const task: Promise<void> = Promise.allSettled([uploadPart(this.ctx, key, uploadId, n, body), hashed])
      .then(([uploaded, state]) => {
        if (buffer.length === this.partSize) this.freeParts.push(buffer);
        if (uploaded.status === 'rejected' || state.status === 'rejected') {
          const err: unknown =
            uploaded.status === 'rejected' ? uploaded.reason : (state as PromiseRejectedResult).reason;
          this.failed ??= err instanceof ApplicationFailure ? err : storageFailure(`part ${n}`, err);
          return;
        }
        boundary.hash = state.value;
        this.done.set(n, uploaded.value);
        this.advanceCheckpoint(key, uploadId);
      })
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private advanceCheckpoint(key: string, uploadId: string): void {
    let c = this.contiguous;
    while (this.done.has(c + 1)) c++;
    if (c === this.contiguous || uploadId !== this.uploadId) return;
    const boundary = this.boundaries.get(c);
    if (!boundary?.hash) return; // the short last part: commit follows, nothing to resume
    for (let i = this.contiguous + 1; i <= c; i++) this.boundaries.delete(i);
    this.contiguous = c;
    this.onCheckpoint({
      v: 2,
      bucket: this.ctx.bucket,
      key,
      uploadId,
      partSize: this.partSize,
      parts: Array.from({ length: c }, (_, i) => this.done.get(i + 1)!),
      hash: boundary.hash,
      newlines: boundary.newlines,
    });
  }
}
