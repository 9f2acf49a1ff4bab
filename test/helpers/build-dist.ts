/**
 * dist/ built from the sources under test, once. Two test files use the built package (the packed tarball, the
 * Node-flags children); run as separate processes by the test runner, each rebuilding dist/ would let one read files
 * while the other's tsc rewrites them. `npm test` (scripts/test.ts) builds before the runner starts and says so in
 * DIST_BUILT_BY_TEST_RUN; a test file run on its own builds here.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Set by scripts/test.ts once its build of dist/ succeeded. */
export const DIST_BUILT_ENV = 'DIST_BUILT_BY_TEST_RUN';

export interface BuildResult {
  readonly code: number;
  readonly output: string;
}

/** Compiles tsconfig.build.json into dist/. */
export function buildDist(): Promise<BuildResult> {
  return new Promise((resolve) => {
    // The timeout only turns a hang into a failure; it measures nothing.
    execFile(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, timeout: 240_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
    });
  });
}

/** Builds dist/ unless this test run already did. */
export function ensureDist(): Promise<BuildResult> {
  if (process.env[DIST_BUILT_ENV] === '1') return Promise.resolve({ code: 0, output: '' });
  return buildDist();
}
