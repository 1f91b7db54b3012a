// V8 heap settings the worker needs on the Node.js versions it supports.
//
// Node.js 24's V8 raised the young-generation limit above the external-memory soft limit, so short-lived
// Buffers (every socket read of a download, every slice of an ingest file) are reclaimed by full
// mark-compacts instead of scavenges: receiving a file then costs several times the CPU it does on Node.js
// 20 or 22, and halves download throughput on a small machine (nodejs/node#61967; docs/benchmarks.md,
// Download). Capping the young generation at the size earlier V8 versions used brings the scavenges back.
// The other known remedy, counting external memory in V8's global limit, let a download's Buffers pile up
// to more memory before they were collected. V8 reads the cap whenever it sizes the young generation, so
// setting it at start-up works.
import v8 from 'node:v8';

/** The V8 flags applied on this Node.js major, if any. */
export function heapFlagsFor(nodeMajor: number): readonly string[] {
  // Older V8s do not have the flag (setting it would print an error) and do not need it.
  return nodeMajor === 24 ? ['--scavenger-max-new-space-capacity-mb=8'] : [];
}

let applied = false;

/** Applies `heapFlagsFor` the running Node.js, once per process. */
export function applyHeapFlags(): readonly string[] {
  const flags = heapFlagsFor(Number(process.versions.node.split('.')[0]));
  if (!applied) for (const flag of flags) v8.setFlagsFromString(flag);
  applied = true;
  return flags;
}
