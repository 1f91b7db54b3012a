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
require(resolveEntry('src/cli.ts'))
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
