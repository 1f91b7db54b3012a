// Streams one file from a presigned URL into storage, resumably.
//
// * The URL is a bearer credential: it is obtained by `fetchUrl` inside the activity, used here, and never
//   logged, returned or put into an error (messages carry `redactUrl(url)` at most).
// * Memory stays flat whatever the size: `pipeline` applies backpressure from the disk writer back to the
//   socket; the local writer gathers chunks into batched writes (src/storage/local/writer.ts).
// * SHA-256 and the line count are computed by the storage writer as bytes hit the disk.
// * Heartbeats carry `{ bytesWritten, bytesPerSecond }` on a 1 s timer, not per chunk. A minimum
//   throughput over a sliding window (./download-progress.ts) fails an attempt whose server trickles.
// * Limits: a bound on downloads streaming at once (./download-slots.ts), a maximum size per export, and
//   a free-space check once the size is announced (storage that has free space to check).
// * An expired or rejected URL (403/401, or 404 from the object store) is re-fetched and the download
//   resumes with `Range: bytes=<written>-`. A 206 must start exactly at our offset; a 200 means the server
//   ignored the Range, so we restart from zero. Interrupted streams resume the same way.
// * Across activity retries the partial data is kept: a local file's download resumes from its size; an S3
//   upload's starts again from byte 0, to hash it, and skips the parts S3 already holds (see src/storage).
//   When the export fails for good (a non-retryable failure, cancellation, the last attempt) the partial
//   data is deleted instead.
// * The URL comes from another system: every hop is checked against `urlPolicy` (src/net/url-guard.ts)
//   before it is requested and again when its socket connects; redirects are followed here, one checked hop
//   at a time, never by axios. A refusal fails the download for good (DownloadUrlRefused).
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import axios, { type AxiosResponse } from 'axios';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { redactUrl } from '../src/log/redact';
import type { CommittedFile, ExportStorage, StorageWriter } from '../src/storage/types';
import type { ActivityLogger, Clock } from './deps';
import { classifyHttpStatus, HttpOutcome } from '../src/contract/failures';
import { errorMessage, failure, FailureType } from './failures';
import {
  checkUrl,
  createGuardedAgents,
  isTrustedOrigin,
  MAX_REDIRECTS,
  UrlRefusedError,
  UrlRule,
  urlRefusal,
  type GuardedAgents,
  type UrlPolicy,
} from '../src/net/url-guard';
import { ThroughputWatch, tooLarge, type DownloadLimits } from './download-progress';
import type { DownloadSlots } from './download-slots';

export interface StreamDownloadOptions {
  storage: ExportStorage;
  /** Deterministic base name of the file, without extension. */
  base: string;
  /** Extension used when neither the response nor the URL names one (e.g. '.csv'). */
  defaultExt: string;
  /** Returns a fresh presigned URL. Called once at the start and again whenever the URL stops working. */
  fetchUrl: () => Promise<string>;
  /** Which URLs may be fetched: the m3ter API's own origin, else public https only. */
  urlPolicy: UrlPolicy;
  /** Connection pools for the checked fetch; one shared set by default. */
  agents?: GuardedAgents;
  log: ActivityLogger;
  clock: Clock;
  /** `storage`: the writer's resume checkpoint (S3), carried to the next attempt as `checkpoint`. */
  heartbeat: (details: DownloadHeartbeat) => void;
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
  /** Size and throughput limits. */
  limits?: DownloadLimits;
  /** Downloads streaming at once in this worker; this one waits for a slot (heartbeating) first. */
  slots?: DownloadSlots;
  /** True on the activity's last attempt: a failure then is final and the partial data is deleted. */
  lastAttempt?: boolean;
}

