// The two reads the ingest activities make: lay out the next batches from a byte offset (offsets and
// counts only), and read one laid-out batch back as measurements. Both parse the rows the same way, so a
// batch read back is exactly the batch that was laid out; a difference means the file changed.
import type { S3Client } from '@aws-sdk/client-s3';
import type { IngestSource } from '../contract/ingest';
import type { Measurement } from '../m3ter/schemas';
import { batchLimits, bodyBytes, BodySize, type BatchLimits } from './batches';
import { parseCsvHeader, type CsvColumn, type FieldIssue } from './csv';
import { IngestFormat } from './format';
import { readLines } from './lines';
import { isBlank, parseRow, type RowContext } from './rows';
import { openSource } from './source';

export interface SliceContext {
  source: IngestSource;
  format: IngestFormat;
  /** CSV: the header line. */
  header?: string;
  sha256: string;
  salt?: string;
  limits?: BatchLimits;
  s3?: S3Client;
}

export interface PlannedBatch {
  /** Byte offset of the batch's first line. */
  offset: number;
  /** Byte offset just after its last line. */
  end: number;
  /** Line number of its first line. */
  line: number;
  /** Measurements in it. */
  rows: number;
  /** Its request body's bytes. */
  bytes: number;
  /** Measurements with the file's own uid. */
  ownUids: number;
}

export interface BatchPlan {
  batches: PlannedBatch[];
  /** Where the next plan starts; undefined at the end of the file. */
  next?: { offset: number; line: number };
}

/** A row that no longer parses: the file changed after it was checked. */
export class SourceChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceChangedError';
  }
}

function rowContext(ctx: SliceContext): RowContext {
  let columns: CsvColumn[] | undefined;
  if (ctx.format === IngestFormat.csv) {
    const h = parseCsvHeader(ctx.header ?? '');
    if ('issues' in h) throw new SourceChangedError(`header: ${h.issues.map((i) => i.message).join('; ')}`);
    columns = h.columns;
  }
  return {
    format: ctx.format,
    columns,
    fileSha256: ctx.sha256,
    ...(ctx.salt ? { salt: ctx.salt } : {}),
    trusted: true,
  };
}

function changed(line: number, issues: FieldIssue[]): SourceChangedError {
  return new SourceChangedError(
    `line ${line} no longer passes the check it passed before the ingest started (the file changed?): ` +
      issues.map((i) => `${i.field}: ${i.message}`).join('; '),
  );
}

/** Lays out up to `maxBatches` batches from `from`. */
export async function planBatches(
  ctx: SliceContext,
  from: { offset: number; line: number },
  maxBatches: number,
): Promise<BatchPlan> {
  const rc = rowContext(ctx);
  const limits = batchLimits(ctx.limits);
  const batches: PlannedBatch[] = [];
  let current: PlannedBatch | undefined;
  let size = new BodySize(limits);
  let lastEnd = from.offset;
  const stream = await openSource(ctx.source, { start: from.offset }, ctx.s3);
  for await (const l of readLines(stream, { offset: from.offset, firstLine: from.line })) {
    lastEnd = l.end;
    if (isBlank(l.text)) {
      if (current) current.end = l.end;
      continue;
    }
    const row = parseRow(rc, l.line, l.text);
    if ('issues' in row) throw changed(l.line, row.issues);
    if (current && !size.fits(row.bytes)) {
      batches.push(current);
      current = undefined;
      if (batches.length >= maxBatches) return { batches, next: { offset: l.start, line: l.line } };
    }
    if (!current) {
      current = { offset: l.start, end: l.end, line: l.line, rows: 0, bytes: 0, ownUids: 0 };
      size = new BodySize(limits);
    }
    size.add(row.bytes);
    current.rows += 1;
    current.bytes = size.bytes;
    current.end = l.end;
    if (row.ownUid) current.ownUids += 1;
  }
  if (current) batches.push(current);
  else if (batches.length > 0) batches[batches.length - 1].end = lastEnd;
  return { batches };
}

/** The measurements of one laid-out batch, checked against the plan. */
export async function readBatch(ctx: SliceContext, batch: PlannedBatch): Promise<Measurement[]> {
  const rc = rowContext(ctx);
  const out: Measurement[] = [];
  const sizes: number[] = [];
  if (batch.end > batch.offset) {
    const stream = await openSource(ctx.source, { start: batch.offset, end: batch.end - 1 }, ctx.s3);
    for await (const l of readLines(stream, { offset: batch.offset, firstLine: batch.line })) {
      if (isBlank(l.text)) continue;
      const row = parseRow(rc, l.line, l.text);
      if ('issues' in row) throw changed(l.line, row.issues);
      out.push(row.measurement);
      sizes.push(row.bytes);
    }
  }
  const bytes = bodyBytes(sizes);
  if (out.length !== batch.rows || bytes !== batch.bytes)
    throw new SourceChangedError(
      `lines from ${batch.line} read back as ${out.length} measurements of ${bytes} bytes, ` +
        `laid out as ${batch.rows} of ${batch.bytes} (the file changed?)`,
    );
  return out;
}
