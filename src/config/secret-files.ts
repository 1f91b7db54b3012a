// Secrets as files: `<NAME>_FILE=/run/secrets/x` gives `<NAME>` the file's contents, the way Docker and
// Kubernetes secrets are mounted, so a secret need not sit in the process environment (where `docker
// inspect`, `/proc/<pid>/environ` and crash reports show it). Setting both is refused: which one wins
// would be a guess. Problems name the variable and the path, never the contents.
import fs from 'node:fs';
import type { ConfigIssue } from './config';

type Env = Record<string, string | undefined>;

/** The variables that may come from a file, each with its `_FILE` variable's value. */
function secretFiles(env: Env): Array<[name: string, file: string | undefined]> {
  return [
    ['M3TER_ACCESS_KEY_ID', env.M3TER_ACCESS_KEY_ID_FILE],
    ['M3TER_API_SECRET', env.M3TER_API_SECRET_FILE],
    ['TEMPORAL_API_KEY', env.TEMPORAL_API_KEY_FILE],
    ['ALERT_WEBHOOK_URL', env.ALERT_WEBHOOK_URL_FILE],
  ];
}

/** A secret is short; a larger file is the wrong file. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * `env` with every `<NAME>_FILE` above read into `<NAME>` (one trailing newline
 * dropped), and the problems found, all of them.
 */
export function resolveSecretFiles(env: Env): { env: Env; issues: ConfigIssue[] } {
  const out: Env = { ...env };
  const issues: ConfigIssue[] = [];
  for (const [name, fileValue] of secretFiles(env)) {
    const fileVar = `${name}_FILE`;
    const file = fileValue?.trim();
    if (!file) continue;
    if (env[name]?.trim()) {
      issues.push({ variable: fileVar, message: `is set together with ${name}: set one of them` });
      continue;
    }
    const problem = readSecret(file);
    if (typeof problem === 'object') issues.push({ variable: fileVar, message: problem.message });
    else out[name] = problem;
    delete out[fileVar];
  }
  return { env: out, issues };
}

function readSecret(file: string): string | { message: string } {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return { message: `${file} is not a file` };
    if (stat.size > MAX_SECRET_FILE_BYTES)
      return { message: `${file} is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB: not a secret` };
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      message:
        code === 'ENOENT'
          ? `${file} does not exist`
          : code === 'EACCES'
            ? `${file} is not readable by this user`
            : `${file} cannot be read (${code ?? 'error'})`,
    };
  }
  const value = text.replace(/\r?\n$/, '');
  if (value.trim() === '') return { message: `${file} is empty` };
  if (/[\r\n]/.test(value)) return { message: `${file} holds more than one line` };
  return value;
}
