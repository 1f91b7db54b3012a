// Flat config. Two rules matter most here:
//  - no-floating-promises: an un-awaited promise in a workflow or activity silently drops errors.
//  - workflows/** may not import Node built-ins or I/O libraries: workflow code runs in Temporal's
//    deterministic sandbox and is replayed; I/O belongs in activities (same rule as temporalio/samples-typescript).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const ioLibraries = ['axios', 'pino', 'fastify', 'undici', 'node-fetch', 'got', 'zod-to-json-schema'];

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
              group: ['**/src/m3ter/client*', '**/src/sandbox/**', '**/activities/*'],
              importNamePattern: '^(?!type )',
              message: 'Workflows import activity and client *types* only (use `import type`).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
