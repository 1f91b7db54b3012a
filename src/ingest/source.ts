// Reading an ingest file from where it lives: a local path or an S3 object. Always as a stream from a byte
// offset, so a slice of a large file is read without the rest.
import { createReadStream } from 'node:fs';
import { stat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describeSource, IngestSourceKind, type IngestSource } from '../contract/ingest';
import { formatOfName } from './format';

/** Connection settings of the S3 store ingest reads from (credentials: the AWS SDK's default chain). */
export interface IngestS3Settings {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

export interface SourceRange {
  /** First byte. */
  start: number;
  /** Last byte, inclusive; to the end of the file when absent. */
  end?: number;
}

export class SourceUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceUnavailableError';
  }
}

/** A stream of the source's bytes in `range`. */
export async function openSource(source: IngestSource, range: SourceRange, s3?: S3Client): Promise<Readable> {
  if (source.kind === IngestSourceKind.local) {
    return createReadStream(source.path, {
      start: range.start,
      ...(range.end !== undefined ? { end: range.end } : {}),
      highWaterMark: 256 * 1024,
    });
  }
  if (!s3) throw new SourceUnavailableError('no S3 client is configured for s3:// sources');
  const res = await s3.send(
    new GetObjectCommand({
      Bucket: source.bucket,
      Key: source.key,
      Range: `bytes=${range.start}-${range.end ?? ''}`,
    }),
  );
  if (!res.Body) throw new SourceUnavailableError(`s3://${source.bucket}/${source.key}: empty response`);
  return res.Body as Readable;
}

/** Size of the source in bytes. */
export async function sourceSize(source: IngestSource, s3?: S3Client): Promise<number> {
  if (source.kind === IngestSourceKind.local) return (await stat(source.path)).size;
  if (!s3) throw new SourceUnavailableError('no S3 client is configured for s3:// sources');
  const head = await s3.send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key }));
  return Number(head.ContentLength ?? 0);
}

const S3_URL = /^s3:\/\/([^/]+)\/?(.*)$/;

/** `s3://bucket/prefix` -> its parts, or undefined when the argument is not an s3 URL. */
export function parseS3Url(arg: string): { bucket: string; prefix: string } | undefined {
  const m = S3_URL.exec(arg);
  return m ? { bucket: m[1], prefix: m[2] } : undefined;
}

/** Files to ingest named by one CLI argument: a file, a directory (its files, not recursive), an S3 prefix. */
export async function expandArgument(arg: string, s3?: () => S3Client): Promise<IngestSource[]> {
  const url = parseS3Url(arg);
  if (url) {
    if (!s3) throw new SourceUnavailableError('no S3 client is configured for s3:// sources');
    const client = s3();
    const out: IngestSource[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: url.bucket,
          Prefix: url.prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key && formatOfName(o.Key))
          out.push({ kind: IngestSourceKind.s3, bucket: url.bucket, key: o.Key });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => describeSource(a).localeCompare(describeSource(b)));
  }
  const abs = path.resolve(arg);
  const st = await stat(abs);
  if (st.isDirectory()) {
    const names = (await readdir(abs)).filter((n) => formatOfName(n) !== undefined).sort();
    const files: IngestSource[] = [];
    for (const n of names) {
      const p = path.join(abs, n);
      if ((await stat(p)).isFile()) files.push({ kind: IngestSourceKind.local, path: p });
    }
    return files;
  }
  return [{ kind: IngestSourceKind.local, path: abs }];
}

/** The file name shown for a source. */
export function sourceName(source: IngestSource): string {
  return source.kind === IngestSourceKind.local
    ? path.basename(source.path)
    : path.posix.basename(source.key);
}
