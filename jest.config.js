// The AWS SDK warns on Node < 22 about its releases after January 2027 (README "Node versions"); the
// Lambda runs nodejs22.x and the local stack turns it off too. Workers inherit this environment.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // middy (6 and 7) is ESM-only with an import-only export map: point jest at the files and let swc transform them.
  moduleNameMapper: { '^@middy/([^/]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  // Unit tests touch no disk, DuckDB or network: the setup file fails those under test/unit/ that do.
  setupFilesAfterEnv: ['<rootDir>/test/unit/setup-no-io.ts'],
  // Integration and browser tests start real processes; two cores.
  maxWorkers: 2,
  // Starting the local stack (esbuild + serverless offline) alone can take 30 s on two busy cores.
  testTimeout: 120_000,
};
