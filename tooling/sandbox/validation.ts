import { z } from 'zod';
import { badRequest } from './errors';

/**
 * Request validation shared by the m3ter routes. Every refusal is a 400 whose message starts with
 * the offending field's path (`aggregations[0].function: ...`), so a client can tell what to fix.
 */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || 'body';
}

export function parseOrThrow<T>(
  schema: z.ZodType<T>,
  input: unknown,
  prefix: ReadonlyArray<PropertyKey> = [],
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = formatPath([...prefix, ...issue.path]);
  const message = /received undefined$/.test(issue.message) ? 'is required' : issue.message;
  throw badRequest(`${field}: ${message}`);
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** ISO 8601 date-time with an explicit zone ("Z" or an offset), as m3ter's `date-time` fields. */
export const isoDateTime = z
  .string({
    error: (iss) => (iss.input === undefined ? 'is required' : 'must be an ISO 8601 date-time string'),
  })
  .refine((s) => ISO_DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an ISO 8601 date-time with a zone, e.g. 2025-01-01T00:00:00Z',
  });

/**
 * m3ter's code pattern: 1-80 characters, no control characters, no leading or trailing whitespace,
 * and the only whitespace allowed inside is a plain space (docs/m3ter-api.md, Code fields).
 */
export function isValidCode(s: string): boolean {
  if (s.length < 1 || s.length > 80) return false;
  if (/\p{Cc}/u.test(s)) return false;
  if (/[^\S ]/u.test(s)) return false;
  return s.trim() === s;
}

export const codeString = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
  .refine(isValidCode, {
    message: 'must be 1-80 characters without control characters or leading/trailing whitespace',
  });

export const stringArray = z.array(z.string({ error: 'must be a string' }), {
  error: 'must be an array of strings',
});

/**
 * Accept array query parameters both repeated (`ids=a&ids=b`) and comma-joined (`ids=a,b`)
 * (docs/m3ter-api.md, Array query parameters).
 */
export function queryArray(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const raw = Array.isArray(value) ? value : [value];
  return raw
    .flatMap((v) => String(v).split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function querySingle(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length !== 1) throw badRequest(`${field}: must be given once`);
    return String(value[0]);
  }
  return String(value);
}

export function parsePageSize(value: unknown, defaultSize: number): number {
  const raw = querySingle(value, 'pageSize');
  if (raw === undefined) return defaultSize;
  if (!/^\d+$/.test(raw)) throw badRequest('pageSize: must be an integer between 1 and 100');
  const n = Number(raw);
  if (n < 1 || n > 100) throw badRequest('pageSize: must be between 1 and 100');
  return n;
}

export function parseBooleanQuery(value: unknown, field: string): boolean | undefined {
  const raw = querySingle(value, field);
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw badRequest(`${field}: must be true or false`);
}
