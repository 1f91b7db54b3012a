// Where objects go: Hive-style partitions (query engines prune them) and the hidden temporary keys of a
// transfer (a leading dot, which those engines skip). Pure functions.
import type { FilePlacement } from '../types';

export function joinKey(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
}

/** A Hive partition value: no '/', '=' or anything a query engine would need to escape. */
function partitionValue(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || '_';
}

/**
 * `<prefix>/export=<name>/date=YYYY-MM-DD[/hour=HH]`: the window's start in UTC; `hour=` only for windows of
 * at most one hour.
 */
export function partitionPrefix(prefix: string, placement: FilePlacement): string {
  const name = partitionValue(placement.exportName || 'adhoc');
  const start = Date.parse(placement.window?.start ?? '');
  const end = Date.parse(placement.window?.end ?? '');
  const fallback = Date.parse(placement.fallbackDate ?? '');
  const at = new Date(
    Number.isNaN(start) ? (Number.isNaN(fallback) ? Date.now() : fallback) : start,
  ).toISOString();
  const hourly = !Number.isNaN(start) && !Number.isNaN(end) && end > start && end - start <= 3_600_000;
  return joinKey(
    prefix,
    `export=${name}`,
    `date=${at.slice(0, 10)}`,
    ...(hourly ? [`hour=${at.slice(11, 13)}`] : []),
  );
}

/** The multipart upload a download streams into when it cannot go straight to its final key, and the resume checkpoint object. */
export function temporaryKeys(dir: string, name: string): { tempKey: string; checkpointKey: string } {
  const tempKey = joinKey(dir, `.${name}.partial`);
  return { tempKey, checkpointKey: `${tempKey}.checkpoint.json` };
}

/**
 * Whether `key` is one a writer of `name` may upload to: its temporary key, or a final key of `name` with an
 * extension (`name.csv`, `name.csv.gz`, ...): the extension is known only once the download answers.
 */
export function isUploadKeyOf(dir: string, name: string, key: string): boolean {
  if (key === temporaryKeys(dir, name).tempKey) return true;
  const final = joinKey(dir, name);
  return key.startsWith(final) && /^(\.[A-Za-z0-9]+)*$/.test(key.slice(final.length));
}

export function contentTypeFor(file: string): string {
  if (/\.gz$/i.test(file)) return 'application/gzip';
  if (/\.zip$/i.test(file)) return 'application/zip';
  if (/\.csv$/i.test(file)) return 'text/csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'application/x-ndjson';
  if (/\.json$/i.test(file)) return 'application/json';
  return 'application/octet-stream';
}
