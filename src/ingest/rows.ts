// One line of a file -> one validated measurement (with its uid) and its size in a request body, or every
// problem with it, each naming the field. The rules are the m3ter client's own (MeasurementSchema), plus
// what ingest needs: a non-empty uid, and a size that fits a request on its own.
import { MeasurementSchema, MAX_MEASUREMENTS_PAYLOAD_BYTES, type Measurement } from '../m3ter/schemas';
import { ruleMessage, toIssues } from '../m3ter/validation';
import { csvRecord, type CsvColumn, type FieldIssue } from './csv';
import { IngestFormat } from './format';
import { derivedUid } from './uid';

/** `{"measurements":[]}`: the bytes of a request body around its measurements. */
export const BODY_ENVELOPE_BYTES = Buffer.byteLength('{"measurements":[]}');

export interface RowContext {
  format: IngestFormat;
  /** CSV only: the header's columns. */
  columns?: readonly CsvColumn[];
  /** The file's SHA-256 (hex), for derived uids. */
  fileSha256: string;
  salt?: string;
  /**
   * Rows already checked (the ingest activities read a file the CLI checked in full): the schema is not run
   * again here, because the client validates every request body with the same schema before sending it.
   */
  trusted?: boolean;
}

export interface ParsedRow {
  measurement: Measurement;
  /** Bytes of the measurement in a request body (its JSON, UTF-8). */
  bytes: number;
  /** True when the uid came from the file. */
  ownUid: boolean;
}

/** A line with nothing to send: empty or whitespace only. */
export function isBlank(text: string): boolean {
  return text.trim() === '';
}

function parseJsonLine(text: string): { record?: Record<string, unknown>; issues: FieldIssue[] } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { issues: [{ field: 'row', message: 'is not valid JSON' }] };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return { issues: [{ field: 'row', message: 'must be a JSON object' }] };
  return { record: v as Record<string, unknown>, issues: [] };
}

/** Parses and validates one data line. */
export function parseRow(ctx: RowContext, line: number, text: string): ParsedRow | { issues: FieldIssue[] } {
  const raw = ctx.format === IngestFormat.csv ? csvRecord(ctx.columns ?? [], text) : parseJsonLine(text);
  if (!raw.record) return { issues: raw.issues };
  let data: Measurement;
  if (ctx.trusted && raw.issues.length === 0) data = raw.record as Measurement;
  else {
    // The error map only on failure: it costs the valid rows, which are nearly all, a third of their time.
    const parsed = MeasurementSchema.safeParse(raw.record);
    const issues = parsed.success
      ? raw.issues
      : [
          ...raw.issues,
          ...toIssues(MeasurementSchema.safeParse(raw.record, { error: ruleMessage }).error!).map((i) => ({
            field: i.path || 'row',
            message: i.message,
          })),
        ];
    if (!parsed.success || issues.length > 0) return { issues };
    data = parsed.data;
  }
  const own = data.uid;
  if (own !== undefined && own.trim() === '')
    return { issues: [{ field: 'uid', message: 'must not be empty (leave it out to get a derived one)' }] };
  const measurement: Measurement =
    own === undefined ? { uid: derivedUid(ctx.fileSha256, line, ctx.salt), ...data } : data;
  const bytes = Buffer.byteLength(JSON.stringify(measurement), 'utf8');
  if (BODY_ENVELOPE_BYTES + bytes >= MAX_MEASUREMENTS_PAYLOAD_BYTES)
    return {
      issues: [
        {
          field: 'row',
          message: `is ${bytes} bytes as JSON: a request must be under ${MAX_MEASUREMENTS_PAYLOAD_BYTES} bytes, so it can never be sent`,
        },
      ],
    };
  return { measurement, bytes, ownUid: own !== undefined };
}
