// S3-compatible object storage for exported files (AWS S3, MinIO, ...), behind the same interface as the
// local directory.
//
// Layout (Hive style, so Athena/BigQuery/Snowflake can prune partitions):
//   <prefix>/export=<name>/date=<window start YYYY-MM-DD>/[hour=HH/]<file>          the data
//   <prefix>/export=<name>/date=.../<file>.manifest.json                            its manifest
// and, while a transfer is in progress, two hidden objects (leading dot: query engines skip them):
//   .../.<base>.partial                    the multipart upload the download streams into
//   .../.<base>.partial.checkpoint.json    its resume checkpoint
//
// Streaming and memory: bytes are copied into part buffers of `partSizeBytes` (8 MiB) as they arrive and up
// to `concurrentParts` (4) parts upload at once; the writer's stream waits for a free slot. A writer owns at
// most concurrentParts + 1 part buffers, reused from part to part, and the hashing thread reads them where
// they are (shared memory) instead of receiving copies, so memory stays at (concurrentParts + 1) x partSize
// whatever the file size, with nothing allocated per part.
//
// Integrity: every part carries its own SHA-256 (`ChecksumAlgorithm: 'SHA256'`), which the server checks
// against the bytes it received and refuses on mismatch (the part is then re-sent, up to `partAttempts`
// times). The whole-file SHA-256 is computed while streaming and stored in the object's user metadata
// (`x-amz-meta-sha256`) and in the manifest.
//
// Atomicity and metadata: the whole-file SHA-256 is known only at the end, and S3 takes user metadata only
// when an upload is created. So the stream goes to a hidden temporary key; on commit that upload is
// completed and server-side copied to the final key with the metadata (CopyObject, or UploadPartCopy above
// 5 GiB), then the temporary object is deleted. The final key therefore appears once, complete, with its
// metadata; no bytes pass through the worker twice. A failed attempt aborts its multipart upload and
// deletes its temporary objects, so nothing is left behind.
//
// Resuming after the worker died (the case a failed-but-alive attempt cannot clean up): the parts already
// uploaded stay in S3, but an unfinished multipart upload cannot be read back, and node:crypto's running
// hash cannot be saved. So the whole-file hash is computed by a SHA-256 whose state can be saved
// (./sha256-state.ts; ~150 MiB/s in JavaScript against ~1.7 GiB/s native, the price of resuming without
// re-reading anything; it runs on a worker thread, ./sha256-thread.ts, so it overlaps the network), and
// after each part the writer saves a checkpoint: upload id, the completed parts
// {number, ETag, SHA-256, size}, the hash state and newline count at the end of the last contiguous part.
// The checkpoint goes to the heartbeat details AND to the hidden checkpoint object: heartbeats reach the
// server at most every 0.8 x heartbeat timeout (48 s for downloads), which at S3 speeds is most of a
// transfer, whereas the object is current to the last part. A new attempt takes the most advanced
// checkpoint whose upload still exists and whose parts S3 lists with the same ETags, continues the hash
// from its state and the download from its byte offset (Range); the final digest is the digest of every
// byte, as if nothing had happened. Parts uploaded after the checkpoint are simply uploaded again.
//
// Idempotency: if the final key already holds an object whose metadata has the same SHA-256, nothing new
// is written (the manifest says `skipped: 'already-present'`); a different SHA-256 goes to `<file>.v2`,
// `.v3`, ...: an existing object is never overwritten.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { failure, FailureType } from '../contract/failures';
import { redact } from '../log/redact';
import { sanitizeFileName } from './local';
import { ResumableSha256, type Sha256Checkpoint } from './sha256-state';
import { ThreadedSha256 } from './sha256-thread';
import type {
  CommittedFile,
  ExportStorage,
  FilePlacement,
  Manifest,
  OpenWriterOptions,
  StorageWriter,
} from './types';
import { countNewlines } from './newlines';

const MiB = 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * MiB;
/** S3 refuses parts under 5 MiB except the last one. */
const MIN_PART_SIZE = 5 * MiB;
/** S3's limit for a single CopyObject; larger objects are copied part by part. */
const SINGLE_COPY_LIMIT = 5 * 1024 * MiB;
const COPY_PART_SIZE = 512 * MiB;

