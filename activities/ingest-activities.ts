// The ingest activities that read the file and send it: lay out the next batches (offsets and counts, no
// rows), and send one batch (read back from its offset, sent in one request). The workflow never holds a
// row; a send retried after a lost answer or a killed worker resends the same uids, which m3ter ingests once.
//
// `sendIngestBatch` runs on the Ingest queue (`<taskQueue>-m3ter-ingest`), whose server-side rate is the
// deployment's Ingest budget: one task is one request, except when m3ter refuses a body as too large.
import { heartbeat } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { IngestSource } from '../src/contract/ingest';
import type { M3terClient } from '../src/m3ter';
import { M3terError, M3terPermissionDeniedError, M3terRequestValidationError } from '../src/m3ter/errors';
import { MAX_MEASUREMENTS_PAYLOAD_BYTES, type Measurement } from '../src/m3ter/schemas';
import { bodyBytes } from '../src/ingest/batches';
import { IngestFormat } from '../src/ingest/format';
import {
  planBatches,
  readBatch,
  SourceChangedError,
  type BatchPlan,
  type PlannedBatch,
  type SliceContext,
} from '../src/ingest/slices';
import { describeSource } from '../src/contract/ingest';
import { LineTooLongError, NotUtf8Error } from '../src/ingest/lines';
import { classifyHttpStatus, HttpOutcome } from '../src/contract/failures';
import { failure, FailureType, toApplicationFailure } from './failures';
import { startKeepAlive } from './keep-alive';
import type { ActivityLogger } from './deps';

/**
 * A 403 on a body at least this large is read as "too large" and the batch is split; on a smaller one it is
 * a refusal of access (m3ter answers both with 403). Splitting a small body would only multiply refusals.
 */
const SPLIT_ON_403_FROM_BYTES = Math.floor(MAX_MEASUREMENTS_PAYLOAD_BYTES / 4);

export interface IngestActivityDeps {
  m3ter: Pick<M3terClient, 'submitMeasurements'>;
  /** For s3:// sources; absent: such sources fail as unavailable. */
  s3?: S3Client;
  log: ActivityLogger;
}

/** What identifies the file and how its rows become measurements: the same for every batch of one ingest. */
export interface IngestFileRef {
  source: IngestSource;
  format: IngestFormat;
  header?: string;
  sha256: string;
  salt?: string;
  batch?: { maxCount?: number; maxBytes?: number };
}

export interface PlanIngestInput {
  file: IngestFileRef;
  offset: number;
  line: number;
  maxBatches: number;
}

export interface SendIngestInput {
  file: IngestFileRef;
  batch: PlannedBatch;
}

export interface SendIngestResult {
  /** Requests made: 1, more when m3ter refused a body as too large and it was split. */
  requests: number;
}

function slice(file: IngestFileRef, s3: S3Client | undefined): SliceContext {
  return {
    source: file.source,
    format: file.format,
    ...(file.header !== undefined ? { header: file.header } : {}),
    sha256: file.sha256,
    ...(file.salt ? { salt: file.salt } : {}),
    ...(file.batch ? { limits: file.batch } : {}),
    ...(s3 ? { s3 } : {}),
  };
}

/** Reading the file failed: changed, missing, or a transient store error (retried). */
function readFailure(err: unknown, file: IngestFileRef): Error {
  const where = describeSource(file.source);
  if (err instanceof SourceChangedError || err instanceof NotUtf8Error || err instanceof LineTooLongError)
    return failure(FailureType.IngestSourceChanged, `${where}: ${err.message}`);
  const code = (err as { code?: string }).code;
  const name = (err as { name?: string }).name;
  if (
    code === 'ENOENT' ||
    code === 'EACCES' ||
    code === 'EISDIR' ||
    name === 'NoSuchKey' ||
    name === 'NoSuchBucket'
  )
    return failure(
      FailureType.IngestSourceUnavailable,
      `${where}: cannot be read by this worker (${code ?? name}); local files must be readable by the worker`,
    );
  return toApplicationFailure(err, `reading ${where}`);
}

export function createIngestActivities(deps: IngestActivityDeps) {
  async function send(measurements: Measurement[]): Promise<number> {
    try {
      await deps.m3ter.submitMeasurements({ measurements });
      return 1;
    } catch (err) {
      // m3ter refuses an oversized body with 403: split it, never send it again as it is.
      if (
        err instanceof M3terPermissionDeniedError &&
        measurements.length > 1 &&
        bodyBytes(measurements.map((m) => Buffer.byteLength(JSON.stringify(m)))) >= SPLIT_ON_403_FROM_BYTES
      ) {
        const half = Math.ceil(measurements.length / 2);
        deps.log.warn(
          { measurements: measurements.length },
          'ingest body refused with 403; sending it in two halves',
        );
        heartbeat();
        return 1 + (await send(measurements.slice(0, half))) + (await send(measurements.slice(half)));
      }
      throw err;
    }
  }

  return {
    async planIngestBatches(input: PlanIngestInput): Promise<BatchPlan> {
      // Reading a large slice of a slow store takes a while; alive is not lost.
      const stop = startKeepAlive(() => undefined, 5_000);
      try {
        return await planBatches(
          slice(input.file, deps.s3),
          { offset: input.offset, line: input.line },
          input.maxBatches,
        );
      } catch (err) {
        throw readFailure(err, input.file);
      } finally {
        stop();
      }
    },

    async sendIngestBatch(input: SendIngestInput): Promise<SendIngestResult> {
      // The client may wait out a Retry-After inside this attempt; alive is not lost.
      const stop = startKeepAlive(() => undefined, 5_000);
      try {
        return await sendBatch(input);
      } finally {
        stop();
      }
    },
  };

  async function sendBatch(input: SendIngestInput): Promise<SendIngestResult> {
    heartbeat();
    let measurements: Measurement[];
    try {
      measurements = await readBatch(slice(input.file, deps.s3), input.batch);
    } catch (err) {
      throw readFailure(err, input.file);
    }
    try {
      return { requests: await send(measurements) };
    } catch (err) {
      const context = `sending lines from ${input.batch.line} of ${describeSource(input.file.source)}`;
      // The rows are read without the schema (they were checked before the ingest started); the client's
      // check of the request refusing one means the file changed since.
      if (err instanceof M3terRequestValidationError)
        throw failure(
          FailureType.IngestSourceChanged,
          `${context}: the file changed since it was checked: ${err.message}`,
        );
      if (
        err instanceof M3terError &&
        err.status !== undefined &&
        classifyHttpStatus(err.status).outcome === HttpOutcome.Rejected
      )
        throw failure(
          FailureType.IngestBatchRejected,
          `${context}: m3ter refused the batch (HTTP ${err.status}): ${err.m3terMessage ?? err.message}`,
          {
            details: { status: err.status, requestId: err.requestId },
          },
        );
      throw toApplicationFailure(err, context);
    }
  }
}

export type IngestActivities = ReturnType<typeof createIngestActivities>;
