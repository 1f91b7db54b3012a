// Starts ONE real Temporal dev server for the whole jest run (see tooling/devserver/) and bundles the workflows
// once (M3TER_WORKFLOW_BUNDLE), so every worker the tests start, in-process or spawned, skips webpack.
// Set M3TER_TEST_TEMPORAL=off to skip both while iterating on tests that need neither.
'use strict';
const os = require('node:os');
const path = require('node:path');
const fs = require('node:fs');

module.exports = async function globalSetup(globalConfig) {
  // The failure monitor is a namespace singleton: a worker started by one test would leave it polling
  // that test's sandbox. Tests that exercise it start it themselves.
  if (process.env.MONITOR === undefined) process.env.MONITOR = 'off';
  // The unit project needs neither (`jest --selectProjects unit`, as `npm test` runs it first).
  const projects = globalConfig && globalConfig.selectProjects;
  if (projects && projects.length > 0 && projects.every((p) => p === 'unit'))
    process.env.M3TER_TEST_TEMPORAL = 'off';
  if (process.env.M3TER_TEST_TEMPORAL === 'off') return;
  const { resolveEntry } = require('../../bin/register-ts');
  resolveEntry('tooling/devserver/index.ts');
  const { startTestTemporal } = require('./temporal-harness.ts');
  const bundleWork = (async () => {
    if (process.env.M3TER_WORKFLOW_BUNDLE) return;
    const { writeWorkflowBundle } = require('../../src/runtime/workflow-bundle.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-wf-bundle-'));
    process.env.M3TER_WORKFLOW_BUNDLE = await writeWorkflowBundle(path.join(dir, 'workflows.js'));
  })();
  await Promise.all([startTestTemporal(), bundleWork]);
};
