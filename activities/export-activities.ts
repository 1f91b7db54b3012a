// Activities of the ad-hoc export workflow, built by a factory that receives its dependencies (the
// temporalio/samples-typescript dependency-injection pattern): the worker passes the real m3ter client,
// storage, clock, logger and alerter; tests pass fakes.
import { activityInfo } from '@temporalio/activity';
import { M3terBadRequestError, M3terNotFoundError } from '../src/m3ter/errors';
import type { AdhocExportRequest } from '../src/m3ter/schemas';
import { redactUrl } from '../src/log/redact';
import type { Alert } from '../src/alerts/webhook';
import type { ExportFileKind, Manifest } from '../src/storage/types';
import { systemClock, type ExportActivityDeps } from './deps';
import { exportFileBase } from '../src/storage/names';
import { chooseStorage } from './storage-choice';
import { storeFileWithManifest } from './store-file';
import { errorMessage, failure, FailureType, toApplicationFailure } from './failures';
import { createTriggerActivity } from './trigger';
import { createWaitActivity } from './wait';
import { checkUrl, UrlRefusedError } from '../src/net/url-guard';

export type { TriggerAdhocExportInput, TriggerAdhocExportResult } from './trigger';
export type { WaitForExportJobInput, WaitForExportJobResult } from './wait';

/** m3ter keeps export files for 24 h after the job completes (docs/m3ter-api.md, "Download URL"). */
export const DOWNLOAD_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface DownloadExportFileInput {
  jobId: string;
  workflowId: string;
  kind: Extract<ExportFileKind, 'usage' | 'operational'>;
  sourceType?: string;
  window?: { start?: string; end?: string };
  /** The request, for the manifest (see `summarizeRequest`). */
  request?: AdhocExportRequest | Record<string, unknown>;
  /** The job's timestamps as the wait activity saw them (for the 24 h window check and the manifest). */
  job?: { dateCreated?: string; startedAt?: string };
  /** Where the file goes: 'local' (default) or 's3'. */
  storage?: 'local' | 's3';
  /** The export's name; S3 keys are partitioned by it (`export=<name>`, 'adhoc' without one). */
  name?: string;
}

export interface ResolveDownloadUrlInput {
  jobId: string;
}

/**
 * For `storage: 'none'`. The presigned URL's query string IS the credential (signature + expiry), and the
 * workflow result is stored in history, visible to anyone who can read the workflow. So only the URL
 * without its query goes back; the CLI fetches a fresh full URL itself (getdownloadurl) and prints it to
 * the operator's terminal only.
 */
export interface ResolveDownloadUrlResult {
  jobId: string;
  expirationTime?: string;
  urlWithoutQuery: string;
}

/** Keeps the request's fields for the manifest; drops `version` (meaningless) and anything non-JSON. */
export function summarizeRequest(request: unknown): Record<string, unknown> | undefined {
  if (!request || typeof request !== 'object') return undefined;
  const { version: _version, ...rest } = request as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/** Unique per export and deterministic, so retries resume the same partial file (src/storage/names.ts). */
export { exportFileBase };

export { rowsFromNewlines, storedFileFields } from './store-file';

export function stripQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    // Not parseable: never return something that might still hold the signature.
    return redactUrl(url).replace(/\?.*$/, '');
  }
}

function defaultExtFor(request: unknown): string {
  const fmt = (request as { exportFileFormat?: string } | undefined)?.exportFileFormat;
  return fmt === 'JSONL' ? '.jsonl' : '.csv';
}

