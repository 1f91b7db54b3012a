// `${VAR}` references in definition files, resolved from the environment when the file is loaded.
//
// References may appear only where a caller allows them (the definitions file: an alert channel's `url`,
// `secret` and `routingKey`, where secrets belong), inside the string (`https://hooks.example.com/${PATH}`);
// `$${` writes a literal `${` anywhere. A reference elsewhere would carry a value into schedule inputs,
// workflow history and terminal output. Variables holding the worker's own credentials are never
// resolved. A resolved value is always a string. Values are secrets as far as this module knows: problems
// name the field and the variable, never the value, and the substitutions are returned so the caller can
// keep values out of every other message too.

export type PathSegment = string | number;

export interface Problem {
  path: PathSegment[];
  message: string;
}

/** One string value that contained references: where, as written, and which variables it used. */
export interface Substitution {
  path: PathSegment[];
  raw: string;
  resolved: string;
  vars: string[];
}

export interface SubstitutionResult {
  value: unknown;
  problems: Problem[];
  substitutions: Substitution[];
  /** Paths whose references could not all be resolved: their other problems would only be noise. */
  unresolved: PathSegment[][];
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The worker's own configuration and credentials (and the AWS SDK's): never readable from a definitions file. */
export const WORKER_VARIABLE = /^(?:M3TER_|TEMPORAL_|AWS_)/;
export const WORKER_VARIABLE_RULE =
  "names one of the worker's own variables (M3TER_*, TEMPORAL_*, AWS_*), which a definitions file may not read";

export interface SubstituteOptions {
  /** Whether a `${VAR}` may appear at this path; default: anywhere. */
  allowedAt?: (path: PathSegment[]) => boolean;
  /** Why references are refused elsewhere (the problem's message). */
  where?: string;
}

interface Walk {
  env: Record<string, string | undefined>;
  opts: SubstituteOptions;
  out: SubstitutionResult;
}

export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  path: PathSegment[] = [],
  opts: SubstituteOptions = {},
): SubstitutionResult {
  const result: SubstitutionResult = { value: undefined, problems: [], substitutions: [], unresolved: [] };
  result.value = walk(value, path, { env, opts, out: result });
  return result;
}

function walk(value: unknown, path: PathSegment[], w: Walk): unknown {
  if (typeof value === 'string') return substituteString(value, path, w);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i], w));
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    // Defined, not assigned: a `__proto__` key must stay a key, never become the copy's prototype.
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(copy, k, {
        value: walk(v, [...path, k], w),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return copy;
  }
  return value;
}

function substituteString(raw: string, path: PathSegment[], w: Walk): string {
  const { env, out } = w;
  const allowed = w.opts.allowedAt?.(path) ?? true;
  if (!raw.includes('$')) return raw;
  let resolved = '';
  let ok = true;
  const vars: string[] = [];
  let i = 0;
  while (i < raw.length) {
    if (raw.startsWith('$${', i)) {
      resolved += '${';
      i += 3;
      continue;
    }
    if (!raw.startsWith('${', i)) {
      resolved += raw[i++];
      continue;
    }
    const close = raw.indexOf('}', i + 2);
    if (close === -1) {
      out.problems.push({ path, message: 'has a ${ without a closing } (write $${ for a literal ${)' });
      ok = false;
      break;
    }
    const name = raw.slice(i + 2, close);
    i = close + 1;
    if (!allowed) {
      out.problems.push({
        path,
        message: `\${${name}}: environment references are only allowed ${w.opts.where ?? 'elsewhere'} (write $\${ for a literal \${)`,
      });
      ok = false;
      continue;
    }
    if (!VAR_NAME.test(name)) {
      out.problems.push({
        path,
        message: `\${${name}} is not a valid variable reference (letters, digits and _, not starting with a digit)`,
      });
      ok = false;
      continue;
    }
    if (WORKER_VARIABLE.test(name)) {
      out.problems.push({ path, message: `\${${name}} ${WORKER_VARIABLE_RULE}` });
      ok = false;
      continue;
    }
    const v = env[name];
    if (v === undefined) {
      out.problems.push({ path, message: `\${${name}} is not set in the environment` });
      ok = false;
    } else if (v === '') {
      out.problems.push({ path, message: `\${${name}} is set but empty in the environment` });
      ok = false;
    } else {
      resolved += v;
      if (!vars.includes(name)) vars.push(name);
    }
  }
  if (!ok) {
    out.unresolved.push(path);
    return raw;
  }
  if (vars.length > 0) out.substitutions.push({ path, raw, resolved, vars });
  return resolved;
}
