#!/usr/bin/env node
'use strict';
// grpc-js sends the host as the TLS server name (SNI) even when it is an IP address, and Node warns about
// that on the first such connection: noise on stderr for a TLS connection to an IP, which still checks
// the certificate against the IP. Only that warning is dropped.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const code = rest[0] && typeof rest[0] === 'object' ? rest[0].code : rest[1];
  if (code === 'DEP0123') return;
  return emitWarning.call(process, warning, ...rest);
};
const { resolveEntry } = require('./register-ts');
// Before the CLI's modules load: V8 sizes its young generation as the heap grows, and the cap must be in
// place before that (src/runtime/heap-flags.ts).
require(resolveEntry('src/runtime/heap-flags.ts')).applyHeapFlags();
// Once the command has returned, its work is done: exit when the output is flushed, so that nothing it left
// behind (a Temporal connection attempt abandoned once its failure was certain, which runs on to its own
// deadline) keeps the process, and the terminal, waiting.
const exitWhenFlushed = (code) => {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
};
require(resolveEntry('src/cli.ts'))
  .main(process.argv)
  .then(exitWhenFlushed)
  .catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    exitWhenFlushed(1);
  });
