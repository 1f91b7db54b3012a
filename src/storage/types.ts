// Storage contract for exported files. Types only, so workflows may `import type` the Manifest.
import type { Writable } from 'node:stream';

import type { ExportKind, FileStorageMode } from '../contract/vocabulary';

export type ExportFileKind = ExportKind;

/** Where a committed file is and what it holds, as its manifest and the store's commit both state it. */
export interface StoredFile {
  /** File name inside the storage directory (local) or the object's partition (S3). */
  file: string;
  /** Local: absolute path of the file. S3: the object key inside the bucket. */
  path: string;
  /** Where the file is, as a URI: `file:///...` (local) or `s3://bucket/key` (S3). */
  location?: string;
  /**
   * Set when nothing new was stored: an identical object (same SHA-256) was already at the key, e.g. an
   * earlier attempt stored it and died before writing this manifest.
   */
  skipped?: 'already-present';
  bytes: number;
  /** Hex SHA-256 of the file's bytes as stored (computed while streaming). */
  sha256: string;
}

/** What is written beside every exported file as `<file>.manifest.json`, and what the workflows return. */
export interface Manifest extends StoredFile {
  workflowId: string;
  /** The m3ter ExportJob id; absent for the Data Explorer bill CSV, which has no job. */
  jobId?: string;
  kind: ExportFileKind;
  /** `USAGE` | `OPERATIONAL` for data exports, `BILLS_CSV` for the Data Explorer bill CSV. */
  sourceType: string;
  window?: { start?: string; end?: string };
  /** Data rows: newline-terminated lines minus the header for CSV, lines for JSONL; absent when not countable (gzip). */
  rows?: number;
  contentType?: string;
  /** When the download started and when the file was committed (ISO 8601). */
  startedAt: string;
  completedAt: string;
  /** The ExportJob's own timestamps, when known. */
  job?: { dateCreated?: string; startedAt?: string };
  /** The request that produced the file, without anything secret (requests carry no credentials anyway). */
  request?: Record<string, unknown>;
}

export interface CommittedFile extends StoredFile {
  /** Count of '\n' bytes in the file. */
  newlines: number;
}

/**
 * A file being written under a temporary name. Bytes are hashed and counted as they are written (after the
 * write to disk succeeded, so the counters always describe the bytes on disk). Nothing is visible under the
 * final name until `commit`.
 */
export interface StorageWriter {
  /** The (final) base name this writer was opened for. */
  readonly name: string;
  /** Bytes on disk in the temporary file, including bytes found there when resuming. */
  readonly bytesWritten: number;
  /**
   * The name `commit` will most likely be given, as soon as it is known (before the first byte where it
   * can be). S3 then uploads straight to that key when nothing is there and saves a server-side copy on
   * commit; local storage has no use for it. `commit` decides the name either way.
   */
  intendName?(finalName: string): void;
  /** A Writable for `pipeline()`; a fresh one per call, appending at `bytesWritten`. */
  createStream(): Writable;
  /** Waits for in-flight writes of destroyed streams so `bytesWritten` is exact. */
  settle(): Promise<void>;
  /** Drops everything written so far (server ignored our Range and sent the whole file again). */
  truncate(): Promise<void>;
  /**
   * Makes the file visible under `finalName` (default: `name`), atomically and never replacing a file: the
   * same content already there is `skipped: 'already-present'`, other content goes to `<file>.v2`, ...
   */
  commit(finalName?: string): Promise<CommittedFile>;
  /** Closes the file and keeps the partial data for a later attempt's resume. */
  close(): Promise<void>;
  /** Closes and deletes the partial data (the export failed for good or was cancelled). */
  discard(): Promise<void>;
  /**
   * Throws StorageInsufficientSpace unless `bytes` more fit with the configured free space to spare.
   * Storage without a meaningful free space (S3) has none.
   */
  ensureRoom?(bytes: number): Promise<void>;
  /**
   * Resume state to carry in the activity's heartbeat details (JSON), for storage whose partial data lives
   * somewhere the next attempt cannot find by name alone. Local storage has none: its partial file is it.
   */
  checkpoint?(): unknown;
}

export interface OpenWriterOptions {
  /** Resume from a partial file left by an earlier attempt (its bytes are re-hashed). Default true. */
  resume?: boolean;
  /** What `checkpoint()` returned in an earlier attempt (its last heartbeat details), if any. */
  checkpoint?: unknown;
}

/** Where a file belongs, for storage that partitions by export and window (S3 keys; local ignores it). */
export interface FilePlacement {
  /** The export's name; `adhoc` when it has none. */
  exportName?: string;
  /** The export window (ISO 8601); its start picks the `date=` (and, for hourly windows, `hour=`) partition. */
  window?: { start?: string; end?: string };
  /** Used for `date=` when the window has no start (operational exports): e.g. the job's creation time. */
  fallbackDate?: string;
}

export type StorageKind = FileStorageMode;

export interface ExportStorage {
  /** Human-readable location, for logs (a directory, or `s3://bucket/prefix`). */
  readonly location: string;
  readonly kind?: StorageKind;
  /** The same storage scoped to one file's partition (S3); absent when placement does not matter (local). */
  within?(placement: FilePlacement): ExportStorage;
  openWriter(name: string, opts?: OpenWriterOptions): Promise<StorageWriter>;
  exists(name: string): Promise<boolean>;
  /** Writes `<file>.manifest.json` atomically; returns its path. */
  writeManifest(file: string, manifest: Manifest): Promise<string>;
  readManifest(file: string): Promise<Manifest | undefined>;
  /** Finds a committed manifest for any file whose name starts with `base` + '.'. */
  findManifest(base: string): Promise<Manifest | undefined>;
}
