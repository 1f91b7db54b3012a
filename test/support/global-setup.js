// Starts ONE real Temporal dev server for the whole jest run (see src/devserver/).
// Set M3TER_TEST_TEMPORAL=off to skip it while iterating on tests that do not need Temporal.
'use strict';
module.exports = async function globalSetup() {
  if (process.env.M3TER_TEST_TEMPORAL === 'off') return;
  require('../../bin/register-ts').resolveEntry('src/devserver/index.ts');
  const { startTestTemporal } = require('./temporal-harness.ts');
  await startTestTemporal();
};
