import type { z } from 'zod';
import { M3terRequestValidationError, M3terResponseValidationError, type ValidationIssue } from './errors';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** `['data', 3, 'status']` -> `data[3].status`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
}

/**
 * Per-parse error map: turns zod's generic messages into messages that state the rule broken ("must be
 * after startDate"), so that whoever reads the error knows what to change.
 * Messages never include the offending value, because the value may be a secret or a presigned
 * URL (response validation runs over token and download-URL bodies too).
 */
export function ruleMessage(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      if (iss.input === null) return `must be ${article(iss.expected)} ${iss.expected}, not null`;
      return `must be ${article(iss.expected)} ${iss.expected}`;
    case 'too_small': {
      const min = iss.minimum;
      const orEq = iss.inclusive === false ? '>' : '>=';
      if (iss.origin === 'array' || iss.origin === 'set')
        return `must contain at least ${plural(min, 'item')}`;
      if (iss.origin === 'string') return `must be at least ${plural(min, 'character')} long`;
      return `must be ${orEq} ${min}`;
    }
    case 'too_big': {
      const max = iss.maximum;
      const orEq = iss.inclusive === false ? '<' : '<=';
      if (iss.origin === 'array' || iss.origin === 'set')
        return `must contain at most ${plural(max, 'item')}`;
      if (iss.origin === 'string') return `must be at most ${plural(max, 'character')} long`;
      return `must be ${orEq} ${max}`;
    }
    case 'invalid_value':
      return `must be one of ${iss.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      if (iss.format === 'datetime')
        return 'must be an ISO 8601 date-time with a timezone (e.g. 2025-05-20T00:00:00Z)';
      if (iss.format === 'url') return 'must be a URL';
      if (iss.format === 'regex') return 'has an invalid format';
      return `must be a valid ${iss.format}`;
    case 'not_multiple_of':
      return iss.divisor === 1 ? 'must be an integer' : `must be a multiple of ${iss.divisor}`;
    case 'unrecognized_keys':
      return `unrecognised field${iss.keys.length === 1 ? '' : 's'}: ${iss.keys.join(', ')}`;
    case 'invalid_union':
      if ('discriminator' in iss && Array.isArray(iss.options))
        return `must be one of ${iss.options.map((v) => String(v)).join(', ')}`;
      return 'does not match any allowed shape';
    default:
      return undefined;
  }
}

export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.flatMap((i: Issue) => {
    // One issue per unknown key, at the key's own path, so the message names the field.
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ path: formatPath([...i.path, k]), message: 'is not a recognised field' }));
    }
    // Zod reports integer violations on numbers as invalid_type(expected int).
    const message = i.code === 'invalid_type' && i.expected === 'int' ? 'must be an integer' : i.message;
    return { path: formatPath(i.path), message };
  });
}

/**
 * Parses with the schema, and only when that fails again with the rule messages: an error map passed to a
 * parse costs every valid value too (a large request body, a page of events), and nearly all are valid.
 */
function parseWithRules<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { success: true; data: z.output<S> } | { success: false; error: z.ZodError } {
  const r = schema.safeParse(input);
  if (r.success) return r;
  return schema.safeParse(input, { error: ruleMessage }) as { success: false; error: z.ZodError };
}

export function validateRequest<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = parseWithRules(schema, input);
  if (r.success) return r.data;
  throw new M3terRequestValidationError(`Invalid ${what}`, toIssues(r.error));
}

export function validateResponse<S extends z.ZodType>(
  schema: S,
  body: unknown,
  ctx: { method: string; path: string; status?: number; requestId?: string; attempts?: number },
): z.output<S> {
  const r = parseWithRules(schema, body);
  if (r.success) return r.data;
  throw new M3terResponseValidationError(
    `Invalid response from ${ctx.method} ${ctx.path}`,
    toIssues(r.error),
    {
      method: ctx.method,
      path: ctx.path,
      status: ctx.status,
      requestId: ctx.requestId,
      attempts: ctx.attempts,
    },
  );
}
