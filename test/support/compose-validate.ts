// Builds (once, cached) and runs test/support/compose-validate: a small Go program on compose-go, the
// loader Docker Compose v2 uses, so compose files are checked as `docker compose` would read them without a
// Docker engine. The module's go.mod/go.sum pin compose-go; `go build` fetches it from the Go module proxy.
// The binary is cached by a hash of the program's files, in the same cache folder as the Temporal CLI.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../../tooling/devserver/find-cli';

const SOURCE_DIR = path.join(__dirname, 'compose-validate');
const SOURCES = ['main.go', 'go.mod', 'go.sum'];

function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...opts, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The validator binary, built with `go build` on first use (seconds with a warm module cache). */
export async function ensureComposeValidator(log: (m: string) => void = () => undefined): Promise<string> {
  const hash = createHash('sha256');
  for (const f of SOURCES) hash.update(f).update(fs.readFileSync(path.join(SOURCE_DIR, f)));
  const dir = path.join(cacheDir(), 'compose-validate', hash.digest('hex').slice(0, 16));
  const bin = path.join(dir, 'compose-validate');
  if (fs.existsSync(bin)) return bin;
  // Built from a copy, so nothing Go writes lands in the repository.
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const work = fs.mkdtempSync(path.join(path.dirname(dir), 'build-'));
  try {
    for (const f of SOURCES) fs.copyFileSync(path.join(SOURCE_DIR, f), path.join(work, f));
    const started = Date.now();
    const tmpBin = path.join(work, 'compose-validate');
    const r = await run('go', ['build', '-trimpath', '-o', tmpBin, '.'], {
      cwd: work,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
    });
    if (r.code !== 0) throw new Error(`go build of the compose validator failed:\n${r.stderr.slice(-3000)}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(tmpBin, bin);
    log(`built ${bin} in ${Math.round((Date.now() - started) / 1000)} s`);
    return bin;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  ports?: { host_ip?: string; target: number; published?: string; protocol?: string }[];
  depends_on?: Record<string, { condition: string; required: boolean }>;
  healthcheck?: { test?: string[]; interval?: string };
  deploy?: { replicas?: number };
  cpu_shares?: number;
  profiles?: string[];
  volumes?: { type: string; source?: string; target: string }[];
  secrets?: { source: string; target?: string }[];
}

export interface ComposeProject {
  name: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  /** File-based secrets: the host file each is read from. */
  secrets?: Record<string, { name?: string; file?: string }>;
}

export type ComposeResult = { ok: true; project: ComposeProject } | { ok: false; error: string };

/** Loads compose files as Docker Compose would, with only the given variables and profiles. */
export async function loadCompose(
  files: string[],
  opts: { env?: Record<string, string>; profiles?: string[] } = {},
): Promise<ComposeResult> {
  const bin = await ensureComposeValidator();
  const args = [
    ...(opts.profiles ?? []).flatMap((p) => ['-profile', p]),
    ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-env', `${k}=${v}`]),
    ...files,
  ];
  const r = await run(bin, args);
  if (r.code !== 0) return { ok: false, error: r.stderr.trim() || `exit ${r.code}` };
  return { ok: true, project: JSON.parse(r.stdout) as ComposeProject };
}
