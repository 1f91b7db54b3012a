// The check `ingest` runs on every file before anything is sent: one streaming pass that hashes the file,
// counts its measurements and validates every row, collecting every problem (file, line, field, rule).
// Nothing of the file is kept but the header and the first problems.
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { IngestSource } from '../contract/ingest';
import { parseCsvHeader, type CsvColumn } from './csv';
import { formatOfName, IngestFormat, INGEST_EXTENSIONS } from './format';
import { LineTooLongError, NotUtf8Error, readLines } from './lines';
import { isBlank, parseRow } from './rows';
import { openSource, sourceName } from './source';
import { describeSource } from '../contract/ingest';

/** Problems printed per run; every one is counted. */
export const DEFAULT_MAX_LISTED_ISSUES = 50;
/** Stands in for the file's hash while it is still being computed: a derived uid has the same length. */
const PLACEHOLDER_SHA256 = '0'.repeat(64);

export interface LineIssue {
  file: string;
  /** 0 for a problem with the file as a whole. */
  line: number;
  field: string;
  message: string;
}

export interface CheckedFile {
  source: IngestSource;
  name: string;
  format: IngestFormat;
  sha256: string;
  sizeBytes: number;
  rows: number;
  ownUids: number;
  header?: string;
  dataOffset: number;
  dataLine: number;
}

export interface FileCheck {
  file?: CheckedFile;
  /** The first problems, in file order. */
  issues: LineIssue[];
  /** Every problem found. */
  issueCount: number;
}

export interface CheckOptions {
  s3?: S3Client;
  /** The salt of a forced resend: it lengthens derived uids, so sizes are checked with it. */
  salt?: string;
  maxListedIssues?: number;
}

async function* hashing(stream: AsyncIterable<Buffer>, hash: ReturnType<typeof createHash>) {
  for await (const chunk of stream) {
    hash.update(chunk);
    yield chunk;
  }
}

export async function checkFile(source: IngestSource, opts: CheckOptions = {}): Promise<FileCheck> {
  const file = describeSource(source);
  const max = opts.maxListedIssues ?? DEFAULT_MAX_LISTED_ISSUES;
  const issues: LineIssue[] = [];
  let issueCount = 0;
  const report = (line: number, field: string, message: string) => {
    issueCount += 1;
    if (issues.length < max) issues.push({ file, line, field, message });
  };
  const fatal = (message: string): FileCheck => {
    report(0, 'file', message);
    return { issues, issueCount };
  };

  const format = formatOfName(file);
  if (!format) return fatal(`has no known extension (${INGEST_EXTENSIONS.join(', ')})`);

  const hash = createHash('sha256');
  let sizeBytes = 0;
  let rows = 0;
  let ownUids = 0;
  let header: string | undefined;
  let columns: CsvColumn[] | undefined;
  let dataOffset = 0;
  let dataLine = 1;
  try {
    const stream = await openSource(source, { start: 0 }, opts.s3);
    for await (const l of readLines(hashing(stream, hash))) {
      sizeBytes = l.end;
      if (format === IngestFormat.csv && header === undefined) {
        if (isBlank(l.text)) return fatal('must start with a header line');
        header = l.text;
        dataOffset = l.end;
        dataLine = l.line + 1;
        const h = parseCsvHeader(l.text);
        if ('issues' in h) {
          for (const i of h.issues) report(l.line, i.field, i.message);
          return { issues, issueCount };
        }
        columns = h.columns;
        continue;
      }
      if (isBlank(l.text)) continue;
      rows += 1;
      const row = parseRow(
        { format, columns, fileSha256: PLACEHOLDER_SHA256, salt: opts.salt },
        l.line,
        l.text,
      );
      if ('issues' in row) for (const i of row.issues) report(l.line, i.field, i.message);
      else if (row.ownUid) ownUids += 1;
    }
  } catch (err) {
    if (err instanceof NotUtf8Error || err instanceof LineTooLongError) return fatal(err.message);
    const code = (err as { code?: string; name?: string }).code ?? (err as { name?: string }).name;
    return fatal(`cannot be read (${code ?? 'error'}): ${(err as Error).message}`);
  }
  if (sizeBytes === 0) return fatal('is empty');
  if (rows === 0) return fatal('has no measurements');
  if (issueCount > 0) return { issues, issueCount };
  return {
    file: {
      source,
      name: sourceName(source),
      format,
      sha256: hash.digest('hex'),
      sizeBytes,
      rows,
      ownUids,
      ...(header !== undefined ? { header } : {}),
      dataOffset,
      dataLine,
    },
    issues,
    issueCount,
  };
}
