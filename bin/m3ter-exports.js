#!/usr/bin/env node
'use strict';
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
