'use strict';
module.exports = async function globalTeardown() {
  if (process.env.M3TER_TEST_TEMPORAL === 'off') return;
  require('../../bin/register-ts').resolveEntry('tooling/devserver/index.ts');
  const { stopTestTemporal } = require('./temporal-harness.ts');
  await stopTestTemporal();
};
