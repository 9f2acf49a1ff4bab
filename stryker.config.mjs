// Mutation testing of the pure modules (`npm run test:mutation`; not part of `npm test` or CI: it runs each
// module's unit tests once per mutant). Each module is listed with the unit tests that pin it; a new pure module
// is one more row. Only fast tests that need no broker belong here: the tap runner runs every test file that
// covers a mutant, one node process per file, and the sandbox holds no Kafka (tests that need its jars skip).
const modules = {
  'src/main/byte-budget.ts': ['test/main/byte-budget.test.ts', 'test/main/byte-budget-bounds.test.ts', 'test/main/budget-runs.test.ts'],
  'src/main/partitioner.ts': ['test/main/partitioner.test.ts', 'test/main/partitioner-edges.test.ts', 'test/main/murmur2.test.ts'],
  'src/main/murmur2.ts': ['test/main/murmur2.test.ts'],
  'src/main/options.ts': ['test/main/options.test.ts', 'test/main/options-edges.test.ts', 'test/main/security-options.test.ts'],
  'src/main/producer-shutdown.ts': ['test/main/producer-shutdown.test.ts'],
  'src/workers/delivery-policy.ts': ['test/workers/delivery-policy.test.ts'],
  'src/protocol/record-batch.ts': [
    'test/protocol/record-batch.test.ts', 'test/protocol/record-batch-edges.test.ts', 'test/protocol/record-batch-decoder.test.ts',
    'test/workers/entry-encoder.test.ts',
  ],
};

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: Object.keys(modules),
  testRunner: 'tap',
  tap: {
    testFiles: [...new Set(Object.values(modules).flat())],
    // Node's own test runner, TypeScript through tsx as `npm test` does; TAP is what the runner reads.
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
  },
  coverageAnalysis: 'perTest',
  // The machines this runs on are shared: one test process at a time.
  concurrency: 1,
  // Only what the tests import goes into the sandbox (not the Kafka distribution, builds or benchmarks).
  // bench/lib too: the tests' seeded random numbers come from the bench's statistics module (test/helpers/prng.ts).
  ignorePatterns: ['/*', '!/src', '!/test', '!/scripts', '!/bench', '/bench/*', '!/bench/lib', '!/package.json', '!/tsconfig.json'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  // A second run retests only the mutants whose code or covering tests changed (`-- --force` for a full run).
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
