// Hashes of requests and definitions: the part of ids and change detection that needs node:crypto, which
// workflow code cannot load (the id formats themselves are in src/contract/ids.ts).
import { createHash } from 'node:crypto';
import { adhocExportWorkflowId } from '../contract/ids';
import type { ExportKind } from '../contract/vocabulary';
import type { ExportDefinition } from './types';

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

/** First 12 hex characters of the SHA-256 of the request's canonical JSON (key order does not matter). */
export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex').slice(0, 12);
}

/**
 * The workflow id of an ad-hoc export request: starting the same request twice attaches to the existing run
 * instead of exporting twice, because the id is a pure function of kind, name, start date and request.
 */
export function exportWorkflowId(kind: ExportKind, request: unknown, name?: string): string {
  const startDate =
    request !== null &&
    typeof request === 'object' &&
    typeof (request as { startDate?: unknown }).startDate === 'string'
      ? (request as { startDate: string }).startDate
      : undefined;
  return adhocExportWorkflowId(kind, name, startDate, requestHash({ kind, request }));
}

/**
 * Stable hash of one export definition: the first 16 hex characters of the SHA-256 of its canonical JSON
 * (key order does not matter). It covers the resolved values, so a changed `${VAR}` value changes it,
 * while the hash itself reveals nothing about them. Alert channels are referenced by name only, so their
 * URLs and secrets are not part of it.
 */
export function definitionHash(def: ExportDefinition): string {
  return createHash('sha256').update(canonicalJson(def)).digest('hex').slice(0, 16);
}
