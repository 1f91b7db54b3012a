#!/usr/bin/env node
// Runs one TypeScript entry file: `node bin/run-ts.js bench/index.ts [args...]`.
'use strict';
const { resolveEntry } = require('./register-ts');
const entry = process.argv[2];
if (!entry) {
  console.error('usage: run-ts <file.ts> [args...]');
  process.exit(2);
}
process.argv.splice(2, 1);
// Before the entry's modules load, as bin/m3ter-exports.js does (src/runtime/heap-flags.ts), with the
// tooling's flags: an entry that plays the worker (the bench) starts node with the worker's own.
const heapFlags = require(resolveEntry('src/runtime/heap-flags.ts'));
heapFlags.applyHeapFlags(heapFlags.toolFlagsFor(heapFlags.runningMajor()));
require(resolveEntry(entry));
