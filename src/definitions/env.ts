// `${VAR}` references in definition files, resolved from the environment when the file is loaded.
//
// References may appear inside any string value (`https://hooks.example.com/${HOOK_PATH}`); `$${` writes
// a literal `${`. A resolved value is always a string. Values are secrets as far as this module knows:
// problems name the field and the variable, never the value, and the substitutions are returned so the
// caller can keep values out of every other message too.

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

export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  path: PathSegment[] = [],
): SubstitutionResult {
  const result: SubstitutionResult = { value: undefined, problems: [], substitutions: [], unresolved: [] };
  result.value = walk(value, path, env, result);
  return result;
}

function walk(
  value: unknown,
  path: PathSegment[],
  env: Record<string, string | undefined>,
  out: SubstitutionResult,
): unknown {
  if (typeof value === 'string') return substituteString(value, path, env, out);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i], env, out));
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) copy[k] = walk(v, [...path, k], env, out);
    return copy;
  }
  return value;
}

function substituteString(
  raw: string,
  path: PathSegment[],
  env: Record<string, string | undefined>,
  out: SubstitutionResult,
): string {
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
    if (!VAR_NAME.test(name)) {
      out.problems.push({
        path,
        message: `\${${name}} is not a valid variable reference (letters, digits and _, not starting with a digit)`,
      });
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
