// The worker's V8 heap settings: on Node.js 24, short-lived Buffers must go back to being reclaimed by
// scavenges rather than full mark-compacts (src/runtime/heap-flags.ts). Measured in a fresh process each
// time, because V8 sizes its heap when the process starts.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { heapFlagsAdvice, nodeFlagsFor } from '../../../src/runtime/heap-flags';

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

function majorCollections(nodeArgs: readonly string[]): number {
  const out = execFileSync(process.execPath, [...nodeArgs, '-e', CHILD, 'keep'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as { major: number }).major;
}

describe('the heap flags', () => {
  it('cap the young generation on Node.js 24 and are nothing on the majors before it', () => {
    expect(nodeFlagsFor(24)).toEqual(['--scavenger-max-new-space-capacity-mb=8']);
    expect(nodeFlagsFor(20)).toEqual([]);
    expect(nodeFlagsFor(22)).toEqual([]);
  });

  (NODE_MAJOR === 24 ? it : it.skip)(
    'make short-lived Buffers cost scavenges instead of full mark-compacts when node starts with them',
    () => {
      const without = majorCollections([]);
      const withFlags = majorCollections(FLAGS);
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

  it('are asked for when node 24 started without them, and by no earlier node', () => {
    expect(heapFlagsAdvice('24.11.1', [])).toMatch(
      /^node 24\.11\.1 started without --scavenger-max-new-space-capacity-mb=8: .*start node with it/,
    );
    expect(heapFlagsAdvice('24.11.1', ['--enable-source-maps'])).toBeDefined();
    expect(heapFlagsAdvice('24.11.1', ['--scavenger-max-new-space-capacity-mb=8'])).toBeUndefined();
    expect(heapFlagsAdvice('20.20.2', [])).toBeUndefined();
    expect(heapFlagsAdvice('22.1.0', [])).toBeUndefined();
  });
});
