// The worker's V8 heap settings: on Node.js 24, short-lived Buffers must go back to being reclaimed by
// scavenges rather than full mark-compacts, and on every version one full collection must not make V8 mark
// again after every collection (src/runtime/heap-flags.ts). Measured in a fresh process each time, because
// V8 sizes its heap when the process starts.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  HEAP_GROWING_PERCENT,
  heapFlagsAdvice,
  nodeFlagsFor,
  toolFlagsFor,
  YOUNG_GENERATION_CAP,
} from '../../../src/runtime/heap-flags';

const ROOT = path.resolve(__dirname, '../../..');
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const FLAGS = nodeFlagsFor(NODE_MAJOR);

/** Allocates 2 GiB in short-lived 64 KiB Buffers, as socket reads do; prints the major GCs seen. */
const CHILD = `
const { resolveEntry } = require(${JSON.stringify(path.join(ROOT, 'bin/register-ts.js'))});
const { applyHeapFlags } = require(resolveEntry('src/runtime/heap-flags.ts'));
const { PerformanceObserver, constants } = require('node:perf_hooks');
if (process.argv.includes('apply')) applyHeapFlags();
let major = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
});
obs.observe({ entryTypes: ['gc'] });
let sink = 0;
for (let i = 0; i < 32768; i++) { const b = Buffer.allocUnsafeSlow(65536); b[0] = i; sink += b[0]; }
setTimeout(() => { obs.disconnect(); process.stdout.write(JSON.stringify({ major, sink })); }, 50);
`;

/**
 * With about 40 MB of live objects, forces one full collection after 128 MiB of short-lived 64 KiB Buffers
 * (allocated between event-loop turns, as socket reads are), then counts the full collections of the next
 * 896 MiB: whether V8 starts marking again at once after a collection.
 */
const AFTER_ONE_COLLECTION = `
const { PerformanceObserver, constants } = require('node:perf_hooks');
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const live = [];
for (let i = 0; i < 400000; i++) live.push({ n: i, s: 'x' + i, pair: [i, i] });
let major = 0;
let counting = false;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (counting && e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
});
obs.observe({ entryTypes: ['gc'] });
let i = 0;
let sink = 0;
function step() {
  for (let k = 0; k < 16; k++, i++) { const b = Buffer.allocUnsafeSlow(65536); b.fill(i & 255); sink += b[7]; }
  if (i === 2048) { gc(); counting = true; }
  if (i < 16384) return setImmediate(step);
  setTimeout(() => { obs.disconnect(); process.stdout.write(JSON.stringify({ major, live: live.length, sink })); }, 50);
}
step();
`;

function majorCollections(nodeArgs: readonly string[], child = CHILD): number {
  const out = execFileSync(process.execPath, [...nodeArgs, '-e', child, 'keep'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as { major: number }).major;
}

describe('the heap flags', () => {
  it('cap the young generation and keep the heaps small on Node.js 24, and are nothing on the majors before it', () => {
    expect(nodeFlagsFor(24)).toEqual(['--scavenger-max-new-space-capacity-mb=8', '--optimize-for-size']);
    expect(nodeFlagsFor(20)).toEqual([]);
    expect(nodeFlagsFor(22)).toEqual([]);
  });

  it('give the tooling that serves files (the sandbox) the young-generation cap but not the size flag', () => {
    expect(toolFlagsFor(24)).toEqual([YOUNG_GENERATION_CAP]);
    expect(toolFlagsFor(20)).toEqual([]);
  });

  (NODE_MAJOR === 24 ? it : it.skip)(
    'cap the young generation so that short-lived Buffers cost scavenges instead of full mark-compacts',
    () => {
      // The cap alone: with `--optimize-for-size`, V8 collects a heap this small in its memory-reducing mode,
      // which is not what this is about; the download bench counts the download path's own collections.
      const without = majorCollections([]);
      const withFlags = majorCollections([YOUNG_GENERATION_CAP]);
      // Without the flag about every 64 MiB of Buffers starts a mark-compact.
      expect(without).toBeGreaterThanOrEqual(8);
      expect(withFlags).toBeLessThanOrEqual(Math.floor(without / 4));
    },
  );

  it('are taken without a word on stderr by the running Node.js, at start and from inside the process', () => {
    for (const [args, mode] of [
      [FLAGS, 'keep'],
      [[], 'apply'],
    ] as const) {
      const child = spawnSync(process.execPath, [...args, '-e', CHILD, mode], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      // V8 reports a flag it does not know on stderr instead of throwing; node refuses one at start.
      expect({ mode, status: child.status, stderr: child.stderr }).toEqual({ mode, status: 0, stderr: '' });
    }
  });

  it('leave a heap room to grow after a full collection, where half its live size made V8 mark again at once', () => {
    const growing = (percent: number) => [...FLAGS, `--heap-growing-percent=${percent}`];
    const withWorkerFlags = majorCollections(growing(HEAP_GROWING_PERCENT), AFTER_ONE_COLLECTION);
    const halfLiveSize = majorCollections(growing(50), AFTER_ONE_COLLECTION);
    // The forced collection itself is not counted. One more comes from the heap's own growth, and a run of
    // the full unit suite has seen V8 add another; marking again at once costs many more (nine and up here).
    expect(withWorkerFlags).toBeLessThanOrEqual(2);
    expect(halfLiveSize).toBeGreaterThanOrEqual(withWorkerFlags + 3);
  });

  it('are asked for when node 24 started without them, and by no earlier node', () => {
    expect(heapFlagsAdvice('24.11.1', [])).toMatch(
      /^node 24\.11\.1 started without --scavenger-max-new-space-capacity-mb=8 --optimize-for-size: .*CPU; .*memory.*; start node with them/,
    );
    expect(heapFlagsAdvice('24.11.1', ['--enable-source-maps'])).toBeDefined();
    expect(heapFlagsAdvice('24.11.1', ['--scavenger-max-new-space-capacity-mb=8'])).toMatch(
      /^node 24\.11\.1 started without --optimize-for-size: [^;]*memory[^;]*; start node with it,/,
    );
    expect(
      heapFlagsAdvice('24.11.1', ['--scavenger-max-new-space-capacity-mb=8', '--optimize-for-size']),
    ).toBeUndefined();
    expect(heapFlagsAdvice('20.20.2', [])).toBeUndefined();
    expect(heapFlagsAdvice('22.1.0', [])).toBeUndefined();
  });
});
