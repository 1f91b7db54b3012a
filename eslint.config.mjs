// Flat config. Three rules matter most here:
//  - no-floating-promises: an un-awaited promise in a workflow or activity silently drops errors.
//  - workflows/** may not import Node built-ins or I/O libraries: workflow code runs in Temporal's
//    deterministic sandbox and is replayed; I/O belongs in activities (same rule as temporalio/samples-typescript).
//  - product code (what the image runs: worker, workflows, activities, ops CLI) may not import tooling
//    (the m3ter sandbox, the embedded dev server, tests, benches), so a stand-in can never end up serving
//    production traffic and the production build never depends on test code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const ioLibraries = ['axios', 'pino', 'fastify', 'undici', 'node-fetch', 'got', 'zod-to-json-schema'];

// Product code: everything the worker and the ops CLI run. Tooling (the m3ter sandbox, the dev server, the
// dev/demo commands) lives in tooling/, tests in test/, benches in bench/: product code imports none of them.
const productFiles = ['workflows/**/*.ts', 'activities/**/*.ts', 'src/**/*.ts'];

// Import specifiers are matched as written; product code reaches the repository only through relative paths.
// The rule sees static imports, not `import()`: src/cli.ts, the CLI entry, loads the tooling commands
// (`sandbox`, `dev`, `demo`) with `await import()` only when one of them runs, so the worker and the ops
// commands never load them.
const toolingBoundary = [
  {
    regex: String.raw`^(?:\.\.?/)+(?:tooling|test|bench)(?:/|$)`,
    message: 'Product code may not import tooling/, test/ or bench/: they are not part of the product.',
  },
];

// The contract (src/contract/) is what the CLI, activities and workflows share; workflows/ is imported only
// by the worker (its bundle) and the CLI (typed starts and queries).
const workflowsBoundary = {
  regex: String.raw`^(?:\.\.?/)+workflows(?:/|$)`,
  message:
    'Only the worker and the CLI import workflows/: put shared vocabulary, ids and inputs in src/contract/.',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'exports/**', 'coverage/**', '*.config.js', '*.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain CommonJS glue (jest global setup, launchers).
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'object-shorthand': ['error', 'always'],
    },
  },
  {
    files: productFiles,
    rules: { 'no-restricted-imports': ['error', { patterns: toolingBoundary }] },
  },
  {
    files: ['activities/**/*.ts', 'src/**/*.ts'],
    ignores: ['src/worker.ts', 'src/cli.ts', 'src/cli/**', 'src/runtime/workflow-bundle.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...toolingBoundary, workflowsBoundary] }] },
  },
  {
    // Flat config replaces a rule's options per file rather than merging them, so this block, which wins
    // for workflows/, repeats the tooling boundary next to the determinism rules.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`), ...ioLibraries].map(
            (name) => ({
              name,
              message: 'Workflow code must be deterministic: do I/O in an activity, not in workflows/.',
            }),
          ),
          patterns: [
            {
              group: ['**/src/m3ter/client*', '**/activities/*'],
              importNamePattern: '^(?!type )',
              message: 'Workflows import activity and client *types* only (use `import type`).',
              allowTypeImports: true,
            },
            ...toolingBoundary,
          ],
        },
      ],
    },
  },
);
