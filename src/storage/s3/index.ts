// S3-compatible object storage for exported files (AWS S3, MinIO, ...), behind the same interface as the
// local directory. How it works (layout, atomic appearance, integrity, resume, memory) is in
// docs/storage.md, "S3 storage"; each file here has one part of it.
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { sanitizeFileName } from '../names';
import type { ExportStorage, Manifest, OpenWriterOptions, StorageWriter } from '../types';
import { SINGLE_COPY_LIMIT } from './commit';
import { MiB, silentLog, type Ctx, type PartChecksumHook, type StorageLogger } from './context';
import { isNotFound, storageFailure } from './errors';
import { joinKey, partitionPrefix } from './layout';
import { S3Writer } from './writer';

export { partitionPrefix } from './layout';
export type { S3Checkpoint } from './checkpoint';
export type { StorageLogger } from './context';

export const DEFAULT_PART_SIZE = 8 * MiB;
/** S3 refuses parts under 5 MiB except the last one. */
const MIN_PART_SIZE = 5 * MiB;

/** Connection settings (credentials are never here: the AWS SDK's default provider chain finds them). */
export interface S3Settings {
  bucket: string;
  prefix?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

/**
 * How long a connection may take to open, and a request may go without a byte either way, unless
 * configured. Generous: a server-side copy of a large object may answer only when it is done.
 */
export const DEFAULT_S3_REQUEST_TIMEOUT_MS = 120_000;

export function createS3Client(
  settings: Omit<S3Settings, 'bucket' | 'prefix'> & { requestTimeoutMs?: number },
): S3Client {
  const timeout = settings.requestTimeoutMs ?? DEFAULT_S3_REQUEST_TIMEOUT_MS;
  return new S3Client({
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? false,
    // Every call: a hung connection or a server that stops answering fails the call (the SDK retries it)
    // instead of holding the download forever. `socketTimeout` is the idle timeout; the SDK's
    // `requestTimeout` only warns unless told to throw, and would bound a healthy slow transfer.
    requestHandler: { connectionTimeout: timeout, socketTimeout: timeout },
  });
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
  partChecksum?: PartChecksumHook;
}

function contextFrom(opts: S3StorageOptions): Ctx {
  const partSize = opts.partSizeBytes ?? DEFAULT_PART_SIZE;
  if (partSize % 64 !== 0 || partSize < MIN_PART_SIZE)
    throw new Error('partSizeBytes must be a multiple of 64 and at least 5 MiB');
  return {
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
}

export function createS3Storage(opts: S3StorageOptions): ExportStorage {
  const ctx = contextFrom(opts);
  const prefix = joinKey(opts.prefix ?? '');
  return scopedStorage(ctx, prefix, prefix);
}

/** The storage for one partition `dir` (the prefix itself until `within` picks a partition). */
function scopedStorage(ctx: Ctx, prefix: string, dir: string): ExportStorage {
  const { client, bucket } = ctx;
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

  const manifestKeysOf = async (base: string): Promise<string[]> => {
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
    return keys.sort();
  };

  return {
    location: `s3://${bucket}/${dir}`,
    kind: 's3',
    within: (placement) => scopedStorage(ctx, prefix, partitionPrefix(prefix, placement)),

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
      for (const key of await manifestKeysOf(base)) {
        const file = key.slice(dir ? dir.length + 1 : 0, -'.manifest.json'.length);
        const manifest = await readManifest(file);
        // A manifest is only trusted when its object is there too.
        if (manifest && (await exists(manifest.file))) return manifest;
      }
      return undefined;
    },
  };
}
