// One file's S3 writer: streams into a multipart upload under a hidden temporary key (./parts.ts), keeps
// its resume checkpoint current (./checkpoint.ts), and on commit completes the upload and copies it to the
// final key (./commit.ts). A failed attempt aborts its upload and deletes its temporary objects; a killed
// one is resumed or cleaned up by the next attempt's open().
import { Writable } from 'node:stream';
import { sanitizeFileName } from '../names';
import type { CommittedFile, OpenWriterOptions, StorageWriter } from '../types';
import { CheckpointObject, deleteIfPresent, type S3Checkpoint } from './checkpoint';
import { chooseTarget, copyToFinal, putEmpty, type FinalObject } from './commit';
import { MiB, type Ctx } from './context';
import { contentTypeFor, joinKey, temporaryKeys } from './layout';
import { abortUpload, abortUploadsExcept, completeUpload } from './multipart';
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

  constructor(
    private readonly ctx: Ctx,
    private readonly dir: string,
    readonly name: string,
  ) {
    const keys = temporaryKeys(dir, name);
    this.tempKey = keys.tempKey;
    this.checkpoints = new CheckpointObject(ctx, keys.checkpointKey);
    this.pipeline = this.newPipeline({ partSize: ctx.partSize, newlines: 0, parts: [] });
  }

  get bytesWritten(): number {
    return this.pipeline.accepted;
  }

  checkpoint(): S3Checkpoint | undefined {
    return this.latest;
  }

  private newPipeline(start: PipelineStart): PartPipeline {
    const pipeline: PartPipeline = new PartPipeline(this.ctx, this.tempKey, start, (cp) => {
      if (pipeline !== this.pipeline) return; // a dropped upload's late part
      this.latest = cp;
      if (!this.closed) this.checkpoints.save(cp);
    });
    return pipeline;
  }

  async open(opts: OpenWriterOptions): Promise<void> {
    if (opts.resume !== false) {
      const from = await findResumable(this.ctx, this.tempKey, [
        await this.checkpoints.read(),
        opts.checkpoint,
      ]);
      if (from) {
        this.pipeline = this.newPipeline(from);
        this.latest = from;
      }
    }
    // Uploads of this file that no checkpoint reached (an attempt killed before its first part landed):
    // nobody can resume them, so they go now rather than linger as invisible, billed parts.
    await abortUploadsExcept(this.ctx, this.tempKey, this.pipeline.uploadId);
    // Likewise a temporary object an attempt completed but died before copying to its final key.
    if (!this.pipeline.uploadId) await deleteIfPresent(this.ctx, this.tempKey);
  }

  createStream(): Writable {
    return new Writable({
      highWaterMark: 4 * MiB,
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
    if (uploadId) await abortUpload(this.ctx, this.tempKey, uploadId);
    await this.checkpoints.delete();
    if (this.tempCompleted) await deleteIfPresent(this.ctx, this.tempKey);
  }

  async truncate(): Promise<void> {
    await this.dropUpload();
    // A resumed upload may have used another part size; the fresh pipeline uses the configured one.
    this.pipeline = this.newPipeline({ partSize: this.ctx.partSize, newlines: 0, parts: [] });
    this.latest = undefined;
  }

  async commit(finalName?: string): Promise<CommittedFile> {
    await this.settle();
    const pipeline = this.pipeline;
    if (pipeline.failed) throw pipeline.failed;
    const file = sanitizeFileName(finalName ?? this.name);
    const bytes = pipeline.accepted;
    const sha256 = await pipeline.finish();

    const { target, present } = await chooseTarget(this.ctx, this.dir, file, sha256);
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
    } else {
      await this.checkpoints.settled();
      await completeUpload(this.ctx, this.tempKey, pipeline.uploadId!, pipeline.uploadedParts());
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
