// Streams one file from a presigned URL into storage, resumably.
//
// * The URL is a bearer credential: it is obtained by `fetchUrl` inside the activity, used here, and never
//   logged, returned or put into an error (messages carry `redactUrl(url)` at most).
// * Memory stays flat whatever the size: `pipeline` applies backpressure from the disk writer back to the
//   socket; the local writer gathers chunks into ~1 MiB writev batches (src/storage/local.ts).
// * SHA-256 and the line count are computed by the storage writer as bytes hit the disk.
// * Heartbeats carry `{ bytesWritten }` on a 1 s timer, not per chunk (a 1 GiB file is ~16k chunks).
// * An expired or rejected URL (403/401, or 404 from the object store) is re-fetched and the download
//   resumes with `Range: bytes=<written>-`. A 206 must start exactly at our offset; a 200 means the server
//   ignored the Range, so we restart from zero. Interrupted streams resume the same way.
// * Across activity retries the partial file is kept under its temporary name and re-hashed on open
//   (see src/storage/local.ts), then the download resumes from its size.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import axios, { type AxiosResponse } from 'axios';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { redactUrl } from '../src/log/redact';
import type { CommittedFile, ExportStorage } from '../src/storage/types';
import type { ActivityLogger, Clock } from './deps';
import { classifyHttpStatus, HttpOutcome } from '../src/contract/failures';
import { errorMessage, failure, FailureType } from './failures';