/** Connection settings (credentials are never here: the AWS SDK's default provider chain finds them). */
export interface S3Settings {
  bucket: string;
  prefix?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

export function createS3Client(settings: Omit<S3Settings, 'bucket' | 'prefix'>): S3Client {
  return new S3Client({
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? false,
  });
}

export interface StorageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface S3StorageOptions {
  client: S3Client;
  bucket: string;
  prefix?: string;
  /** Bytes per uploaded part: a multiple of 64 (hash checkpoints fall on part boundaries), at least 5 MiB. */
  partSizeBytes?: number;
  /** Parts uploading at the same time. */
  concurrentParts?: number;
  /** Sends of one part before the attempt fails (a checksum mismatch or a dropped connection is re-sent). */
  partAttempts?: number;
  /** Objects up to this size are copied from the temporary key with one CopyObject. */
  singleCopyMaxBytes?: number;
  log?: StorageLogger;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Test hook: the SHA-256 (base64) sent with a part, given the right one. Tests return a wrong value to
   * check that the server refuses the part and the writer re-sends it.
   */
  partChecksum?: (part: { partNumber: number; attempt: number; sha256: string }) => string;
}

/** What a checkpoint (heartbeat details / checkpoint object) holds. */
export interface S3Checkpoint {
  v: 1;
  bucket: string;
  key: string;
  uploadId: string;
  partSize: number;
  parts: Array<{ n: number; etag: string; sha256: string; size: number }>;
  hash: Sha256Checkpoint;
  newlines: number;
}

const silentLog: StorageLogger = { info: () => undefined, warn: () => undefined };

function joinKey(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
}

/** A Hive partition value: no '/', '=' or anything a query engine would need to escape. */
function partitionValue(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || '_';
}

/**
 * `<prefix>/export=<name>/date=YYYY-MM-DD[/hour=HH]`: the window's start in UTC; `hour=` only for windows of
 * at most one hour.
 */
export function partitionPrefix(prefix: string, placement: FilePlacement): string {
  const name = partitionValue(placement.exportName || 'adhoc');
  const start = Date.parse(placement.window?.start ?? '');
  const end = Date.parse(placement.window?.end ?? '');
  const fallback = Date.parse(placement.fallbackDate ?? '');
  const at = new Date(
    Number.isNaN(start) ? (Number.isNaN(fallback) ? Date.now() : fallback) : start,
  ).toISOString();
  const hourly = !Number.isNaN(start) && !Number.isNaN(end) && end > start && end - start <= 3_600_000;
  return joinKey(
    prefix,
    `export=${name}`,
    `date=${at.slice(0, 10)}`,
    ...(hourly ? [`hour=${at.slice(11, 13)}`] : []),
  );
}

interface S3ErrorShape {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function errorCode(err: unknown): string {
  const e = err as S3ErrorShape;
  return e?.Code ?? e?.name ?? 'Error';
}

function httpStatus(err: unknown): number | undefined {
  return (err as S3ErrorShape)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return httpStatus(err) === 404 || code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchUpload';
}

/** Worth re-sending the same part: corrupted or cut in transit, throttled, or a server-side hiccup. */
const RESEND_CODES = new Set([
  'XAmzContentChecksumMismatch',
  'BadDigest',
  'InvalidDigest',
  'IncompleteBody',
  'RequestTimeout',
  'SlowDown',
  'InternalError',
]);
function worthResending(err: unknown): boolean {
  const status = httpStatus(err);
  return status === undefined || status >= 500 || status === 429 || RESEND_CODES.has(errorCode(err));
}

function storageFailure(context: string, err: unknown) {
  const message = err instanceof Error ? err.message : String(err);
  return failure(FailureType.StorageFailed, redact(`${context}: ${errorCode(err)}: ${message}`), {
    details: { code: errorCode(err), status: httpStatus(err) },
  });
}

function contentTypeFor(file: string): string {
  if (/\.gz$/i.test(file)) return 'application/gzip';
  if (/\.zip$/i.test(file)) return 'application/zip';
  if (/\.csv$/i.test(file)) return 'text/csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'application/x-ndjson';
  if (/\.json$/i.test(file)) return 'application/json';
  return 'application/octet-stream';
}

function isCheckpoint(v: unknown): v is S3Checkpoint {
  const c = v as Partial<S3Checkpoint> | undefined;
  return (
    !!c &&
    c.v === 1 &&
    typeof c.bucket === 'string' &&
    typeof c.key === 'string' &&
    typeof c.uploadId === 'string' &&
    typeof c.partSize === 'number' &&
    Array.isArray(c.parts) &&
    typeof c.newlines === 'number' &&
    !!c.hash &&
    typeof c.hash.bytes === 'number' &&
    typeof c.hash.state === 'string'
  );
}

interface Ctx {
  client: S3Client;
  bucket: string;
  partSize: number;
  concurrentParts: number;
  partAttempts: number;
  singleCopyMaxBytes: number;
  log: StorageLogger;
  sleep: (ms: number) => Promise<void>;
  partChecksum?: S3StorageOptions['partChecksum'];
}

class S3Writer implements StorageWriter {
  private readonly tempKey: string;
  private readonly checkpointKey: string;
  private partSize: number;
  /** Where the whole-file hash starts: a resumed checkpoint's state, or empty. */
  private hashFrom: Sha256Checkpoint | undefined;
  /** Started with the first part (small files that never fill one still get one). */
  private hasher: ThreadedSha256 | undefined;
  private newlines = 0;
  private accepted = 0;
  private uploadId: string | undefined;
  /** The part being filled, and how much of it is. */
  private part: Buffer | undefined;
  private buffered = 0;
  /** Part buffers whose upload and hashing are over, ready for the next part. */
  private freeParts: Buffer[] = [];
  private nextPart = 1;
  private readonly done = new Map<number, S3Checkpoint['parts'][number]>();
  /** Hash state and newline count at the end of each dispatched part, until the checkpoint passes it. */
  private readonly boundaries = new Map<number, { hash?: Sha256Checkpoint; newlines: number }>();
  private contiguous = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failed: Error | undefined;
  private latest: S3Checkpoint | undefined;
  private saveQueued = false;
  private saving: Promise<void> = Promise.resolve();
  private pending: Promise<void> = Promise.resolve();
  private closed = false;
  private tempCompleted = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly dir: string,
    readonly name: string,
  ) {
    this.tempKey = joinKey(dir, `.${name}.partial`);
    this.checkpointKey = `${this.tempKey}.checkpoint.json`;
    this.partSize = ctx.partSize;
  }

