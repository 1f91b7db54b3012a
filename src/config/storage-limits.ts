// Settings that bound what one worker's downloads may take: concurrent downloads (memory), bytes per
// export, free space left in EXPORT_DIR, minimum throughput, and the S3 request timeout. Part of the
// worker's configuration (./config.ts spreads this shape into its own, so one error lists every problem).
import { z } from 'zod';
import { parseDuration } from './durations';

export type Env = Record<string, string | undefined>;

export interface DownloadConfig {
  /** Downloads streaming at once in one worker (MAX_CONCURRENT_DOWNLOADS). */
  maxConcurrent: number;
  /** Largest file one export may store; none when unset. */
  maxBytes?: number;
  /** Free bytes a local download must leave in EXPORT_DIR. */
  minFreeBytes: number;
  /** Minimum throughput over `throughputWindowMs`; 0 turns the check off. */
  minBytesPerSecond: number;
  throughputWindowMs: number;
  /** Every S3 request (connection and idle socket) times out after this. */
  s3RequestTimeoutMs: number;
}

export const STORAGE_LIMIT_DEFAULTS = {
  MAX_CONCURRENT_DOWNLOADS: '8',
  EXPORT_DIR_MIN_FREE_BYTES: '64MiB',
  DOWNLOAD_MIN_BYTES_PER_SECOND: '16KiB',
  DOWNLOAD_THROUGHPUT_WINDOW: '2m',
  EXPORT_S3_REQUEST_TIMEOUT: '2m',
} as const;

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};
const BYTES_RULE =
  'must be a whole number of bytes, optionally with a unit: B, KiB, MiB, GiB, TiB (e.g. 64MiB)';

/** `64MiB` -> 67108864; undefined for anything else. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+)\s*(B|KiB|MiB|GiB|TiB)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2] ?? ''];
  return Number.isSafeInteger(n) ? n : undefined;
}

const bytesText = (min: number) =>
  z
    .string()
    .trim()
    .refine((v) => (parseBytes(v) ?? -1) >= min, {
      error: min > 0 ? `${BYTES_RULE}, at least ${min}` : BYTES_RULE,
    });
const toBytes = (v: string) => parseBytes(v)!;

const durationText = () =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return parseDuration(v) > 0;
        } catch {
          return false;
        }
      },
      { error: 'must be a duration such as 90s, 5m or 1h30m' },
    );

export const storageLimitsShape = {
  MAX_CONCURRENT_DOWNLOADS: z
    .string()
    .trim()
    .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1000, {
      error: 'must be an integer from 1 to 1000',
    })
    .default(STORAGE_LIMIT_DEFAULTS.MAX_CONCURRENT_DOWNLOADS)
    .transform(Number),
  EXPORT_MAX_BYTES: bytesText(1).transform(toBytes).optional(),
  EXPORT_DIR_MIN_FREE_BYTES: bytesText(0)
    .default(STORAGE_LIMIT_DEFAULTS.EXPORT_DIR_MIN_FREE_BYTES)
    .transform(toBytes),
  DOWNLOAD_MIN_BYTES_PER_SECOND: bytesText(0)
    .default(STORAGE_LIMIT_DEFAULTS.DOWNLOAD_MIN_BYTES_PER_SECOND)
    .transform(toBytes),
  DOWNLOAD_THROUGHPUT_WINDOW: durationText()
    .default(STORAGE_LIMIT_DEFAULTS.DOWNLOAD_THROUGHPUT_WINDOW)
    .transform(parseDuration),
  EXPORT_S3_REQUEST_TIMEOUT: durationText()
    .default(STORAGE_LIMIT_DEFAULTS.EXPORT_S3_REQUEST_TIMEOUT)
    .transform(parseDuration),
};

export function toDownloadConfig(v: z.output<z.ZodObject<typeof storageLimitsShape>>): DownloadConfig {
  return {
    maxConcurrent: v.MAX_CONCURRENT_DOWNLOADS,
    ...(v.EXPORT_MAX_BYTES !== undefined ? { maxBytes: v.EXPORT_MAX_BYTES } : {}),
    minFreeBytes: v.EXPORT_DIR_MIN_FREE_BYTES,
    minBytesPerSecond: v.DOWNLOAD_MIN_BYTES_PER_SECOND,
    throughputWindowMs: v.DOWNLOAD_THROUGHPUT_WINDOW,
    s3RequestTimeoutMs: v.EXPORT_S3_REQUEST_TIMEOUT,
  };
}

/** These settings alone (the values the worker would use for `env`); throws on invalid values. */
export function loadDownloadConfig(env: Env = process.env): DownloadConfig {
  return toDownloadConfig(z.object(storageLimitsShape).parse(env));
}
