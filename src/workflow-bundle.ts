// Where the worker gets its workflow code. Bundling workflows/ with webpack takes tens of seconds on a busy
// 2-core machine, so a prebuilt bundle can be supplied (M3TER_WORKFLOW_BUNDLE): the jest global setup builds
// one per test run, and `npm run build:bundle` builds one for deployments.
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkerOptions } from '@temporalio/worker';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export function workflowSource(
  env: NodeJS.ProcessEnv = process.env,
): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'> {
  const prebuilt = env.M3TER_WORKFLOW_BUNDLE;
  if (prebuilt && fs.existsSync(prebuilt)) return { workflowBundle: { codePath: prebuilt } };
  return { workflowsPath: WORKFLOWS_PATH };
}

export async function writeWorkflowBundle(outFile: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN'),
  });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, outFile);
  return outFile;
}
