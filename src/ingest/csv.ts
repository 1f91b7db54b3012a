// CSV of measurements: a header line naming the columns, then one measurement per line.
//
// Columns: `uid`, `meter`, `account`, `ts`, `ets`, and `<map>.<key>` for each field map of m3ter's
// Measurement: string maps `who`, `where`, `what`, `other`, `metadata`; number maps `measure`, `cost`,
// `income`. An empty cell leaves the field out. Fields are comma-separated, optionally double-quoted
// (`""` inside quotes is one quote). A record is one line: a line break inside quotes is not supported,
// because the ingest activities read the file in slices that start at any line.

/** Columns that hold one field of the measurement. */
export const CSV_SCALAR_COLUMNS = ['uid', 'meter', 'account', 'ts', 'ets'] as const;
/** Field maps whose values are strings. */
export const CSV_STRING_MAPS = ['who', 'where', 'what', 'other', 'metadata'] as const;
/** Field maps whose values are numbers. */
export const CSV_NUMBER_MAPS = ['measure', 'cost', 'income'] as const;
const REQUIRED_COLUMNS = ['meter', 'account', 'ts'] as const;

type Scalar = (typeof CSV_SCALAR_COLUMNS)[number];
type StringMap = (typeof CSV_STRING_MAPS)[number];
type NumberMap = (typeof CSV_NUMBER_MAPS)[number];

export type CsvColumn =
  | { kind: 'scalar'; field: Scalar }
  | { kind: 'string'; map: StringMap; key: string }
  | { kind: 'number'; map: NumberMap; key: string };

export interface FieldIssue {
  /** The measurement field (`measure.quantity`) or the column/row the problem is in. */
  field: string;
  message: string;
}

/** Splits one CSV line into its fields; undefined when a quote is left open or stray text follows one. */
export function splitCsvLine(text: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) return undefined;
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(value);
      if (i === text.length) return out;
      if (text[i] !== ',') return undefined;
      i += 1;
    } else {
      const c = text.indexOf(',', i);
      if (c === -1) {
        out.push(text.slice(i));
        return out;
      }
      out.push(text.slice(i, c));
      i = c + 1;
    }
  }
}

const isOneOf = <T extends string>(list: readonly T[], v: string): v is T =>
  (list as readonly string[]).includes(v);

/** The header's columns, or every problem with it. */
export function parseCsvHeader(text: string): { columns: CsvColumn[] } | { issues: FieldIssue[] } {
  const names = splitCsvLine(text);
  if (!names)
    return { issues: [{ field: 'header', message: 'is not a valid CSV line (an unclosed quote?)' }] };
  const issues: FieldIssue[] = [];
  const columns: CsvColumn[] = [];
  const seen = new Set<string>();
  names.forEach((raw, i) => {
    const name = raw.trim();
    const where = `header column ${i + 1}`;
    if (seen.has(name)) issues.push({ field: where, message: `repeats the column ${name}` });
    seen.add(name);
    if (isOneOf(CSV_SCALAR_COLUMNS, name)) {
      columns.push({ kind: 'scalar', field: name });
      return;
    }
    const dot = name.indexOf('.');
    const map = dot === -1 ? '' : name.slice(0, dot);
    const key = dot === -1 ? '' : name.slice(dot + 1);
    if (key !== '' && isOneOf(CSV_STRING_MAPS, map)) columns.push({ kind: 'string', map, key });
    else if (key !== '' && isOneOf(CSV_NUMBER_MAPS, map)) columns.push({ kind: 'number', map, key });
    else
      issues.push({
        field: where,
        message:
          `${JSON.stringify(name.slice(0, 80))} is not a column: use ${CSV_SCALAR_COLUMNS.join(', ')} or ` +
          `<map>.<field> with map one of ${[...CSV_STRING_MAPS, ...CSV_NUMBER_MAPS].join(', ')}`,
      });
  });
  for (const r of REQUIRED_COLUMNS)
    if (!seen.has(r)) issues.push({ field: 'header', message: `must have a ${r} column` });
  return issues.length > 0 ? { issues } : { columns };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * One data line as a measurement-shaped object (not yet validated) and the problems found on the way (a
 * cell that is not a number is left out of the record, so the record's own check still runs); only a line
 * that cannot be split has no record.
 */
export function csvRecord(
  columns: readonly CsvColumn[],
  text: string,
): { record?: Record<string, unknown>; issues: FieldIssue[] } {
  const cells = splitCsvLine(text);
  if (!cells) return { issues: [{ field: 'row', message: 'is not a valid CSV line (an unclosed quote?)' }] };
  if (cells.length !== columns.length)
    return {
      issues: [{ field: 'row', message: `has ${cells.length} fields, the header ${columns.length}` }],
    };
  const record: Record<string, unknown> = {};
  const issues: FieldIssue[] = [];
  columns.forEach((col, i) => {
    const cell = cells[i];
    if (cell === '') return;
    if (col.kind === 'scalar') {
      record[col.field] = cell;
      return;
    }
    const map = (record[col.map] ??= {}) as Record<string, unknown>;
    if (col.kind === 'string') {
      map[col.key] = cell;
      return;
    }
    const n = Number(cell.trim());
    if (!NUMBER.test(cell.trim()) || !Number.isFinite(n))
      issues.push({ field: `${col.map}.${col.key}`, message: 'must be a number' });
    else map[col.key] = n;
  });
  return { record, issues };
}