export interface StreamDownloadOptions {
  storage: ExportStorage;
  /** Deterministic base name of the file, without extension. */
  base: string;
  /** Extension used when neither the response nor the URL names one (e.g. '.csv'). */
  defaultExt: string;
  /** Returns a fresh presigned URL. Called once at the start and again whenever the URL stops working. */
  fetchUrl: () => Promise<string>;
  log: ActivityLogger;
  clock: Clock;
  /** `storage`: the writer's resume checkpoint (S3), carried to the next attempt as `checkpoint`. */
  heartbeat: (details: { bytesWritten: number; storage?: unknown }) => void;
  /** The `storage` of the previous attempt's last heartbeat details, if any. */
  checkpoint?: unknown;
  signal?: AbortSignal;
  heartbeatEveryMs?: number;
  /** URL re-fetches allowed in one activity attempt. */
  maxUrlRefreshes?: number;
  /** Consecutive interruptions without progress allowed in one activity attempt. */
  maxStalls?: number;
  /** Socket inactivity timeout. */
  idleTimeoutMs?: number;
  /** Pause before resuming after an interruption (ms); grows linearly with consecutive stalls. */
  retryDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface StreamDownloadResult {
  committed: CommittedFile;
  contentType?: string;
  /** True when the stored bytes are gzip-compressed (rows are then not counted). */
  compressed: boolean;
  urlRefreshes: number;
  resumes: number;
}

const KNOWN_EXT = /((?:\.(?:csv|tsv|jsonl|ndjson|json|txt|zip))?(?:\.gz)?)$/i;

/** `attachment; filename="x.csv"` or `filename*=UTF-8''x.csv` -> `x.csv`. */
function dispositionFileName(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const star = /filename\*\s*=\s*[^']*''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain?.[1].trim();
}

/** Picks the stored file's extension from the response, the URL path, the content type, then the default. */
export function chooseExtension(
  res: { headers: Record<string, unknown> },
  url: string,
  defaultExt: string,
): string {
  const candidates: string[] = [];
  const fromHeader = dispositionFileName(res.headers['content-disposition']);
  if (fromHeader) candidates.push(fromHeader);
  try {
    candidates.push(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    /* not a URL */
  }
  let ext = '';
  for (const c of candidates) {
    const m = KNOWN_EXT.exec(c);
    if (m && m[1]) {
      ext = m[1].toLowerCase();
      break;
    }
  }
  const type = String(res.headers['content-type'] ?? '').toLowerCase();
  if (!ext) {
    if (type.includes('csv')) ext = '.csv';
    else if (type.includes('ndjson') || type.includes('jsonl')) ext = '.jsonl';
    else if (type.includes('zip')) ext = '.zip';
    else if (type.includes('gzip')) ext = `${defaultExt}.gz`;
    else ext = defaultExt;
  }
  // We store the bytes as served (no transparent decompression, so Range offsets and checksums stay
  // meaningful); a gzip content-encoding therefore makes it a .gz file.
  const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding.includes('gzip') && !ext.endsWith('.gz')) ext += '.gz';
  return ext;
}

/** `bytes 100-199/1000` -> { start: 100, total: 1000 }. */
function parseContentRange(header: unknown): { start?: number; total?: number } {
  if (typeof header !== 'string') return {};
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(header.trim());
  if (!m) return {};
  return {
    start: m[1] === undefined ? undefined : Number(m[1]),
    total: m[2] === '*' ? undefined : Number(m[2]),
  };
}

function discard(res: AxiosResponse<Readable>): void {
  res.data.resume();
  res.data.destroy();
}

function downloadFailure(message: string): ApplicationFailure {
  return failure(FailureType.ExportDownloadFailed, message);
}

export async function streamDownloadToStorage(opts: StreamDownloadOptions): Promise<StreamDownloadResult> {
  const maxRefreshes = opts.maxUrlRefreshes ?? 5;
  const maxStalls = opts.maxStalls ?? 5;
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const writer = await opts.storage.openWriter(opts.base, { checkpoint: opts.checkpoint });
  const hb = () => {
    const storage = writer.checkpoint?.();
    opts.heartbeat({ bytesWritten: writer.bytesWritten, ...(storage ? { storage } : {}) });
  };
  const timer = setInterval(hb, opts.heartbeatEveryMs ?? 1000);
  let committed = false;
  try {
    if (writer.bytesWritten > 0)
      opts.log.info({ file: opts.base, resumeFrom: writer.bytesWritten }, 'resuming partial download');
    let url = await opts.fetchUrl();
    let refreshes = 0;
    let resumes = 0;
    let stalls = 0;
    let ext: string | undefined;
    let contentType: string | undefined;

    const refresh = async (why: string) => {
      if (refreshes >= maxRefreshes)
        throw downloadFailure(
          `download URL rejected ${refreshes + 1} times (${why}); giving up this attempt`,
        );
      refreshes++;
      opts.log.info(
        { file: opts.base, why, bytesWritten: writer.bytesWritten, refresh: refreshes },
        'download URL no longer valid; fetching a new one',
      );
      url = await opts.fetchUrl();
    };
    const stall = async (why: string, progressed: boolean) => {
      stalls = progressed ? 1 : stalls + 1;
      if (stalls > maxStalls)
        throw downloadFailure(`download interrupted ${stalls} times without progress: ${why}`);
      resumes++;
      opts.log.warn(
        { file: opts.base, why, bytesWritten: writer.bytesWritten, url: redactUrl(url) },
        'download interrupted; resuming',
      );
      await sleep(retryDelayMs * stalls);
    };

    for (;;) {
      if (opts.signal?.aborted) throw new CancelledFailure('download cancelled');
      const offset = writer.bytesWritten;
      let res: AxiosResponse<Readable>;
      try {
        res = await axios.get<Readable>(url, {
          responseType: 'stream',
          decompress: false,
          validateStatus: () => true,
          maxRedirects: 5,
          timeout: opts.idleTimeoutMs ?? 60_000,
          signal: opts.signal,
          headers:
            offset > 0
              ? { Range: `bytes=${offset}-`, 'Accept-Encoding': 'identity' }
              : { 'Accept-Encoding': 'identity' },
        });
      } catch (err) {
        if (opts.signal?.aborted) throw new CancelledFailure('download cancelled');
        // axios error messages can embed the URL; only the redacted text is kept.
        await stall(errorMessage(err), false);
        continue;
      }

      const status = res.status;
      const { outcome, retryable } = classifyHttpStatus(status);
      if (outcome === HttpOutcome.Denied || status === 404 || status === 410) {
        discard(res);
        // Expired or rejected presigned URL (404/410: some object stores hide 403s). A new URL from m3ter
        // tells us whether the file still exists; fetchUrl throws ExportDownloadWindowExpired if not.
        await refresh(`HTTP ${status}`);
        continue;
      }
      if (status === 416) {
        discard(res);
        const { total } = parseContentRange(res.headers['content-range']);
        if (total !== undefined && total === offset && offset > 0) {
          // An earlier attempt already wrote every byte but did not get to commit.
          ext ??= chooseExtension(res, url, opts.defaultExt);
          break;
        }
        await writer.truncate();
        await stall('HTTP 416 for our resume offset; restarting from zero', false);
        continue;
      }
      if (retryable) {
        discard(res);
        await stall(`HTTP ${status}`, false);
        continue;
      }
      if (status !== 200 && status !== 206) {
        discard(res);
        throw downloadFailure(`unexpected HTTP ${status} from the file server`);
      }

      let expectedTotal: number | undefined;
      const length = Number(res.headers['content-length']);
      if (status === 206) {
        const range = parseContentRange(res.headers['content-range']);
        if (range.start !== offset) {
          discard(res);
          await writer.truncate();
          await stall(`206 for the wrong range (wanted ${offset}, got ${range.start}); restarting`, false);
          continue;
        }
        expectedTotal = range.total ?? (Number.isFinite(length) ? offset + length : undefined);
      } else {
        if (offset > 0) {
          opts.log.info({ file: opts.base, discarded: offset }, 'server ignored Range; restarting from zero');
          await writer.truncate();
        }
        expectedTotal = Number.isFinite(length) ? length : undefined;
      }
      ext ??= chooseExtension(res, url, opts.defaultExt);
      contentType ??=
        typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined;

      const before = writer.bytesWritten;
      try {
        await pipeline(res.data, writer.createStream());
      } catch (err) {
        // The writer's own failures (StorageFailed) are not interruptions of the download: no resume.
        if (err instanceof ApplicationFailure) throw err;
        await writer.settle();
        if (opts.signal?.aborted) throw new CancelledFailure('download cancelled');
        await stall(errorMessage(err), writer.bytesWritten > before);
        continue;
      }
      await writer.settle();
      if (expectedTotal !== undefined && writer.bytesWritten < expectedTotal) {
        await stall(
          `stream ended at ${writer.bytesWritten} of ${expectedTotal} bytes`,
          writer.bytesWritten > before,
        );
        continue;
      }
      if (expectedTotal !== undefined && writer.bytesWritten > expectedTotal) {
        await writer.truncate();
        await stall(
          `received ${writer.bytesWritten} bytes, more than the announced ${expectedTotal}; restarting`,
          false,
        );
        continue;
      }
      break;
    }

    clearInterval(timer);
    hb();
    const finalExt = ext ?? opts.defaultExt;
    const file = await writer.commit(`${opts.base}${finalExt}`);
    committed = true;
    return {
      committed: file,
      contentType,
      compressed: finalExt.endsWith('.gz') || finalExt.endsWith('.zip'),
      urlRefreshes: refreshes,
      resumes,
    };
  } finally {
    clearInterval(timer);
    // Keep the partial file for the next attempt's resume.
    if (!committed) await writer.close().catch(() => undefined);
  }
}
