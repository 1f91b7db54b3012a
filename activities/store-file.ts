// The one path that stores an exported file with its manifest, for every kind of export: find a manifest a
// previous attempt committed (its completion may have been lost), else stream the file from a download URL
// into storage, then write the manifest beside it. The URL is fetched inside the activity and never leaves
// it, so it never reaches workflow history.
import { Context } from '@temporalio/activity';
import type { ExportStorage, Manifest } from '../src/storage/types';
import type { ActivityLogger, Clock } from './deps';
import { streamDownloadToStorage, type StreamDownloadResult } from './download';
import type { UrlPolicy } from '../src/net/url-guard';
import { downloadAttempt, type DownloadAttempt, type DownloadSettings } from './download-attempt';

/** The manifest fields that describe the export, not the stored file or the timing. */
export type ExportFacts = Omit<
  Manifest,
  | 'file'
  | 'path'
  | 'location'
  | 'skipped'
  | 'bytes'
  | 'sha256'
  | 'rows'
  | 'contentType'
  | 'startedAt'
  | 'completedAt'
>;

export interface StoreFileOptions {
  storage: ExportStorage;
  /** File name without extension; deterministic, so a retry resumes the same partial file. */
  base: string;
  /** Used when the response names no type. */
  defaultExt: string;
  /** A fresh download URL (called again when one expires mid-transfer). */
  fetchUrl: () => Promise<string>;
  /** Which URLs may be fetched (src/net/url-guard.ts). */
  urlPolicy: UrlPolicy;
  /** Whether a manifest found under `base` was written by this same export (then it is returned as is). */
  isOwnManifest(manifest: Manifest): boolean;
  facts: ExportFacts;
  log: ActivityLogger;
  clock: Clock;
  /** Log line when the file is stored. */
  storedMessage: string;
  /** The worker's download limits and slots. */
  downloads?: DownloadSettings;
}

export async function storeFileWithManifest(opts: StoreFileOptions): Promise<Manifest> {
  const { stop, ...attempt } = downloadAttempt(Context.current(), opts.downloads);
  try {
    return await storeFile(opts, attempt);
  } finally {
    stop();
  }
}

async function storeFile(opts: StoreFileOptions, attempt: Omit<DownloadAttempt, 'stop'>): Promise<Manifest> {
  const { storage, log, clock } = opts;
  const existing = await storage.findManifest(opts.base);
  if (existing && opts.isOwnManifest(existing)) {
    log.info(
      { workflowId: existing.workflowId, file: existing.file },
      'file already stored; returning its manifest',
    );
    return existing;
  }
  const startedAt = new Date(clock.now()).toISOString();
  const result = await streamDownloadToStorage({
    storage,
    base: opts.base,
    defaultExt: opts.defaultExt,
    fetchUrl: opts.fetchUrl,
    urlPolicy: opts.urlPolicy,
    log,
    clock,
    ...attempt,
  });
  const { committed } = result;
  const manifest: Manifest = {
    ...opts.facts,
    ...storedFileFields(result),
    startedAt,
    completedAt: new Date(clock.now()).toISOString(),
  };
  await storage.writeManifest(committed.file, manifest);
  log.info(
    {
      workflowId: manifest.workflowId,
      ...(manifest.jobId ? { jobId: manifest.jobId } : {}),
      location: committed.location,
      file: committed.file,
      bytes: committed.bytes,
      sha256: committed.sha256,
      urlRefreshes: result.urlRefreshes,
      resumes: result.resumes,
    },
    opts.storedMessage,
  );
  return manifest;
}

export function rowsFromNewlines(file: string, newlines: number, compressed: boolean): number | undefined {
  if (compressed) return undefined;
  if (/\.(csv|tsv)$/i.test(file)) return Math.max(0, newlines - 1);
  if (/\.(jsonl|ndjson)$/i.test(file)) return newlines;
  return undefined;
}

/** The manifest's fields that describe the stored file, the same for every kind of export. */
export function storedFileFields(result: StreamDownloadResult) {
  const { committed } = result;
  return {
    file: committed.file,
    path: committed.path,
    ...(committed.location ? { location: committed.location } : {}),
    ...(committed.skipped ? { skipped: committed.skipped } : {}),
    bytes: committed.bytes,
    sha256: committed.sha256,
    rows: rowsFromNewlines(committed.file, committed.newlines, result.compressed),
    contentType: result.contentType,
  };
}