export interface DownloadHeartbeat {
  bytesWritten: number;
  /** Over the throughput window; absent while waiting for a download slot. */
  bytesPerSecond?: number;
  /** Waiting for a download slot (MAX_CONCURRENT_DOWNLOADS). */
  waiting?: true;
  storage?: unknown;
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

function refusedFailure(err: UrlRefusedError): ApplicationFailure {
  return failure(FailureType.DownloadUrlRefused, `download ${err.message}`, { details: { rule: err.rule } });
}

let sharedAgents: GuardedAgents | undefined;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface CheckedGet {
  url: string;
  policy: UrlPolicy;
  agents: GuardedAgents;
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** GET following redirects one checked hop at a time; throws UrlRefusedError for a hop that breaks a rule. */
async function checkedGet(req: CheckedGet): Promise<AxiosResponse<Readable>> {
  let current = req.url;
  for (let hop = 0; ; hop++) {
    const trusted = isTrustedOrigin(checkUrl(current, req.policy), req.policy);
    const res = await axios.get<Readable>(current, {
      responseType: 'stream',
      decompress: false,
      validateStatus: () => true,
      maxRedirects: 0,
      // A proxy would make the connect-time address check meaningless (it would check the proxy).
      proxy: false,
      httpAgent: req.agents.trustedHttp,
      httpsAgent: trusted ? req.agents.trustedHttps : req.agents.guarded,
      timeout: req.timeoutMs,
      signal: req.signal,
      headers: req.headers,
    });
    const location = res.headers.location;
    if (!REDIRECTS.has(res.status) || typeof location !== 'string' || location === '') return res;
    discard(res);
    if (hop >= MAX_REDIRECTS)
      throw new UrlRefusedError(UrlRule.Redirects, `more than ${MAX_REDIRECTS} redirects`);
    try {
      current = new URL(location, current).toString();
    } catch {
      throw new UrlRefusedError(UrlRule.Malformed, 'a redirect to an unparseable location');
    }
  }
}

export async function streamDownloadToStorage(opts: StreamDownloadOptions): Promise<StreamDownloadResult> {
  const maxRefreshes = opts.maxUrlRefreshes ?? 5;
  const maxStalls = opts.maxStalls ?? 5;
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const agents = opts.agents ?? (sharedAgents ??= createGuardedAgents());
  const release = await waitForSlot(opts);
  let writer: StorageWriter;
  try {
    writer = await opts.storage.openWriter(opts.base, { checkpoint: opts.checkpoint });
  } catch (err) {
    release();
    throw err;
  }
  const limits = opts.limits ?? {};
  const watch = new ThroughputWatch(limits);
  // Aborts this attempt's request when the throughput falls below the minimum.
  const attempt = new AbortController();
  const cancel = () => attempt.abort();
  opts.signal?.addEventListener('abort', cancel, { once: true });
  let slow: string | undefined;
  let current: Readable | undefined;
  // Bytes received from the server in this attempt: progress, even before storage writes them.
  const received = { bytes: 0 };
  const hb = () => {
    const bytesPerSecond = watch.sample(opts.clock.now(), received.bytes);
    const storage = writer.checkpoint?.();
    opts.heartbeat({ bytesWritten: writer.bytesWritten, bytesPerSecond, ...(storage ? { storage } : {}) });
    slow ??= watch.slow();
    if (slow && !attempt.signal.aborted) {
      attempt.abort();
      current?.destroy(downloadFailure(slow));
    }
  };
  const timer = setInterval(hb, opts.heartbeatEveryMs ?? 1000);
  let committed = false;
  let outcome: unknown;
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
        res = await checkedGet({
          url,
          policy: opts.urlPolicy,
          agents,
          timeoutMs: opts.idleTimeoutMs ?? 60_000,
          signal: attempt.signal,
          headers:
            offset > 0
              ? { Range: `bytes=${offset}-`, 'Accept-Encoding': 'identity' }
              : { 'Accept-Encoding': 'identity' },
        });
      } catch (err) {
        if (opts.signal?.aborted) throw new CancelledFailure('download cancelled');
        const refused = urlRefusal(err);
        if (refused) throw refusedFailure(refused);
        if (slow) throw downloadFailure(slow);
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
      if (limits.maxBytes !== undefined && expectedTotal !== undefined && expectedTotal > limits.maxBytes) {
        discard(res);
        throw tooLarge(expectedTotal, limits.maxBytes, true);
      }
      try {
        await writer.ensureRoom?.(expectedTotal === undefined ? 0 : expectedTotal - writer.bytesWritten);
      } catch (err) {
        discard(res);
        throw err;
      }
      ext ??= chooseExtension(res, url, opts.defaultExt);
      writer.intendName?.(`${opts.base}${ext}`);
      contentType ??=
        typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined;

      const before = writer.bytesWritten;
      current = res.data;
      countReceived(res.data, received, before, limits.maxBytes);
      try {
        await pipeline(res.data, writer.createStream());
      } catch (err) {
        // The writer's own failures (StorageFailed, no space), a size over the limit and a trickling server
        // are not interruptions of the download: no resume in this attempt.
        if (err instanceof ApplicationFailure) throw err;
        if (slow) throw downloadFailure(slow);
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
  } catch (err) {
    outcome = err;
    throw err;
  } finally {
    clearInterval(timer);
    opts.signal?.removeEventListener('abort', cancel);
    if (!committed) await endUncommitted(writer, isFinal(outcome, opts), outcome, opts);
    release();
  }
}

/** Waits for a download slot, heartbeating meanwhile with the previous attempt's checkpoint kept. */
async function waitForSlot(opts: StreamDownloadOptions): Promise<() => void> {
  if (!opts.slots) return () => undefined;
  const beat = () =>
    opts.heartbeat({
      bytesWritten: 0,
      waiting: true,
      ...(opts.checkpoint !== undefined ? { storage: opts.checkpoint } : {}),
    });
  const timer = setInterval(beat, opts.heartbeatEveryMs ?? 1000);
  try {
    return await opts.slots.acquire(opts.signal);
  } finally {
    clearInterval(timer);
  }
}

/**
 * Counts the bytes of `body` into `received`, and fails the stream once more than `maxBytes` would be
 * stored (the server announced less, or nothing).
 */
function countReceived(body: Readable, received: { bytes: number }, offset: number, maxBytes?: number): void {
  let size = offset;
  body.on('data', (chunk: Buffer) => {
    received.bytes += chunk.length;
    size += chunk.length;
    if (maxBytes !== undefined && size > maxBytes) body.destroy(tooLarge(size, maxBytes, false));
  });
}

/** No later attempt will resume: the failure is non-retryable, the download was cancelled, or attempts ran out. */
function isFinal(outcome: unknown, opts: StreamDownloadOptions): boolean {
  if (opts.signal?.aborted || outcome instanceof CancelledFailure) return true;
  if (outcome instanceof ApplicationFailure && outcome.nonRetryable) return true;
  return opts.lastAttempt === true;
}

async function endUncommitted(
  writer: StorageWriter,
  final: boolean,
  outcome: unknown,
  opts: StreamDownloadOptions,
): Promise<void> {
  // Kept for the next attempt's resume, unless there will be none: then nothing may stay behind.
  await (final ? writer.discard() : writer.close()).catch((err: unknown) => {
    opts.log.warn({ file: opts.base, error: errorMessage(err) }, 'could not clean up the partial download');
  });
  if (!final) return;
  if (outcome instanceof CancelledFailure || opts.signal?.aborted) {
    opts.log.info({ file: opts.base }, 'download cancelled, partial data deleted');
    return;
  }
  // The line an operator finds when an export fails for good (a full disk, a file over the limit).
  opts.log.error(
    { file: opts.base, failureType: outcome instanceof ApplicationFailure ? outcome.type : undefined },
    `download failed for good, partial data deleted: ${errorMessage(outcome)}`,
  );
}
