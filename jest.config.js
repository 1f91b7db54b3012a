// Two projects: `unit` (pure, fast, mocks allowed) and `integration` (real Temporal dev server,
// real sandbox process over HTTP). One Temporal dev server is started for the whole run by the
// global setup and stopped by the global teardown.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }];
module.exports = {
  // Workflow bundling (webpack) and real servers make integration tests slow to start on 2 cores.
  testTimeout: 180000,
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': swc },
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: { '^.+\\.ts$': swc },
      testEnvironment: 'node',
    },
    // The production topology: a Temporal server on Postgres (test/support/temporal-postgres.ts), several
    // worker processes, restarts. Slow, so its own project (`--selectProjects cluster`); `npm test` runs it.
    {
      displayName: 'cluster',
      testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
      transform: { '^.+\\.ts$': swc },
      testEnvironment: 'node',
    },
  ],
};