  get bytesWritten(): number {
    return this.accepted;
  }

  checkpoint(): S3Checkpoint | undefined {
    return this.latest;
  }

  private uri(key: string): string {
    return `s3://${this.ctx.bucket}/${key}`;
  }

  // ---- resume -------------------------------------------------------------------------------------------

  async open(opts: OpenWriterOptions): Promise<void> {
    if (opts.resume !== false) {
      const candidates = [await this.readSavedCheckpoint(), opts.checkpoint]
        .filter(isCheckpoint)
        .filter((c) => c.bucket === this.ctx.bucket && c.key === this.tempKey)
        .sort((a, b) => b.hash.bytes - a.hash.bytes);
      for (const c of candidates) {
        if (await this.adopt(c)) break;
      }
    }
    // Uploads of this file that no checkpoint reached (an attempt killed before its first part landed):
    // nobody can resume them, so they go now rather than linger as invisible, billed parts.
    await this.abortUploadsExcept(this.uploadId);
    // Likewise a temporary object an attempt completed but died before copying to its final key.
    if (!this.uploadId) await this.deleteObject(this.tempKey);
  }

  private async readSavedCheckpoint(): Promise<unknown> {
    try {
      const res = await this.ctx.client.send(
        new GetObjectCommand({ Bucket: this.ctx.bucket, Key: this.checkpointKey }),
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

  private async listParts(uploadId: string): Promise<Map<number, string>> {
    const parts = new Map<number, string>();
    let marker: string | undefined;
    for (;;) {
      const res = await this.ctx.client.send(
        new ListPartsCommand({
          Bucket: this.ctx.bucket,
          Key: this.tempKey,
          UploadId: uploadId,
          ...(marker ? { PartNumberMarker: marker } : {}),
        }),
      );
      for (const p of res.Parts ?? []) if (p.PartNumber && p.ETag) parts.set(p.PartNumber, p.ETag);
      if (!res.IsTruncated || !res.NextPartNumberMarker) return parts;
      marker = String(res.NextPartNumberMarker);
    }
  }

  /** Takes over a checkpoint's upload if S3 still has exactly the parts it lists. */
  private async adopt(c: S3Checkpoint): Promise<boolean> {
    const consistent =
      c.partSize % 64 === 0 &&
      c.parts.every((p, i) => p.n === i + 1 && p.size === c.partSize) &&
      c.hash.bytes === c.parts.length * c.partSize;
    if (!consistent) return false;
    let listed: Map<number, string>;
    try {
      listed = await this.listParts(c.uploadId);
    } catch (err) {
      if (!isNotFound(err)) throw storageFailure('listing the parts of an earlier upload', err);
      return false; // aborted or expired
    }
    if (!c.parts.every((p) => listed.get(p.n) === p.etag)) return false;
    this.uploadId = c.uploadId;
    this.partSize = c.partSize;
    this.hashFrom = c.hash;
    this.newlines = c.newlines;
    this.accepted = c.hash.bytes;
    for (const p of c.parts) this.done.set(p.n, p);
    this.contiguous = c.parts.length;
    this.nextPart = c.parts.length + 1;
    this.latest = c;
    this.ctx.log.info(
      { key: this.tempKey, parts: c.parts.length, resumeFrom: c.hash.bytes },
      'resuming the multipart upload of an earlier attempt',
    );
    return true;
  }

  private async abortUploadsExcept(keep: string | undefined): Promise<void> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const res = await this.ctx.client
        .send(
          new ListMultipartUploadsCommand({
            Bucket: this.ctx.bucket,
            Prefix: this.tempKey,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        )
        .catch((err: unknown) => {
          throw storageFailure('listing multipart uploads', err);
        });
      for (const u of res.Uploads ?? []) {
        if (u.Key !== this.tempKey || !u.UploadId || u.UploadId === keep) continue;
        await this.abort(u.UploadId);
        this.ctx.log.info({ key: this.tempKey }, 'aborted an abandoned multipart upload of this file');
      }
      if (!res.IsTruncated) return;
      keyMarker = res.NextKeyMarker;
      uploadIdMarker = res.NextUploadIdMarker;
    }
  }

  private async abort(uploadId: string): Promise<void> {
    await this.ctx.client
      .send(
        new AbortMultipartUploadCommand({ Bucket: this.ctx.bucket, Key: this.tempKey, UploadId: uploadId }),
      )
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw storageFailure('aborting a multipart upload', err);
      });
  }

  // ---- streaming ----------------------------------------------------------------------------------------

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
    });
    this.pending = run.catch(() => undefined);
    return run;
  }

  /**
   * A free part buffer, or a new one. Shared memory, so the hashing thread reads it without a copy. At most
   * concurrentParts + 1 exist: dispatchPart waits for an upload slot before the next part starts filling,
   * and a slot frees only after its buffer went back to `freeParts`.
   */
  private takePartBuffer(): Buffer {
    return this.freeParts.pop() ?? Buffer.from(new SharedArrayBuffer(this.partSize));
  }

  private async ensureUpload(): Promise<string> {
    if (this.uploadId) return this.uploadId;
    try {
      const res = await this.ctx.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.ctx.bucket,
          Key: this.tempKey,
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      if (!res.UploadId) throw new Error('CreateMultipartUpload returned no upload id');
      this.uploadId = res.UploadId;
      return res.UploadId;
    } catch (err) {
      throw storageFailure('starting a multipart upload', err);
    }
  }

  /** Hands the buffered bytes to an upload slot, waiting for one (this is the stream's backpressure). */
  private async dispatchPart(last: boolean): Promise<void> {
    const buffer = this.part ?? this.takePartBuffer();
    const body = buffer.subarray(0, this.buffered);
    this.part = undefined;
    this.buffered = 0;
    const n = this.nextPart++;
    const boundary: { hash?: Sha256Checkpoint; newlines: number } = { newlines: this.newlines };
    if (!last) this.boundaries.set(n, boundary);
    // Posted now, in byte order; hashing runs on its thread while the part uploads.
    this.hasher ??= new ThreadedSha256(this.hashFrom);
    const hashed = this.hasher.update(body, !last);
    hashed.catch(() => undefined); // observed below; a rejection before then must not go unhandled
    const uploadId = await this.ensureUpload();
    while (this.inFlight.size >= this.ctx.concurrentParts) await Promise.race(this.inFlight);
    if (this.failed) throw this.failed;
    // The buffer is reused only once both the upload and the hashing thread are done reading it; it goes
    // back before the slot frees, so the part filling next can take it.
    const task: Promise<void> = Promise.allSettled([this.uploadPart(uploadId, n, body), hashed])
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
        this.advanceCheckpoint(uploadId);
      })
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async uploadPart(uploadId: string, n: number, body: Buffer) {
    const sha256 = createHash('sha256').update(body).digest('base64');
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.ctx.client.send(
          new UploadPartCommand({
            Bucket: this.ctx.bucket,
            Key: this.tempKey,
            UploadId: uploadId,
            PartNumber: n,
            Body: body,
            ContentLength: body.length,
            ChecksumAlgorithm: 'SHA256',
            ChecksumSHA256: this.ctx.partChecksum?.({ partNumber: n, attempt, sha256 }) ?? sha256,
          }),
        );
        if (!res.ETag) throw new Error(`UploadPart ${n} returned no ETag`);
        return { n, etag: res.ETag, sha256, size: body.length };
      } catch (err) {
        if (attempt >= this.ctx.partAttempts || !worthResending(err))
          throw storageFailure(`uploading part ${n} (${attempt} attempt${attempt > 1 ? 's' : ''})`, err);
        this.ctx.log.warn(
          { key: this.tempKey, part: n, attempt, code: errorCode(err), status: httpStatus(err) },
          'part refused or interrupted; sending it again',
        );
        await this.ctx.sleep(200 * attempt);
      }
    }
  }

  private advanceCheckpoint(uploadId: string): void {
    let c = this.contiguous;
    while (this.done.has(c + 1)) c++;
    if (c === this.contiguous || uploadId !== this.uploadId) return;
    const boundary = this.boundaries.get(c);
    if (!boundary?.hash) return; // the short last part: commit follows, nothing to resume
    for (let i = this.contiguous + 1; i <= c; i++) this.boundaries.delete(i);
    this.contiguous = c;
    this.latest = {
      v: 1,
      bucket: this.ctx.bucket,
      key: this.tempKey,
      uploadId,
      partSize: this.partSize,
      parts: Array.from({ length: c }, (_, i) => this.done.get(i + 1)!),
      hash: boundary.hash,
      newlines: boundary.newlines,
    };
    this.saveCheckpointSoon();
  }

  /** Writes the latest checkpoint object; one write at a time, coalescing those that queue up. */
  private saveCheckpointSoon(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.saving = this.saving.then(async () => {
      this.saveQueued = false;
      const cp = this.latest;
      if (!cp || this.closed) return;
      await this.ctx.client
        .send(
          new PutObjectCommand({
            Bucket: this.ctx.bucket,
            Key: this.checkpointKey,
            Body: JSON.stringify(cp),
            ContentType: 'application/json',
          }),
        )
        .catch((err: unknown) => {
          // Only resumability suffers (the heartbeat still carries the checkpoint): not worth failing for.
          this.ctx.log.warn({ code: errorCode(err) }, 'could not save the upload checkpoint');
        });
    });
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  settle(): Promise<void> {
    return this.pending;
  }

  // ---- end states ---------------------------------------------------------------------------------------

  private async dropUpload(): Promise<void> {
    await this.settle();
    await this.drain();
    await this.saving;
    await this.stopHasher();
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (uploadId) await this.abort(uploadId);
    await this.deleteObject(this.checkpointKey);
    if (this.tempCompleted) await this.deleteObject(this.tempKey);
  }

  private async stopHasher(): Promise<void> {
    const hasher = this.hasher;
    this.hasher = undefined;
    await hasher?.close();
  }

  async truncate(): Promise<void> {
    await this.dropUpload();
    this.hashFrom = undefined;
    this.newlines = 0;
    this.accepted = 0;
    this.part = undefined;
    this.buffered = 0;
    // A resumed upload may have used another part size; buffers of the old size are of no use.
    this.freeParts = [];
    this.nextPart = 1;
    this.done.clear();
    this.boundaries.clear();
    this.contiguous = 0;
    this.failed = undefined;
    this.latest = undefined;
    this.partSize = this.ctx.partSize;
  }

  private async deleteObject(key: string): Promise<void> {
    await this.ctx.client
      .send(new DeleteObjectCommand({ Bucket: this.ctx.bucket, Key: key }))
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw storageFailure('deleting a temporary object', err);
      });
  }

  private async head(key: string): Promise<{ sha256?: string } | undefined> {
    try {
      const res = await this.ctx.client.send(new HeadObjectCommand({ Bucket: this.ctx.bucket, Key: key }));
      return { sha256: res.Metadata?.sha256 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageFailure('checking for an existing object', err);
    }
  }

  async commit(finalName?: string): Promise<CommittedFile> {
    await this.settle();
    if (this.failed) throw this.failed;
    const file = sanitizeFileName(finalName ?? this.name);
    const bytes = this.accepted;
    if (this.buffered > 0) await this.dispatchPart(true);
    await this.drain();
    if (this.failed) throw this.failed;
    const sha256 = this.hasher
      ? await this.hasher.digestHex()
      : new ResumableSha256(this.hashFrom).digestHex(); // no new bytes: empty, or all uploaded before
    await this.stopHasher();

    // Pick the key: the same content already there is success without a write; other content is never
    // overwritten.
    let target = file;
    for (let version = 2; ; version++) {
      const existing = await this.head(joinKey(this.dir, target));
      if (!existing) break;
      if (existing.sha256 === sha256) {
        await this.dropUpload();
        this.closed = true;
        this.ctx.log.info({ key: joinKey(this.dir, target) }, 'identical object already stored; not writing');
        return this.result(target, bytes, sha256, 'already-present');
      }
      target = `${file}.v${version}`;
    }
    const finalKey = joinKey(this.dir, target);
    const metadata = { sha256, bytes: String(bytes) };
    const contentType = contentTypeFor(file);

    if (bytes === 0) {
      // A multipart upload needs at least one part; an empty file is one empty PUT.
      await this.dropUpload();
      await this.ctx.client
        .send(
          new PutObjectCommand({
            Bucket: this.ctx.bucket,
            Key: finalKey,
            Body: Buffer.alloc(0),
            Metadata: metadata,
            ContentType: contentType,
          }),
        )
        .catch((err: unknown) => {
          throw storageFailure('storing an empty file', err);
        });
    } else {
      const uploadId = this.uploadId!;
      const parts: CompletedPart[] = [...this.done.values()]
        .sort((a, b) => a.n - b.n)
        .map((p) => ({ PartNumber: p.n, ETag: p.etag, ChecksumSHA256: p.sha256 }));
      try {
        await this.saving;
        await this.ctx.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.ctx.bucket,
            Key: this.tempKey,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      } catch (err) {
        throw storageFailure('completing the multipart upload', err);
      }
      this.uploadId = undefined;
      this.tempCompleted = true;
      await this.copyToFinal(finalKey, bytes, metadata, contentType);
      await this.deleteObject(this.tempKey);
      this.tempCompleted = false;
      await this.deleteObject(this.checkpointKey);
    }
    this.closed = true;
    return this.result(target, bytes, sha256);
  }

  private result(file: string, bytes: number, sha256: string, skipped?: 'already-present'): CommittedFile {
    const key = joinKey(this.dir, file);
    return {
      file,
      path: key,
      location: this.uri(key),
      bytes,
      sha256,
      newlines: this.newlines,
      ...(skipped ? { skipped } : {}),
    };
  }

  private async copyToFinal(
    finalKey: string,
    bytes: number,
    metadata: Record<string, string>,
    contentType: string,
  ): Promise<void> {
    const source = `${this.ctx.bucket}/${encodeURIComponent(this.tempKey).replace(/%2F/g, '/')}`;
    const common = { Bucket: this.ctx.bucket, Key: finalKey };
    try {
      if (bytes <= this.ctx.singleCopyMaxBytes) {
        await this.ctx.client.send(
          new CopyObjectCommand({
            ...common,
            CopySource: source,
            MetadataDirective: 'REPLACE',
            Metadata: metadata,
            ContentType: contentType,
            ChecksumAlgorithm: 'SHA256',
          }),
        );
        return;
      }
      // No checksum algorithm on this upload: its parts are server-side copies of parts the server has
      // already verified, and some stores (MinIO) return no per-part checksum for a copy.
      const created = await this.ctx.client.send(
        new CreateMultipartUploadCommand({ ...common, Metadata: metadata, ContentType: contentType }),
      );
      const uploadId = created.UploadId!;
      try {
        const parts: CompletedPart[] = [];
        const size = Math.max(COPY_PART_SIZE, Math.ceil(bytes / 10_000));
        for (let start = 0, n = 1; start < bytes; start += size, n++) {
          const end = Math.min(bytes, start + size) - 1;
          const res = await this.ctx.client.send(
            new UploadPartCopyCommand({
              ...common,
              UploadId: uploadId,
              PartNumber: n,
              CopySource: source,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          );
          parts.push({ PartNumber: n, ETag: res.CopyPartResult?.ETag });
        }
        await this.ctx.client.send(
          new CompleteMultipartUploadCommand({
            ...common,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      } catch (err) {
        await this.ctx.client
          .send(new AbortMultipartUploadCommand({ ...common, UploadId: uploadId }))
          .catch(() => undefined);
        throw err;
      }
    } catch (err) {
      throw storageFailure('copying the upload to its final key', err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A failed attempt leaves nothing behind. (A killed one cannot clean up; the next attempt resumes or
    // aborts its upload, see open().)
    await this.dropUpload();
  }

  async discard(): Promise<void> {
    await this.close();
  }
}

export function createS3Storage(opts: S3StorageOptions): ExportStorage {
  const partSize = opts.partSizeBytes ?? DEFAULT_PART_SIZE;
  if (partSize % 64 !== 0 || partSize < MIN_PART_SIZE)
    throw new Error('partSizeBytes must be a multiple of 64 and at least 5 MiB');
  const ctx: Ctx = {
    client: opts.client,
    bucket: opts.bucket,
    partSize,
    concurrentParts: Math.max(1, opts.concurrentParts ?? 4),
    partAttempts: Math.max(1, opts.partAttempts ?? 3),
    singleCopyMaxBytes: Math.min(opts.singleCopyMaxBytes ?? SINGLE_COPY_LIMIT, SINGLE_COPY_LIMIT),
    log: opts.log ?? silentLog,
    sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    partChecksum: opts.partChecksum,
  };
  const prefix = joinKey(opts.prefix ?? '');
  const { client, bucket } = ctx;

  const scoped = (dir: string): ExportStorage => {
    const keyOf = (name: string) => joinKey(dir, sanitizeFileName(name));
    const manifestKey = (file: string) => `${keyOf(file)}.manifest.json`;

    const exists = async (name: string): Promise<boolean> => {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(name) }));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw storageFailure('checking for an object', err);
      }
    };

    const readManifest = async (file: string): Promise<Manifest | undefined> => {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(file) }));
        return JSON.parse((await res.Body?.transformToString('utf8')) ?? 'null') as Manifest;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw storageFailure('reading a manifest', err);
      }
    };

    return {
      location: `s3://${bucket}/${dir}`,
      kind: 's3',
      within: (placement) => scoped(partitionPrefix(prefix, placement)),

      async openWriter(name: string, openOpts: OpenWriterOptions = {}): Promise<StorageWriter> {
        const writer = new S3Writer(ctx, dir, sanitizeFileName(name));
        await writer.open(openOpts);
        return writer;
      },

      exists,
      readManifest,

      async writeManifest(file: string, manifest: Manifest): Promise<string> {
        const key = manifestKey(file);
        try {
          // A single PUT is atomic: readers see the whole manifest or none.
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: `${JSON.stringify(manifest, null, 2)}\n`,
              ContentType: 'application/json',
            }),
          );
        } catch (err) {
          throw storageFailure('writing the manifest', err);
        }
        return `s3://${bucket}/${key}`;
      },

      async findManifest(base: string): Promise<Manifest | undefined> {
        const start = joinKey(dir, `${sanitizeFileName(base)}.`);
        const keys: string[] = [];
        let token: string | undefined;
        do {
          const res = await client
            .send(
              new ListObjectsV2Command({
                Bucket: bucket,
                Prefix: start,
                ...(token ? { ContinuationToken: token } : {}),
              }),
            )
            .catch((err: unknown) => {
              throw storageFailure('listing manifests', err);
            });
          for (const o of res.Contents ?? []) if (o.Key?.endsWith('.manifest.json')) keys.push(o.Key);
          token = res.IsTruncated ? res.NextContinuationToken : undefined;
        } while (token);
        for (const key of keys.sort()) {
          const file = key.slice(dir ? dir.length + 1 : 0, -'.manifest.json'.length);
          const manifest = await readManifest(file);
          // A manifest is only trusted when its object is there too.
          if (manifest && (await exists(manifest.file))) return manifest;
        }
        return undefined;
      },
    };
  };

  return scoped(prefix);
}