export function createExportActivities(deps: ExportActivityDeps) {
  const clock = deps.clock ?? systemClock;
  const { m3ter, log } = deps;

  /** getdownloadurl, mapping "the file is gone" to a clear, non-retryable failure. */
  async function fetchDownloadUrl(jobId: string, known?: { dateCreated?: string; startedAt?: string }) {
    try {
      return await m3ter.getExportDownloadUrl(jobId);
    } catch (err) {
      if (err instanceof M3terNotFoundError || err instanceof M3terBadRequestError) {
        let job: { status?: string; dateCreated?: string; startedAt?: string } | undefined = known;
        try {
          job = await m3ter.getExportJob(jobId);
        } catch {
          /* keep what we knew */
        }
        const ref = Date.parse(job?.startedAt ?? job?.dateCreated ?? '');
        const old = !Number.isNaN(ref) && clock.now() - ref > DOWNLOAD_WINDOW_MS;
        // ASSUMPTION (docs/m3ter-api.md, Assumptions): m3ter answers 404 once the file of a SUCCEEDED job is gone.
        const gone = err instanceof M3terNotFoundError && job?.status === 'SUCCEEDED';
        if (old || gone) {
          throw failure(
            FailureType.ExportDownloadWindowExpired,
            `job ${jobId} finished more than 24 h ago; its file is gone; re-export needed`,
            { details: { jobId, status: err.status } },
          );
        }
        throw failure(
          FailureType.ExportDownloadUrlUnavailable,
          `no download URL for export job ${jobId} yet (HTTP ${err.status}): ${err.m3terMessage ?? err.message}`,
          { details: { jobId, status: err.status } },
        );
      }
      throw toApplicationFailure(err, `getting the download URL of export job ${jobId}`);
    }
  }

  const triggerAdhocExport = createTriggerActivity({
    m3ter,
    log,
    clock,
    jobClaims: deps.jobClaims,
    tuning: deps.trigger,
  });

  const waitForExportJob = createWaitActivity({
    readExportJob: deps.readExportJob ?? ((jobId) => m3ter.getExportJob(jobId)),
    log,
    clock,
    sleep: deps.sleep,
  });

  async function downloadExportFile(input: DownloadExportFileInput): Promise<Manifest> {
    return storeFileWithManifest({
      storage: chooseStorage(deps, input.storage, {
        exportName: input.name,
        window: input.window,
        fallbackDate: input.job?.dateCreated,
      }),
      base: exportFileBase(input.workflowId, input.jobId),
      defaultExt: defaultExtFor(input.request),
      fetchUrl: async () => (await fetchDownloadUrl(input.jobId, input.job)).url,
      urlPolicy: { trustedOrigin: m3ter.apiOrigin },
      isOwnManifest: (m) => m.jobId === input.jobId,
      facts: {
        workflowId: input.workflowId,
        jobId: input.jobId,
        kind: input.kind,
        sourceType: input.sourceType ?? (input.kind === 'usage' ? 'USAGE' : 'OPERATIONAL'),
        ...(input.window ? { window: input.window } : {}),
        ...(input.job ? { job: input.job } : {}),
        request: summarizeRequest(input.request),
      },
      log,
      clock,
      storedMessage: 'export file stored',
      downloads: deps.downloads,
    });
  }

  async function resolveDownloadUrl(input: ResolveDownloadUrlInput): Promise<ResolveDownloadUrlResult> {
    const { url, expirationTime } = await fetchDownloadUrl(input.jobId);
    // Not fetched here, but handed on: the same static rules as a download (the CLI fetches it later).
    try {
      checkUrl(url, { trustedOrigin: m3ter.apiOrigin });
    } catch (err) {
      if (err instanceof UrlRefusedError)
        throw failure(FailureType.DownloadUrlRefused, `download ${err.message}`, {
          details: { rule: err.rule },
        });
      throw err;
    }
    return { jobId: input.jobId, expirationTime, urlWithoutQuery: stripQuery(url) };
  }

  async function sendAlert(alert: Alert): Promise<{ delivered: boolean }> {
    if (alert.kind === 'ExportLanded') log.info({ alert }, 'export landed: announcing it');
    else log.error({ alert }, `export alert: ${alert.kind}`);
    if (!deps.alerter?.enabled) return { delivered: false };
    try {
      await deps.alerter.send(alert);
      return { delivered: true };
    } catch (err) {
      throw failure(
        FailureType.AlertDeliveryFailed,
        `alert ${alert.kind} for ${alert.workflowId} not delivered: ${errorMessage(err)}`,
        // The alerter already retried; a few activity retries more, then the workflow gives up on it.
        { nextRetryDelayMs: activityInfo().attempt * 2_000 },
      );
    }
  }

  return { triggerAdhocExport, waitForExportJob, downloadExportFile, resolveDownloadUrl, sendAlert };
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
