// The resume checkpoint of a multipart upload: what it holds, how it is checked, and the hidden object
// that keeps it current to the last part (heartbeat details reach the server far less often).
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Ctx } from './context';
import { errorCode, isNotFound, storageFailure } from './errors';

/**
 * Version 3: the parts alone. A resumed upload re-reads the bytes they cover to rebuild its hashes (a native
 * hash's state cannot be saved); a checkpoint of another version is not resumed.
 */
export interface S3Checkpoint {
  v: 3;
  bucket: string;
  key: string;
  uploadId: string;
  partSize: number;
  /** Parts 1..n, all of `partSize` bytes, as S3 acknowledged them. */
  parts: Array<{ n: number; etag: string; sha256: string; size: number }>;
}

export type UploadedPart = S3Checkpoint['parts'][number];

export function isCheckpoint(v: unknown): v is S3Checkpoint {
  const c = v as Partial<S3Checkpoint> | undefined;
  return (
    !!c &&
    c.v === 3 &&
    typeof c.bucket === 'string' &&
    typeof c.key === 'string' &&
    typeof c.uploadId === 'string' &&
    typeof c.partSize === 'number' &&
    Number.isSafeInteger(c.partSize) &&
    c.partSize > 0 &&
    Array.isArray(c.parts) &&
    c.parts.every(
      (p: Partial<UploadedPart> | undefined) =>
        !!p &&
        typeof p.n === 'number' &&
        typeof p.etag === 'string' &&
        typeof p.sha256 === 'string' &&
        typeof p.size === 'number',
    )
  );
}

/** Whole parts of one size, numbered from 1. */
export function isConsistent(c: S3Checkpoint): boolean {
  return c.parts.every((p, i) => p.n === i + 1 && p.size === c.partSize);
}

/** The checkpoint object of one temporary key: read at open, rewritten after each part, deleted at the end. */
export class CheckpointObject {
  private latest: S3Checkpoint | undefined;
  private queued = false;
  private saving: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly key: string,
  ) {}

  async read(): Promise<unknown> {
    try {
      const res = await this.ctx.client.send(
        new GetObjectCommand({ Bucket: this.ctx.bucket, Key: this.key }),
      );
      return JSON.parse((await res.Body?.transformToString('utf8')) ?? 'null');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      this.ctx.log.warn(
        { code: errorCode(err) },
        'could not read the upload checkpoint; not resuming from it',
      );
      return undefined;
    }
  }

  /** Writes `cp` soon; one write at a time, coalescing those that queue up. */
  save(cp: S3Checkpoint): void {
    this.latest = cp;
    if (this.queued) return;
    this.queued = true;
    this.saving = this.saving.then(async () => {
      this.queued = false;
      const body = this.latest;
      if (!body || this.stopped) return;
      await this.ctx.client
        .send(
          new PutObjectCommand({
            Bucket: this.ctx.bucket,
            Key: this.key,
            Body: JSON.stringify(body),
            ContentType: 'application/json',
          }),
        )
        .catch((err: unknown) => {
          // Only resumability suffers (the heartbeat still carries the checkpoint): not worth failing for.
          this.ctx.log.warn({ code: errorCode(err) }, 'could not save the upload checkpoint');
        });
    });
  }

  /** Waits for the write in progress, if any. */
  settled(): Promise<void> {
    return this.saving;
  }

  /** No more writes (the writer is closed or committed). */
  stop(): void {
    this.stopped = true;
  }

  async delete(): Promise<void> {
    await deleteIfPresent(this.ctx, this.key);
  }
}

export async function deleteIfPresent(ctx: Ctx, key: string): Promise<void> {
  await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key })).catch((err: unknown) => {
    if (!isNotFound(err)) throw storageFailure('deleting a temporary object', err);
  });
}
