// V8 heap settings the worker needs on the Node.js versions it supports.
//
// Node.js 24's V8 raised the young-generation limit above the external-memory soft limit, so short-lived
// Buffers (every socket read of a download, every slice of an ingest file) are reclaimed by full
// mark-compacts instead of scavenges: receiving a file then costs several times the CPU it does on Node.js
// 20 or 22, and halves download throughput on a small machine (nodejs/node#61967; docs/benchmarks.md,
// Download). Capping the young generation at the size earlier V8 versions used brings the scavenges back,
// for Buffers that die young: code that keeps a Buffer past a collection or two (the storage writers copy
// socket chunks instead of holding them) pays the mark-compacts whatever the cap.
//
// The cap holds best when node starts with it: set from inside a running process, it took effect in some
// processes and not in others. Node refuses the flag in NODE_OPTIONS, and versions whose V8 lacks it refuse
// to start with it, so launchers that know their Node.js pass `nodeFlagsFor` (the image's entry point, the
// bench; the sandbox gets `toolFlagsFor`), and `applyHeapFlags` is the best effort for a process started
// without them.
//
// `--optimize-for-size` makes V8 favour a small heap over speed. At many concurrent exports most of a
// worker's peak memory is garbage waiting in two heaps (its own and the workflow thread's), which V8 then
// collects sooner. It costs CPU where the worker is busy in JavaScript (an ingest's batches), where m3ter's
// Ingest limit, not the worker's CPU, sets the pace (docs/benchmarks.md, Scale).
//
// The heap growing factor (how far the old generation may grow past its live size before the next full
// collection) is fixed instead of left to V8's estimate, for two reasons pulling in opposite directions:
// - V8 lets a heap grow to several times its live size; the workflow thread's heap makes garbage quickly
//   (re-created runs) and would grow its peak with it (docs/benchmarks.md, Scale).
// - Below about twice the live size, one full collection during a download can leave the old generation's
//   next limit so close to its size that V8 starts marking again after every collection: the download then
//   pays a mark-compact after almost every scavenge until it ends (docs/benchmarks.md, Download). V8's own
//   estimate lands there when the process is busy, which is when the collection happens.
// V8 reads the factor at every collection, so setting it from inside the process is enough.
import v8 from 'node:v8';

/** The old generation may grow to (100 + this) % of its live size before a full collection. */
export const HEAP_GROWING_PERCENT = 100;

/** Caps V8's young generation (Node.js 24, see above). */
export const YOUNG_GENERATION_CAP = '--scavenger-max-new-space-capacity-mb=8';

/** Makes V8 keep its heaps small (see above). */
export const OPTIMIZE_FOR_SIZE = '--optimize-for-size';

/** What each flag is for, in an operator's words. */
const PURPOSE: Record<string, string> = {
  [YOUNG_GENERATION_CAP]: 'downloads and ingests may cost up to twice the CPU',
  [OPTIMIZE_FOR_SIZE]: 'the worker may need far more memory at many concurrent exports',
};

/** The V8 flags node should start with on this Node.js major, if any. */
export function nodeFlagsFor(nodeMajor: number): readonly string[] {
  // Older V8s do not have the young-generation flag (node would not start) and do not need it; the size
  // flag is measured on Node.js 24 only, the image's.
  return nodeMajor === 24 ? [YOUNG_GENERATION_CAP, OPTIMIZE_FOR_SIZE] : [];
}

/**
 * The flags for tooling that moves files for the worker but is not the worker (the sandbox): the
 * young-generation cap only, since its CPU matters more on a shared machine than its memory.
 */
export function toolFlagsFor(nodeMajor: number): readonly string[] {
  return nodeFlagsFor(nodeMajor).filter((flag) => flag === YOUNG_GENERATION_CAP);
}

/** The major of a Node.js version such as `24.1.0`. */
export const majorOf = (version: string) => Number(version.split('.')[0]);

export const runningMajor = () => majorOf(process.versions.node);

let applied = false;

/**
 * Sets the heap growing factor, and `flags` (default `nodeFlagsFor` the running Node.js) from inside the
 * process (the fallback, see above), once. Returns the flags.
 */
export function applyHeapFlags(flags: readonly string[] = nodeFlagsFor(runningMajor())): readonly string[] {
  if (!applied) {
    v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    for (const flag of flags) v8.setFlagsFromString(flag);
  }
  applied = true;
  return flags;
}

/** What to tell an operator whose node started without the flags its version needs, or undefined. */
export function heapFlagsAdvice(
  nodeVersion: string = process.versions.node,
  execArgv: readonly string[] = process.execArgv,
): string | undefined {
  const missing = nodeFlagsFor(majorOf(nodeVersion)).filter((f) => !execArgv.includes(f));
  if (missing.length === 0) return undefined;
  const why = missing.map((flag) => PURPOSE[flag]).join('; ');
  const it = missing.length === 1 ? 'it' : 'them';
  return (
    `node ${nodeVersion} started without ${missing.join(' ')}: ${why}; start node with ${it}, as the ` +
    `image does (docs/deploying.md)`
  );
}
