// The AWS SDK warns on Node < 22 about its releases after January 2027 (README "Node versions"); the
// Lambda runs nodejs22.x and the local stack turns it off too. Workers inherit this environment.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // handlers/ and client-sdk/src are roots too so that coverage lists their files no test loads.
  roots: ['<rootDir>/test', '<rootDir>/handlers', '<rootDir>/client-sdk/src'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // middy (6 and 7) is ESM-only with an import-only export map: point jest at the files and let swc transform them.
  moduleNameMapper: { '^@middy/([^/]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  // Unit tests touch no disk, DuckDB or network: the setup file fails those under test/unit/ that do.
  setupFilesAfterEnv: ['<rootDir>/test/unit/setup-no-io.ts'],
  // Used with --coverage only (npm run test:coverage, which npm test runs): the unit tests' coverage
  // of the Lambda code and the SDK source. V8's own counters, which need no instrumenting transform.
  coverageProvider: 'v8',
  collectCoverageFrom: ['handlers/**/*.ts', 'client-sdk/src/**/*.ts', '!**/*.d.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  // A little under what the unit tests reached (npm run test:coverage, 2026-12-03): handlers/ 99.6 %
  // of lines, 99.2 % of functions, 95.1 % of branches (the fuzz tests draw new inputs each run, so
  // branches keep a point of room); client-sdk/src, as its unit tests stood at 16:15 UTC, 66.9 % of
  // lines, 85.7 % of functions, 96.0 % of branches (index.ts, the page observers and the loader run
  // in real Chromium, test/browser/, which this cannot see). Directory keys: the aggregate of the
  // files under them.
  coverageThreshold: {
    './handlers/': { lines: 98.5, statements: 98.5, functions: 97, branches: 94 },
    './client-sdk/src/': { lines: 66, statements: 66, functions: 84, branches: 95 },
  },
  // Integration and browser tests start real processes; two cores.
  maxWorkers: 2,
  // Starting the local stack (esbuild + serverless offline) alone can take 30 s on two busy cores.
  testTimeout: 120_000,
};
