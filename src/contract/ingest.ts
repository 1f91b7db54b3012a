// The contract of ingestWorkflow: its input schema (the CLI validates with it, the workflow checks its own
// input with it), its workflow id, the progress query and the report it returns. Pure and deterministic
// (zod only), so the workflow bundle imports it. A builder, not a schema: see ./inputs.ts.
import { z } from 'zod';
import { defineQuery } from '@temporalio/workflow';
import { alertRoutingSchema } from './alert-routing';

/** Where a file is read from. A local path must be readable by the worker (same host or a shared volume). */
export const IngestSourceKind = { local: 'local', s3: 's3' } as const;
export type IngestSourceKind = (typeof IngestSourceKind)[keyof typeof IngestSourceKind];

export const INGEST_FORMATS = ['csv', 'jsonl'] as const;

/** Time after the last batch during which m3ter's IngestValidationFailure events are awaited. */
export const DEFAULT_SETTLE_MS = 120_000;
/** Rejected lines listed in the report; beyond that they are counted (all are in the CSV beside a local file). */
export const DEFAULT_MAX_LISTED_REJECTIONS = 20;
/** Batches in flight at once; the Ingest budget (the queue's rate) bounds the request rate, not this. */
export const DEFAULT_INGEST_CONCURRENCY = 16;
/** Batches one planning activity lays out (offsets only; the rows stay in the file). */
export const DEFAULT_PAGE_BATCHES = 100;
/** Batches one run sends before it continues as new (3 history events each). */
export const DEFAULT_CONTINUE_AS_NEW_AFTER_BATCHES = 500;

const SHA256 = /^[0-9a-f]{64}$/;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SALT = /^[0-9a-z]{8}$/;

const sourceSchema = () =>
  z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal(IngestSourceKind.local),
      path: z
        .string()
        .min(2)
        .max(4096)
        .refine((p) => p.startsWith('/'), { error: 'must be an absolute path' }),
    }),
    z.strictObject({
      kind: z.literal(IngestSourceKind.s3),
      bucket: z.string().regex(S3_BUCKET, { error: 'must be an S3 bucket name' }),
      key: z.string().min(1).max(1024),
    }),
  ]);
export type IngestSource = z.infer<ReturnType<typeof sourceSchema>>;

/** How a source is named to people: its path, or its s3:// URL. */
export function describeSource(source: IngestSource): string {
  return source.kind === IngestSourceKind.local ? source.path : `s3://${source.bucket}/${source.key}`;
}

const count = () => z.number().int().min(0);

/** What a run carries to the next across continue-as-new. */
const carriedSchema = () =>
  z.strictObject({
    offset: count(),
    line: z.number().int().min(1),
    rowsSent: count(),
    batchesSent: count(),
    requests: count(),
    bytesSent: count(),
    ownUids: count(),
    startedAt: z.string(),
    firstSentAt: z.string().optional(),
  });
export type IngestCarried = z.infer<ReturnType<typeof carriedSchema>>;

export function createIngestInputSchema() {
  return z.strictObject({
    source: sourceSchema(),
    /** The file's name, for messages and the report. */
    name: z.string().min(1).max(1024),
    format: z.enum(INGEST_FORMATS),
    /** SHA-256 (hex) of the file's content: the workflow id and the derived uids come from it. */
    sha256: z.string().regex(SHA256, { error: 'must be a SHA-256 hex digest' }),
    sizeBytes: count(),
    /** Data rows (measurements) the CLI counted while validating. */
    rows: count(),
    /** CSV: the header line. */
    header: z.string().max(65_536).optional(),
    /** Byte offset and line number of the first data line. */
    dataOffset: count(),
    dataLine: z.number().int().min(1),
    /** Set by `--force`: new uids and a new workflow id for a deliberate resend. */
    salt: z.string().regex(SALT, { error: 'must be 8 characters of 0-9 and a-z' }).optional(),
    settleMs: count().optional(),
    maxListedRejections: z.number().int().min(0).max(1000).optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
    pageBatches: z.number().int().min(1).max(500).optional(),
    continueAsNewAfterBatches: z.number().int().min(1).optional(),
    /** Test and bench knobs below m3ter's limits (1000 measurements, 512,000 bytes). */
    batch: z
      .strictObject({
        maxCount: z.number().int().min(1).max(1000).optional(),
        maxBytes: z.number().int().min(1024).max(512_000).optional(),
      })
      .optional(),
    carried: carriedSchema().optional(),
    /**
     * `--alert`: the channels told when m3ter rejected rows of the file, as its definitions file wrote them
     * (`${VAR}` unresolved; `[]` is the worker's default channel). Absent: no alert.
     */
    alerting: alertRoutingSchema().optional(),
  });
}
export type IngestInput = z.infer<ReturnType<typeof createIngestInputSchema>>;

/** The workflow id of a file's ingest: its content hash, and the salt of a forced resend. */
export function ingestWorkflowId(sha256: string, salt?: string): string {
  return `ingest:${sha256.slice(0, 32)}${salt ? `:${salt}` : ''}`;
}

export const IngestPhase = {
  sending: 'sending',
  settling: 'settling',
  completed: 'completed',
} as const;
export type IngestPhase = (typeof IngestPhase)[keyof typeof IngestPhase];

export interface RejectedLine {
  line: number;
  uid: string;
  /** m3ter's failure type (`UndefinedMeter`, `MissingField`, `DuplicateUid`, ...). */
  type: string;
  reason: string;
}

/** What m3ter's IngestValidationFailure events said about this file's rows, joined to their lines. */
export interface IngestRejections {
  /** Rows m3ter accepted and did not reject within the settle period. */
  accepted: number;
  rejected: number;
  byType: Record<string, number>;
  /** The first rejected lines, in line order. */
  firstRejected: RejectedLine[];
  /** DuplicateUid events for rows sent more than once by this ingest (a retried batch): ingested once. */
  resendDuplicates: number;
  /** CSV of every rejected line beside a local source file. */
  reportFile?: string;
  settledAt: string;
}

export interface IngestProgress {
  file: string;
  phase: IngestPhase;
  rowsTotal: number;
  rowsSent: number;
  batchesSent: number;
  /** Requests made, splits of an oversized batch included. */
  requests: number;
  bytesSent: number;
  /** Every byte before this offset has been sent. */
  offset: number;
  sizeBytes: number;
  /** Rows that carried their own uid. */
  ownUids: number;
  startedAt: string;
  firstSentAt?: string;
  lastBatchAt?: string;
  rejections?: IngestRejections;
  /** `--alert`: whether the rejection alert reached its channels (absent: none was due). */
  alert?: 'delivered' | 'not delivered';
}

export const ingestProgressQuery = defineQuery<IngestProgress>('ingestProgress');
