// The worker's V8 heap settings: on Node.js 24, short-lived Buffers must go back to being reclaimed by
// scavenges rather than full mark-compacts (src/runtime/heap-flags.ts). Measured in a fresh process each
// time, because a V8 flag, once set, stays set for the process.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { heapFlagsFor } from '../../../src/runtime/heap-flags';

const ROOT = path.resolve(__dirname, '../../..');
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

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

function majorCollections(apply: boolean): number {
  const out = execFileSync(process.execPath, ['-e', CHILD, apply ? 'apply' : 'keep'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as { major: number }).major;
}

describe('the heap flags', () => {
  it('cap the young generation on Node.js 24 and are nothing on the majors before it', () => {
    expect(heapFlagsFor(24)).toEqual(['--scavenger-max-new-space-capacity-mb=8']);
    expect(heapFlagsFor(20)).toEqual([]);
    expect(heapFlagsFor(22)).toEqual([]);
  });

  (NODE_MAJOR === 24 ? it : it.skip)(
    'make short-lived Buffers cost scavenges instead of full mark-compacts on Node.js 24',
    () => {
      const without = majorCollections(false);
      const withFlags = majorCollections(true);
      // Without the flag about every 64 MiB of Buffers starts a mark-compact.
      expect(without).toBeGreaterThanOrEqual(8);
      expect(withFlags).toBeLessThanOrEqual(Math.floor(without / 4));
    },
  );

  it('apply without a word on stderr on the running Node.js', () => {
    const child = spawnSync(process.execPath, ['-e', CHILD, 'apply'], { cwd: ROOT, encoding: 'utf8' });
    expect(child.status).toBe(0);
    // V8 reports a flag it does not know on stderr instead of throwing.
    expect(child.stderr).toBe('');
  });
});
