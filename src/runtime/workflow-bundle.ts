// Where the worker gets its workflow code. Bundling workflows/ with webpack is slow and leaves the worker
// process larger for good, so a prebuilt bundle is used when there is one: M3TER_WORKFLOW_BUNDLE (the jest global setup builds one per test run), else, when running
// compiled code, the `dist/workflow-bundle.js` that `npm run build` writes (the Docker image has it).
// Running from the TypeScript sources without M3TER_WORKFLOW_BUNDLE always bundles afresh, so a stale
// bundle can never shadow edited workflows.
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkerOptions } from '@temporalio/worker';

export const WORKFLOWS_PATH = require.resolve('../../workflows');

/**
 * Modules evaluated once per workflow thread and shared by every run, not once per run (see
 * workflows/shared-modules.ts for why and what may be listed). Part of every bundle this worker uses.
 */
export const PRELOAD_MODULES = [require.resolve('../../workflows/shared-modules')];

/** `dist/workflow-bundle.js` when this module runs compiled from `dist/src/runtime/`; none from the sources. */
export const PACKAGED_BUNDLE = __filename.endsWith('.js')
  ? path.resolve(__dirname, '..', '..', 'workflow-bundle.js')
  : undefined;

export function workflowSource(
  env: NodeJS.ProcessEnv = process.env,
): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'bundlerOptions'> {
  const prebuilt = env.M3TER_WORKFLOW_BUNDLE;
  if (prebuilt && fs.existsSync(prebuilt)) return { workflowBundle: { codePath: prebuilt } };
  if (PACKAGED_BUNDLE && fs.existsSync(PACKAGED_BUNDLE))
    return { workflowBundle: { codePath: PACKAGED_BUNDLE } };
  return { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: PRELOAD_MODULES } };
}

export async function writeWorkflowBundle(outFile: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: PRELOAD_MODULES,
    logger: new DefaultLogger('WARN'),
  });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, outFile);
  return outFile;
}
