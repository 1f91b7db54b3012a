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

// Product code: everything the worker and the ops CLI run. A new directory under src/ is product code
// unless it is listed here as tooling: the sandbox, the dev server, and the commands that start them on
// purpose (dev, demo and the local stack they share).
const productFiles = ['workflows/**/*.ts', 'activities/**/*.ts', 'src/**/*.ts'];
const toolingFiles = [
  'src/sandbox/**',
  'src/devserver/**',
  'src/cli/dev-command.ts',
  'src/cli/demo-command.ts',
  'src/cli/local-stack.ts',
];

// Import specifiers are matched as written, and product code reaches the repository only through relative
// paths, so the patterns name the tooling directories by their path segments whatever the importer's depth
// (`./sandbox` from src/, `../src/sandbox` from workflows/, `../../test/...` from src/cli/). Product
// directories have no sub-directories of these names, so a segment match cannot hit product code.
// The rule sees static imports and re-exports, not `import()`. That is deliberate: src/cli.ts, the CLI entry,
// reaches the sandbox and the dev/demo commands through `await import()` only when `sandbox`, `dev` or
// `demo` runs, so the worker and the ops commands never load them.
const toolingBoundary = [
  {
    regex: String.raw`^(?:\.\.?/)+(?:src/)?(?:sandbox|devserver)(?:/|$)`,
    message:
      'Product code may not import the m3ter sandbox or the dev server: they are test and demo tooling.',
  },
  {
    regex: String.raw`^(?:\.\.?/)+(?:test|bench)(?:/|$)`,
    message: 'Product code may not import test/ or bench/: they are not part of the production build.',
  },
  {
    regex: String.raw`^(?:\.\.?/)+(?:src/)?(?:cli/)?(?:dev-command|demo-command|local-stack)$`,
    message:
      'Product code may not import the dev/demo tooling commands statically: src/cli.ts loads them with import() on demand.',
  },
];

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
    ignores: toolingFiles,
    rules: { 'no-restricted-imports': ['error', { patterns: toolingBoundary }] },
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
