// The file formats `ingest` accepts, chosen by the file name's extension.

export const IngestFormat = {
  /** A header line naming the columns, then one measurement per line (see ./csv-columns.ts). */
  csv: 'csv',
  /** One JSON object per line, in the shape of m3ter's own Measurement. */
  jsonl: 'jsonl',
} as const;
export type IngestFormat = (typeof IngestFormat)[keyof typeof IngestFormat];

const EXTENSIONS: ReadonlyArray<[string, IngestFormat]> = [
  ['.csv', IngestFormat.csv],
  ['.jsonl', IngestFormat.jsonl],
  ['.ndjson', IngestFormat.jsonl],
];

/** The extensions `ingest` picks up, also when it expands a directory or an S3 prefix. */
export const INGEST_EXTENSIONS = EXTENSIONS.map(([ext]) => ext);

/** The format of a file by its name, or undefined when the extension is not one `ingest` reads. */
export function formatOfName(name: string): IngestFormat | undefined {
  const lower = name.toLowerCase();
  return EXTENSIONS.find(([ext]) => lower.endsWith(ext))?.[1];
}
