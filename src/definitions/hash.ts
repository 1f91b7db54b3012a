import { createHash } from 'node:crypto';
import { canonicalJson } from '../export-ids';
import type { ExportDefinition } from './types';

/**
 * Stable hash of one export definition: the first 16 hex characters of the SHA-256 of its canonical JSON
 * (key order does not matter). It covers the resolved values, so a changed `${VAR}` value changes it,
 * while the hash itself reveals nothing about them. Alert channels are referenced by name only, so their
 * URLs and secrets are not part of it.
 */
export function definitionHash(def: ExportDefinition): string {
  return createHash('sha256').update(canonicalJson(def)).digest('hex').slice(0, 16);
}
