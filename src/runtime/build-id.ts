// The build id a worker reports to its Worker Deployment when TEMPORAL_BUILD_ID is unset. A build id must
// change whenever the workflow code changes (pinned workflows stay on the build that started them), so the
// default names the code: the package version plus the git commit, or, where there is no git checkout (the
// image), plus a digest of the prebuilt workflow bundle the worker runs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The repository (or image) root: from the sources `src/runtime/`, compiled `dist/src/runtime/`. */
const ROOT = path.resolve(__dirname, __filename.endsWith('.ts') ? '../..' : '../../..');

function packageVersion(root: string): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function gitCommit(root: string): string | undefined {
  if (!fs.existsSync(path.join(root, '.git'))) return undefined;
  try {
    const out = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    });
    const commit = out.toString().trim();
    return /^[0-9a-f]{7,40}$/.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

function bundleDigest(bundlePath: string | undefined): string | undefined {
  if (!bundlePath || !fs.existsSync(bundlePath)) return undefined;
  return createHash('sha256').update(fs.readFileSync(bundlePath)).digest('hex').slice(0, 12);
}

/** `<version>+<commit>`, else `<version>+wf.<bundle digest>`, else `<version>`. */
export function defaultBuildId(opts: { root?: string; bundlePath?: string } = {}): string {
  const root = opts.root ?? ROOT;
  const version = packageVersion(root);
  const commit = gitCommit(root);
  if (commit) return `${version}+${commit}`;
  const digest = bundleDigest(opts.bundlePath);
  return digest ? `${version}+wf.${digest}` : version;
}
