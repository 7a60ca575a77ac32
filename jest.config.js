// Two projects: fast unit tests beside the code, and e2e suites that run against real control
// planes started by hack/testenv (see e2e/framework/).
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };

export default {
  // e2e tests wait on real control planes; each bounds its own waits with eventually().
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/hack/jest-summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      extensionsToTreatAsEsm: ['.ts'],
      transform,
      moduleNameMapper,
      testEnvironment: 'node',
      roots: ['<rootDir>/src', '<rootDir>/hack', '<rootDir>/bench'],
      testMatch: ['**/*.test.ts'],
    },
    {
      displayName: 'e2e',
      extensionsToTreatAsEsm: ['.ts'],
      transform,
      moduleNameMapper,
      testEnvironment: 'node',
      roots: ['<rootDir>/e2e'],
      testMatch: ['**/*.e2e.ts'],
      globalSetup: '<rootDir>/e2e/framework/global-setup.ts',
      globalTeardown: '<rootDir>/e2e/framework/global-teardown.ts',
      slowTestThreshold: 30,
    },
  ],
};
