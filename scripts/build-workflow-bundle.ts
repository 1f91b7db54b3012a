// `npm run build` step: prebuilds the workflow bundle into dist/workflow-bundle.js, where the compiled
// worker finds it (src/runtime/workflow-bundle.ts), so a deployed worker starts without running webpack.
import path from 'node:path';
import { writeWorkflowBundle } from '../src/runtime/workflow-bundle';

// From the sources (scripts/) or compiled (dist/scripts/): the repository root either way.
const root = path.resolve(__dirname, __filename.endsWith('.ts') ? '..' : '../..');
const out = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist', 'workflow-bundle.js');

writeWorkflowBundle(out).then(
  (file) => console.log(`workflow bundle written to ${file}`),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
