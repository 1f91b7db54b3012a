// Making a completed upload visible: pick the final key (never overwrite: same SHA-256 already there is
// success without a write, other content goes to `.v2`, `.v3`, ...), then copy the temporary object there
// server-side with the whole-file SHA-256 in its metadata, which S3 takes only when an object is created.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Ctx } from './context';
import { MiB } from './context';
import { isNotFound, storageFailure } from './errors';
import { joinKey } from './layout';

/** S3's limit for a single CopyObject; larger objects are copied part by part. */
export const SINGLE_COPY_LIMIT = 5 * 1024 * MiB;
const COPY_PART_SIZE = 512 * MiB;

async function head(ctx: Ctx, key: string): Promise<{ sha256?: string } | undefined> {
  try {
    const res = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
    return { sha256: res.Metadata?.sha256 };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw storageFailure('checking for an existing object', err);
  }
}

/** The file name to commit to, and whether an identical object is already there. */
export async function chooseTarget(
  ctx: Ctx,
  dir: string,
  file: string,
  sha256: string,
): Promise<{ target: string; present: boolean }> {
  let target = file;
  for (let version = 2; ; version++) {
    const existing = await head(ctx, joinKey(dir, target));
    if (!existing) return { target, present: false };
    if (existing.sha256 === sha256) return { target, present: true };
    target = `${file}.v${version}`;
  }
}

export interface FinalObject {
  key: string;
  bytes: number;
  metadata: Record<string, string>;
  contentType: string;
}

/** A multipart upload needs at least one part; an empty file is one empty PUT. */
export async function putEmpty(ctx: Ctx, final: FinalObject): Promise<void> {
  await ctx.client
    .send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: final.key,
        Body: Buffer.alloc(0),
        Metadata: final.metadata,
        ContentType: final.contentType,
      }),
    )
    .catch((err: unknown) => {
      throw storageFailure('storing an empty file', err);
    });
}

export async function copyToFinal(ctx: Ctx, tempKey: string, final: FinalObject): Promise<void> {
  const source = `${ctx.bucket}/${encodeURIComponent(tempKey).replace(/%2F/g, '/')}`;
  try {
    if (final.bytes <= ctx.singleCopyMaxBytes) {
      await ctx.client.send(
        new CopyObjectCommand({
          Bucket: ctx.bucket,
          Key: final.key,
          CopySource: source,
          MetadataDirective: 'REPLACE',
          Metadata: final.metadata,
          ContentType: final.contentType,
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      return;
    }
    await copyInParts(ctx, source, final);
  } catch (err) {
    throw storageFailure('copying the upload to its final key', err);
  }
}

async function copyInParts(ctx: Ctx, source: string, final: FinalObject): Promise<void> {
  const common = { Bucket: ctx.bucket, Key: final.key };
  // No checksum algorithm on this upload: its parts are server-side copies of parts the server has
  // already verified, and some stores (MinIO) return no per-part checksum for a copy.
  const created = await ctx.client.send(
    new CreateMultipartUploadCommand({ ...common, Metadata: final.metadata, ContentType: final.contentType }),
  );
  const uploadId = created.UploadId!;
  try {
    const parts: CompletedPart[] = [];
    const size = Math.max(COPY_PART_SIZE, Math.ceil(final.bytes / 10_000));
    for (let start = 0, n = 1; start < final.bytes; start += size, n++) {
      const end = Math.min(final.bytes, start + size) - 1;
      const res = await ctx.client.send(
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
    await ctx.client.send(
      new CompleteMultipartUploadCommand({
        ...common,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    await ctx.client
      .send(new AbortMultipartUploadCommand({ ...common, UploadId: uploadId }))
      .catch(() => undefined);
    throw err;
  }
}
