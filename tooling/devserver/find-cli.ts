// Finds (or builds) a `temporal` CLI binary for the embedded dev server, in a fixed order:
//   1. TEMPORAL_CLI_PATH          an explicit binary wins
//   2. `temporal` on PATH
//   3. a cached build in the cache folder (~/.cache/m3ter-export-worker/temporal-cli/<version>/temporal)
//   4. a fresh `go install github.com/temporalio/cli/cmd/temporal@<version>` with GOBIN = that folder, when Go exists
//   5. null: the caller falls back to the Temporal SDK's own download (needs internet)
// Step 4 exists because CI machines here reach package registries (incl. the Go module proxy) but not
// GitHub releases, where the SDK downloads its server from. v1.5.1 is pinned: later tags carry a `replace`
// directive in go.mod, which `go install pkg@version` refuses.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type CliSource = 'env' | 'path' | 'cache' | 'go-install';
export interface FoundCli {
  path: string;
  source: CliSource;
}

export interface FindCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Build with Go when nothing is found (default true). */
  allowBuild?: boolean;
  log?: (msg: string) => void;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.M3TER_CACHE_DIR) return env.M3TER_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'm3ter-export-worker');
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function hasGo(env: NodeJS.ProcessEnv): boolean {
  return spawnSync('go', ['version'], { env, stdio: 'ignore' }).status === 0;
}

function goInstall(gobin: string, env: NodeJS.ProcessEnv): Promise<void> {
  fs.mkdirSync(gobin, { recursive: true });
  return new Promise((resolve, reject) => {
    execFile(
      'go',
      ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`],
      // CGO off: the CLI embeds a pure-Go SQLite, and a static binary survives libc differences.
      { env: { ...env, GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-trimpath' }, maxBuffer: 64 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (err)
          reject(
            new Error(
              `go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} failed: ${stderr.slice(-2000)}`,
            ),
          );
        else resolve();
      },
    );
  });
}

export async function findTemporalCli(opts: FindCliOptions = {}): Promise<FoundCli | null> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);

  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) {
      throw new Error(`TEMPORAL_CLI_PATH: ${env.TEMPORAL_CLI_PATH} is not an executable file`);
    }
    return { path: env.TEMPORAL_CLI_PATH, source: 'env' };
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return { path: fromPath, source: 'path' };

  const cached = cachedCliPath(env);
  if (isExecutable(cached)) return { path: cached, source: 'cache' };

  if (opts.allowBuild !== false && hasGo(env)) {
    log(
      `building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (first run only; a few minutes) ...`,
    );
    const started = Date.now();
    await goInstall(path.dirname(cached), env);
    if (!isExecutable(cached)) throw new Error(`go install finished but ${cached} is missing`);
    log(`built ${cached} in ${Math.round((Date.now() - started) / 1000)} s`);
    return { path: cached, source: 'go-install' };
  }
  return null;
}
