// Making a completed upload visible: pick the final key (never overwrite: same content already there is
// success without a write, other content goes to `.v2`, `.v3`, ...). An upload that went straight to that
// key is completed there; one that went to the temporary key is completed and copied server-side to it,
// with the whole-file SHA-256 in its metadata, which S3 takes only when an object is created.
import { createHash } from 'node:crypto';
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
import type { UploadedPart } from './checkpoint';
import type { Ctx } from './context';
import { MiB } from './context';
import { isNotFound, storageFailure } from './errors';
import { joinKey } from './layout';

/** S3's limit for a single CopyObject; larger objects are copied part by part. */
export const SINGLE_COPY_LIMIT = 5 * 1024 * MiB;
const COPY_PART_SIZE = 512 * MiB;

interface ExistingObject {
  /** The whole-file SHA-256 (hex) in user metadata: objects that were copied to their key have it. */
  sha256?: string;
  /** S3's own SHA-256 checksum: the whole object's (base64), or of its parts (`<base64>-<parts>`). */
  checksum?: string;
}

async function head(ctx: Ctx, key: string): Promise<ExistingObject | undefined> {
  try {
    const res = await ctx.client.send(
      new HeadObjectCommand({ Bucket: ctx.bucket, Key: key, ChecksumMode: 'ENABLED' }),
    );
    return { sha256: res.Metadata?.sha256, checksum: res.ChecksumSHA256 };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw storageFailure('checking for an existing object', err);
  }
}

/** Whether an object is at `key`. */
export async function objectExists(ctx: Ctx, key: string): Promise<boolean> {
  return (await head(ctx, key)) !== undefined;
}

/** What S3 reports as the SHA-256 checksum of an object uploaded in these parts: the digest of their digests. */
export function partsChecksum(parts: UploadedPart[]): string {
  const h = createHash('sha256');
  for (const p of [...parts].sort((a, b) => a.n - b.n)) h.update(Buffer.from(p.sha256, 'base64'));
  return `${h.digest('base64')}-${parts.length}`;
}

/** The content being committed: its whole-file SHA-256 (hex) and the parts it was uploaded in. */
export interface CommittedContent {
  sha256: string;
  parts: UploadedPart[];
}

function sameContent(existing: ExistingObject, content: CommittedContent): boolean {
  if (existing.sha256 !== undefined) return existing.sha256 === content.sha256;
  if (existing.checksum === undefined) return false;
  // Part checksums match only for the same bytes cut at the same part size; another size writes a `.vN`.
  return (
    existing.checksum === Buffer.from(content.sha256, 'hex').toString('base64') ||
    (content.parts.length > 0 && existing.checksum === partsChecksum(content.parts))
  );
}

/** The file name to commit to, and whether an identical object is already there. */
export async function chooseTarget(
  ctx: Ctx,
  dir: string,
  file: string,
  content: CommittedContent,
): Promise<{ target: string; present: boolean }> {
  let target = file;
  for (let version = 2; ; version++) {
    const existing = await head(ctx, joinKey(dir, target));
    if (!existing) return { target, present: false };
    if (sameContent(existing, content)) return { target, present: true };
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
