// File names of exports: unique per export (a readable part plus a short hash of the full ids, so ids that
// sanitize to the same text never share a file) and never truncated (so the extension always survives).
import { createHash } from 'node:crypto';

/** Longest name storage accepts; generated names stay well under it, leaving room for suffixes. */
export const MAX_FILE_NAME = 200;
/** The readable part of a generated base name, and of its suffix (the job id) within it. */
const READABLE_MAX = 150;
const SUFFIX_MAX = 60;

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** Keeps names to `[A-Za-z0-9._-]`, no leading dot (hidden/temp namespace); refuses what it cannot keep whole. */
export function sanitizeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  if (!cleaned || cleaned === '.' || cleaned === '..') throw new Error(`invalid storage file name "${name}"`);
  // Truncating would let two long names share a file and drop the extension.
  if (cleaned.length > MAX_FILE_NAME)
    throw new Error(`invalid storage file name: longer than ${MAX_FILE_NAME} characters`);
  return cleaned;
}

/**
 * `<workflowId>__<suffix>` made safe and cut to a readable length (the workflow id is cut first, so the
 * job id stays readable), then `-` and 12 hex digits of the SHA-256 of the exact ids. Deterministic, so
 * retries find the same partial file and manifest.
 */
export function exportFileBase(workflowId: string, suffix: string): string {
  const tail = safe(suffix).slice(0, SUFFIX_MAX);
  const readable = `${safe(workflowId).slice(0, READABLE_MAX - 2 - tail.length)}__${tail}`
    .replace(/^[._]+/, '')
    .replace(/[._]+$/, '');
  const id = createHash('sha256').update(workflowId).update('\0').update(suffix).digest('hex').slice(0, 12);
  return `${readable || 'export'}-${id}`;
}
