// The part pipeline of one upload: bytes are copied into part buffers as they arrive; a full buffer is
// posted to the hashing thread (in byte order) and uploaded, up to `concurrentParts` at once, and the
// stream waits for a free slot. Buffers live in shared memory and are reused once both the upload and the
// hash are done with them, so memory stays at (concurrentParts + 1) part buffers whatever the file size.
// When parts 1..n are all uploaded, they make a new checkpoint. A resumed upload streams the file from its
// first byte again: a part S3 already holds with the same SHA-256 is not uploaded again.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { countNewlines } from '../newlines';
import type { S3Checkpoint, UploadedPart } from './checkpoint';
import type { Ctx } from './context';
import { storageFailure } from './errors';
import { ThreadedSha256 } from './hash';
import { createUpload, uploadPart } from './multipart';

/** Where a pipeline starts: a new upload, or a resumed checkpoint's upload and the parts it holds. */
export interface PipelineStart {
  partSize: number;
  /** The resumed upload's key; a new upload asks `keyForNewUpload` when its first part is ready. */
  key?: string;
  uploadId?: string;
  /** Parts the resumed upload holds, not uploaded again when the re-read bytes have the same SHA-256. */
  uploaded: UploadedPart[];
}

const EMPTY_SHA256 = createHash('sha256').digest('hex');

export class PartPipeline {
  readonly partSize: number;
  /** The key the upload goes to, once it exists. */
  key: string | undefined;
  uploadId: string | undefined;
  newlines = 0;
  accepted = 0;
  failed: Error | undefined;
  /** Parts a resume found in S3 with the bytes streamed again, so not uploaded again. */
  reusedParts = 0;
  /** Started with the first part (small files that never fill one still get one). */
  private hasher: ThreadedSha256 | undefined;
  /** The part being filled, and how much of it is. */
  private part: Buffer | undefined;
  private buffered = 0;
  /** Part buffers whose upload and hashing are over, ready for the next part. */
  private readonly freeParts: Buffer[] = [];
  private nextPart = 1;
  /** The short part `finish` sent, which no checkpoint may include. */
  private lastPart: number | undefined;
  private readonly done = new Map<number, UploadedPart>();
  /** The resumed checkpoint's parts; checkpoints start again once they cover more of them. */
  private readonly reusable: Map<number, UploadedPart>;
  private contiguous = 0;
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
    this.reusable = new Map(start.uploaded.map((p) => [p.n, p]));
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
    const sha256 = this.hasher ? await this.hasher.digestHex() : EMPTY_SHA256;
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
    if (last) this.lastPart = n;
    // Posted now, in byte order; hashing runs on its thread while earlier parts upload.
    this.hasher ??= new ThreadedSha256();
    const hashed = this.hasher.part(body);
    hashed.catch(() => undefined); // observed below; a rejection before then must not go unhandled
    const { key, uploadId } = await this.ensureUpload();
    while (this.inFlight.size >= this.ctx.concurrentParts) await Promise.race(this.inFlight);
    if (this.failed) throw this.failed;
    // The buffer is reused only once both the upload and the hashing thread are done reading it; it goes
    // back before the slot frees, so the part filling next can take it.
    const task: Promise<void> = hashed
      .then((sha256) => this.store(key, uploadId, n, body, sha256))
      .then(
        (part) => {
          this.done.set(n, part);
          this.advanceCheckpoint(key, uploadId);
        },
        (err: unknown) => {
          this.failed ??= err instanceof ApplicationFailure ? err : storageFailure(`part ${n}`, err);
        },
      )
      .finally(() => {
        if (buffer.length === this.partSize) this.freeParts.push(buffer);
        this.inFlight.delete(task);
      });
    this.inFlight.add(task);
  }

  /** Uploads part `n`, unless the resumed upload holds it already with the same bytes. */
  private async store(
    key: string,
    uploadId: string,
    n: number,
    body: Buffer,
    sha256: string,
  ): Promise<UploadedPart> {
    const held = this.reusable.get(n);
    if (held && held.size === body.length && held.sha256 === sha256) {
      this.reusedParts++;
      return held;
    }
    // New bytes for this part number replace the held ones when uploaded.
    return uploadPart(this.ctx, key, uploadId, n, body, sha256);
  }

  private advanceCheckpoint(key: string, uploadId: string): void {
    let c = this.contiguous;
    while (this.done.has(c + 1) && c + 1 !== this.lastPart) c++;
    if (c === this.contiguous || uploadId !== this.uploadId) return;
    this.contiguous = c;
    if (c <= this.reusable.size) return; // the resumed checkpoint still covers more
    this.onCheckpoint({
      v: 3,
      bucket: this.ctx.bucket,
      key,
      uploadId,
      partSize: this.partSize,
      parts: Array.from({ length: c }, (_, i) => this.done.get(i + 1)!),
    });
  }
}
