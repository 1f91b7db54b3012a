// What every part of an S3 writer shares: the client, the bucket and the tuning, resolved once by the
// factory (./index.ts) from S3StorageOptions.
import type { S3Client } from '@aws-sdk/client-s3';

export const MiB = 1024 * 1024;

export interface StorageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export const silentLog: StorageLogger = { info: () => undefined, warn: () => undefined };

/** The SHA-256 (base64) sent with a part, given the right one (a test hook, see S3StorageOptions). */
export type PartChecksumHook = (part: { partNumber: number; attempt: number; sha256: string }) => string;

export interface Ctx {
  client: S3Client;
  bucket: string;
  partSize: number;
  concurrentParts: number;
  partAttempts: number;
  singleCopyMaxBytes: number;
  log: StorageLogger;
  sleep: (ms: number) => Promise<void>;
  partChecksum?: PartChecksumHook;
}
