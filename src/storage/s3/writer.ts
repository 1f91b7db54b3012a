// One file's S3 writer: streams into a multipart upload (./parts.ts), keeps its resume checkpoint current
// (./checkpoint.ts), and on commit makes the file visible under its final key (./commit.ts). The upload
// goes straight to the final key when the caller named the file before the first part and nothing is
// there; otherwise to a hidden temporary key, copied server-side on commit. A failed attempt aborts its
// upload and deletes its temporary objects; a killed one is resumed or cleaned up by the next open().
import { Writable } from 'node:stream';
import { sanitizeFileName } from '../names';
import type { CommittedFile, OpenWriterOptions, StorageWriter } from '../types';
import { CheckpointObject, deleteIfPresent, type S3Checkpoint } from './checkpoint';
import { chooseTarget, copyToFinal, objectExists, putEmpty, type FinalObject } from './commit';
import type { Ctx } from './context';
import { storageFailure } from './errors';
import { contentTypeFor, isUploadKeyOf, joinKey, temporaryKeys } from './layout';
import { abortUpload, abortUploadsExcept, completeUpload, FinalKeyTaken } from './multipart';
import { PartPipeline, type PipelineStart } from './parts';
import { findResumable } from './resume';

export class S3Writer implements StorageWriter {
  private readonly tempKey: string;
  private readonly checkpoints: CheckpointObject;
  private pipeline: PartPipeline;
  private latest: S3Checkpoint | undefined;
  private pending: Promise<void> = Promise.resolve();
  private closed = false;
  private tempCompleted = false;
  /** The final file name the caller expects to commit to, if it said so (`intendName`). */
  private intended: string | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly dir: string,
    readonly name: string,
  ) {
    const keys = temporaryKeys(dir, name);
    this.tempKey = keys.tempKey;
    this.checkpoints = new CheckpointObject(ctx, keys.checkpointKey);
    this.pipeline = this.newPipeline({ partSize: ctx.partSize, uploaded: [] });
  }

  get bytesWritten(): number {
    return this.pipeline.accepted;
  }

  checkpoint(): S3Checkpoint | undefined {
    return this.latest;
  }

  /** Named before its first part, an upload can go straight to its final key and skip the copy on commit. */
  intendName(finalName: string): void {
    this.intended = sanitizeFileName(finalName);
  }

  private readonly isOurs = (key: string) => isUploadKeyOf(this.dir, this.name, key);

  /**
   * The final key when the file was named and nothing is there yet, else the temporary key. The final key
   * stays invisible until the upload completes, and completing it refuses to replace an object that
   * appeared meanwhile.
   */
  private async keyForNewUpload(): Promise<string> {
    if (!this.intended) return this.tempKey;
    const final = joinKey(this.dir, this.intended);
    return (await objectExists(this.ctx, final)) ? this.tempKey : final;
  }

  private newPipeline(start: PipelineStart): PartPipeline {
    const keyFor = () => this.keyForNewUpload();
    const pipeline: PartPipeline = new PartPipeline(this.ctx, keyFor, start, (cp) => {
      if (pipeline !== this.pipeline) return; // a dropped upload's late part
      this.latest = cp;
      if (!this.closed) this.checkpoints.save(cp);
    });
    return pipeline;
  }

  async open(opts: OpenWriterOptions): Promise<void> {
    if (opts.resume !== false) {
      const from = await findResumable(this.ctx, this.isOurs, [
        await this.checkpoints.read(),
        opts.checkpoint,
      ]);
      if (from) {
        this.pipeline = this.newPipeline({
          partSize: from.partSize,
          key: from.key,
          uploadId: from.uploadId,
          uploaded: from.parts,
        });
        this.latest = from;
      }
    }
    // Uploads of this file that no checkpoint reached (an attempt killed before its first part landed):
    // nobody can resume them, so they go now rather than linger as invisible, billed parts.
    for (const prefix of [this.tempKey, joinKey(this.dir, this.name)])
      await abortUploadsExcept(this.ctx, prefix, this.isOurs, this.pipeline.uploadId);
    // Likewise a temporary object an attempt completed but died before copying to its final key.
    if (!this.pipeline.uploadId) await deleteIfPresent(this.ctx, this.tempKey);
  }

  createStream(): Writable {
    return new Writable({
      // Little buffered here: a socket chunk that waits for a part slot outlives V8's young-generation
      // collections, and such memory comes back only with full mark-compacts. While every slot is busy the
      // bytes wait in the kernel's socket buffer instead.
      highWaterMark: 256 * 1024,
      write: (chunk: Buffer, _enc, cb) => {
        this.append([chunk]).then(() => cb(), cb);
      },
      writev: (chunks, cb) => {
        this.append(chunks.map((c) => c.chunk as Buffer)).then(() => cb(), cb);
      },
    });
  }

  private append(chunks: Buffer[]): Promise<void> {
    // Serialised through `pending`: parts must be cut and hashed in byte order, and a destroyed stream's
    // last write must be accounted before the next stream (after a resume) appends.
    const run = this.pending.then(async () => {
      if (this.closed) throw new Error('storage writer is closed');
      await this.pipeline.append(chunks);
    });
    this.pending = run.catch(() => undefined);
    return run;
  }

  settle(): Promise<void> {
    return this.pending;
  }

  private async dropUpload(): Promise<void> {
    await this.settle();
    const pipeline = this.pipeline;
    await pipeline.stop();
    await this.checkpoints.settled();
    const uploadId = pipeline.uploadId;
    pipeline.uploadId = undefined;
    if (uploadId && pipeline.key) await abortUpload(this.ctx, pipeline.key, uploadId);
    await this.checkpoints.delete();
    if (this.tempCompleted) await deleteIfPresent(this.ctx, this.tempKey);
  }

  async truncate(): Promise<void> {
    await this.dropUpload();
    // A resumed upload may have used another part size; the fresh pipeline uses the configured one.
    this.pipeline = this.newPipeline({ partSize: this.ctx.partSize, uploaded: [] });
    this.latest = undefined;
  }

  async commit(finalName?: string): Promise<CommittedFile> {
    await this.settle();
    const pipeline = this.pipeline;
    if (pipeline.failed) throw pipeline.failed;
    const file = sanitizeFileName(finalName ?? this.name);
    const bytes = pipeline.accepted;
    const sha256 = await pipeline.finish();
    const parts = pipeline.uploadedParts();
    if (pipeline.reusedParts > 0)
      this.ctx.log.info(
        { key: pipeline.key, reusedParts: pipeline.reusedParts, parts: parts.length },
        'resumed upload: parts the earlier attempt uploaded were not uploaded again',
      );

    const { target, present } = await chooseTarget(this.ctx, this.dir, file, { sha256, parts });
    if (present) {
      await this.dropUpload();
      this.stop();
      this.ctx.log.info({ key: joinKey(this.dir, target) }, 'identical object already stored; not writing');
      return this.result(target, bytes, sha256, 'already-present');
    }
    const final: FinalObject = {
      key: joinKey(this.dir, target),
      bytes,
      metadata: { sha256, bytes: String(bytes) },
      contentType: contentTypeFor(file),
    };
    if (bytes === 0) {
      await this.dropUpload();
      await putEmpty(this.ctx, final);
    } else if (pipeline.key !== this.tempKey) {
      await this.completeInPlace(final.key);
    } else {
      await this.checkpoints.settled();
      await completeUpload(this.ctx, this.tempKey, pipeline.uploadId!, parts);
      pipeline.uploadId = undefined;
      this.tempCompleted = true;
      await copyToFinal(this.ctx, this.tempKey, final);
      await deleteIfPresent(this.ctx, this.tempKey);
      this.tempCompleted = false;
      await this.checkpoints.delete();
    }
    this.stop();
    return this.result(target, bytes, sha256);
  }

  /**
   * Completes an upload that went straight to a final key. Parts cannot move to another key: if that key is
   * no longer the one to commit to (an object appeared there meanwhile, or the response named the file
   * differently), the upload is dropped and the attempt fails, to transfer the file again.
   */
  private async completeInPlace(finalKey: string): Promise<void> {
    const pipeline = this.pipeline;
    await this.checkpoints.settled();
    try {
      if (pipeline.key !== finalKey) throw new FinalKeyTaken(finalKey);
      await completeUpload(this.ctx, finalKey, pipeline.uploadId!, pipeline.uploadedParts(), {
        ifAbsent: true,
      });
    } catch (err) {
      if (!(err instanceof FinalKeyTaken)) throw err;
      await this.dropUpload();
      throw storageFailure('committing straight to the final key', err);
    }
    pipeline.uploadId = undefined;
    await this.checkpoints.delete();
  }

  private stop(): void {
    this.closed = true;
    this.checkpoints.stop();
  }

  private result(file: string, bytes: number, sha256: string, skipped?: 'already-present'): CommittedFile {
    const key = joinKey(this.dir, file);
    return {
      file,
      path: key,
      location: `s3://${this.ctx.bucket}/${key}`,
      bytes,
      sha256,
      newlines: this.pipeline.newlines,
      ...(skipped ? { skipped } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    await this.dropUpload();
  }

  async discard(): Promise<void> {
    await this.close();
  }
}
