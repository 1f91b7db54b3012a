// The Docker image's layout, built from this checkout, so a bench's worker runs as the image runs it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nodeFlagsFor, runningMajor, toolFlagsFor } from '../src/runtime/heap-flags';
import { writeWorkflowBundle } from '../src/runtime/workflow-bundle';
import { parseDockerfile } from '../test/support/dockerfile';

const ROOT = path.resolve(__dirname, '..');

/**
 * The Docker image's layout in `dir`: bin/, dist/ compiled by tsc with the prebuilt workflow bundle,
 * node_modules (linked), and no sources, so bin/ runs the compiled code and the worker loads
 * dist/workflow-bundle.js (src/runtime/workflow-bundle.ts). Its RSS is the image's.
 */
export async function buildCompiledInstall(
  dir: string,
  say: (m: string) => void,
  lane: string,
): Promise<string> {
  say(`${lane}: building a compiled install, as the Docker image has it ...`);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync(
    process.execPath,
    [
      require.resolve('typescript/bin/tsc'),
      '-p',
      path.join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      path.join(dir, 'dist'),
    ],
    { stdio: 'inherit' },
  );
  fs.cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await writeWorkflowBundle(path.join(dir, 'dist', 'workflow-bundle.js'));
  return dir;
}

/**
 * The environment the image's worker stage sets for the process's memory allocator (`MALLOC_*`), for a
 * bench's worker to run as the image runs it. Its network and path settings are the container's and stay out.
 */
export function imageAllocatorEnv(): Record<string, string> {
  const worker = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).at(-1)!;
  return Object.fromEntries(Object.entries(worker.env).filter(([name]) => name.startsWith('MALLOC_')));
}

/**
 * The memory settings a bench's worker runs with:
 * - `image`: as the image runs it, glibc with the image's `MALLOC_*` and node with `nodeFlagsFor`;
 * - `defaults`: glibc and V8 at their defaults, but for the young-generation cap the download path needs;
 * - `jemalloc`: the image's node flags, with jemalloc preloaded in place of glibc's malloc.
 */
export const MemorySettings = { Image: 'image', Defaults: 'defaults', Jemalloc: 'jemalloc' } as const;
export type MemorySettings = (typeof MemorySettings)[keyof typeof MemorySettings];

/**
 * jemalloc's settings for the worker: two arenas as the image's glibc has, and freed pages handed back to
 * the system after a second by a background thread instead of kept for reuse.
 */
export const JEMALLOC_CONF = 'background_thread:true,narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0';

/** Where Debian's libjemalloc2 puts the library, for this machine's architecture. */
function jemallocPath(): string {
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch as string] ?? process.arch;
  return `/usr/lib/${arch}-linux-gnu/libjemalloc.so.2`;
}

/**
 * The environment and node flags that give a bench's worker `settings`: undefined values remove a variable
 * the bench's own environment has. jemalloc must be installed (Debian: libjemalloc2).
 */
export function memorySettings(settings: MemorySettings): {
  env: Record<string, string | undefined>;
  nodeFlags: readonly string[];
} {
  const imageFlags = nodeFlagsFor(runningMajor());
  const imageMalloc = imageAllocatorEnv();
  const noMalloc = Object.fromEntries(Object.keys(imageMalloc).map((name) => [name, undefined]));
  if (settings === MemorySettings.Image) return { env: imageMalloc, nodeFlags: imageFlags };
  if (settings === MemorySettings.Defaults) return { env: noMalloc, nodeFlags: toolFlagsFor(runningMajor()) };
  const library = jemallocPath();
  if (!fs.existsSync(library))
    throw new Error(
      `memory settings jemalloc: ${library} not found; install it first (Debian: apt-get install libjemalloc2)`,
    );
  return { env: { ...noMalloc, LD_PRELOAD: library, MALLOC_CONF: JEMALLOC_CONF }, nodeFlags: imageFlags };
}
