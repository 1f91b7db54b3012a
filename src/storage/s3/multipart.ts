// The multipart upload behind a temporary key: create, send a part (re-sent when the server refused its
// checksum or the connection broke), list, complete and abort. Each part carries its own SHA-256, which the
// server checks against the bytes it received.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { UploadedPart } from './checkpoint';
import type { Ctx } from './context';
import { contentTypeFor } from './layout';
import { errorCode, httpStatus, isNotFound, storageFailure, worthResending } from './errors';

export async function createUpload(ctx: Ctx, key: string): Promise<string> {
  try {
    const res = await ctx.client.send(
      new CreateMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: key,
        ChecksumAlgorithm: 'SHA256',
        // What a straight upload to the final key is served as; a temporary key is copied with its own.
        ContentType: contentTypeFor(key),
      }),
    );
    if (!res.UploadId) throw new Error('CreateMultipartUpload returned no upload id');
    return res.UploadId;
  } catch (err) {
    throw storageFailure('starting a multipart upload', err);
  }
}

export async function uploadPart(
  ctx: Ctx,
  key: string,
  uploadId: string,
  n: number,
  body: Buffer,
  /** The part's SHA-256 (base64), computed by the caller's hashing thread. */
  sha256: string,
): Promise<UploadedPart> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await ctx.client.send(
        new UploadPartCommand({
          Bucket: ctx.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: n,
          Body: body,
          ContentLength: body.length,
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: ctx.partChecksum?.({ partNumber: n, attempt, sha256 }) ?? sha256,
        }),
      );
      if (!res.ETag) throw new Error(`UploadPart ${n} returned no ETag`);
      return { n, etag: res.ETag, sha256, size: body.length };
    } catch (err) {
      if (attempt >= ctx.partAttempts || !worthResending(err))
        throw storageFailure(`uploading part ${n} (${attempt} attempt${attempt > 1 ? 's' : ''})`, err);
      ctx.log.warn(
        { key, part: n, attempt, code: errorCode(err), status: httpStatus(err) },
        'part refused or interrupted; sending it again',
      );
      await ctx.sleep(200 * attempt);
    }
  }
}

/** Part number -> ETag of every part S3 holds for the upload; throws NoSuchUpload once it is gone. */
export async function listParts(ctx: Ctx, key: string, uploadId: string): Promise<Map<number, string>> {
  const parts = new Map<number, string>();
  let marker: string | undefined;
  for (;;) {
    const res = await ctx.client.send(
      new ListPartsCommand({
        Bucket: ctx.bucket,
        Key: key,
        UploadId: uploadId,
        ...(marker ? { PartNumberMarker: marker } : {}),
      }),
    );
    for (const p of res.Parts ?? []) if (p.PartNumber && p.ETag) parts.set(p.PartNumber, p.ETag);
    if (!res.IsTruncated || !res.NextPartNumberMarker) return parts;
    marker = String(res.NextPartNumberMarker);
  }
}

/**
 * Completes the upload; with `ifAbsent`, only if no object has `key` by then (S3 answers 412 otherwise, and
 * this throws `FinalKeyTaken`).
 */
export async function completeUpload(
  ctx: Ctx,
  key: string,
  uploadId: string,
  done: Iterable<UploadedPart>,
  opts: { ifAbsent?: boolean } = {},
): Promise<void> {
  const parts: CompletedPart[] = [...done]
    .sort((a, b) => a.n - b.n)
    .map((p) => ({ PartNumber: p.n, ETag: p.etag, ChecksumSHA256: p.sha256 }));
  try {
    await ctx.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ...(opts.ifAbsent ? { IfNoneMatch: '*' } : {}),
      }),
    );
  } catch (err) {
    if (opts.ifAbsent && httpStatus(err) === 412) throw new FinalKeyTaken(key);
    throw storageFailure('completing the multipart upload', err);
  }
}

/** Another writer created the final key while this upload was on its way there. */
export class FinalKeyTaken extends Error {
  constructor(readonly key: string) {
    super(`another object appeared at ${key} during the upload`);
    this.name = 'FinalKeyTaken';
  }
}

export async function abortUpload(ctx: Ctx, key: string, uploadId: string): Promise<void> {
  await ctx.client
    .send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId }))
    .catch((err: unknown) => {
      if (!isNotFound(err)) throw storageFailure('aborting a multipart upload', err);
    });
}

/**
 * Aborts every upload under `prefix` whose key `isOurs` but `keep`: uploads nobody can resume, which would
 * linger as billed parts.
 */
export async function abortUploadsExcept(
  ctx: Ctx,
  prefix: string,
  isOurs: (key: string) => boolean,
  keep: string | undefined,
): Promise<void> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const res = await ctx.client
      .send(
        new ListMultipartUploadsCommand({
          Bucket: ctx.bucket,
          Prefix: prefix,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
        }),
      )
      .catch((err: unknown) => {
        throw storageFailure('listing multipart uploads', err);
      });
    for (const u of res.Uploads ?? []) {
      if (!u.Key || !isOurs(u.Key) || !u.UploadId || u.UploadId === keep) continue;
      await abortUpload(ctx, u.Key, u.UploadId);
      ctx.log.info({ key: u.Key }, 'aborted an abandoned multipart upload of this file');
    }
    if (!res.IsTruncated) return;
    keyMarker = res.NextKeyMarker;
    uploadIdMarker = res.NextUploadIdMarker;
  }
}
