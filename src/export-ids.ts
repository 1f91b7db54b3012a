// Deterministic workflow ids for export requests, used on the client side (CLI, schedules, tests).
//
// Starting the same request twice must attach to the existing run instead of exporting twice, so the id is
// a pure function of the request: kind, the caller's name (or 'adhoc'), the window start, and a short hash
// of the canonical JSON of the request (key order does not matter, array order does). Workflows never
// compute ids: this file uses node:crypto, which the workflow sandbox cannot load; workflows receive ids.
import { createHash } from 'node:crypto';

export {
  M3terExportJobId,
  M3terExportKind,
  SEARCH_ATTRIBUTE_JOB_ID,
  SEARCH_ATTRIBUTE_KIND,
} from './contract/search-attributes';

export type { ExportKind } from './contract/vocabulary';
import type { ExportKind } from './contract/vocabulary';

/** JSON with object keys sorted recursively; `undefined` members dropped (as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** First 12 hex characters of the SHA-256 of the request's canonical JSON. */
export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex').slice(0, 12);
}

// Workflow ids may hold any UTF-8, but ids also become file names (sanitized again in storage) and appear in
// shell commands; keep them to a boring alphabet.
function idPart(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'x'
  );
}

/**
 * `export:<kind>:<name|adhoc>:<startDate|all>:<hash12>`, e.g.
 * `export:usage:adhoc:2025-05-01T00-00-00Z:1f2e3d4c5b6a`. The date part is the request's `startDate`
 * with characters outside `[A-Za-z0-9._-]` replaced, so the id is readable and still unique.
 */
export function exportWorkflowId(kind: ExportKind, request: unknown, name?: string): string {
  const startDate =
    request !== null &&
    typeof request === 'object' &&
    typeof (request as { startDate?: unknown }).startDate === 'string'
      ? (request as { startDate: string }).startDate
      : undefined;
  return [
    'export',
    kind,
    name ? idPart(name) : 'adhoc',
    startDate ? idPart(startDate) : 'all',
    requestHash({ kind, request }),
  ].join(':');
}

/** The export kind a request describes: USAGE/OPERATIONAL ad-hoc exports, or the bill CSV. */
export function exportKindOf(request: { sourceType?: string } | undefined): ExportKind {
  if (request?.sourceType === 'USAGE') return 'usage';
  if (request?.sourceType === 'OPERATIONAL') return 'operational';
  return 'bills';
}
