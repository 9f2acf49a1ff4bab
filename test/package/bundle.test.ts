/**
 * ringkafka bundled into an application's single file (src/shared/own-files.ts, src/main/worker-pool.ts): its worker
 * threads' entry and the packages it requires are not where the bundle looks, so it cannot work; it must say so,
 * and what to do (mark it external), rather than fail with Node's bare "Cannot find module" or "The argument
 * 'filename' must be a file URL … Received undefined", or a worker that never starts. Bundled with esbuild from the
 * built package, as a user's build would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Format } from 'esbuild';
import { useBroker } from '../helpers/broker.js';
import { ensureDist } from '../helpers/build-dist.js';
import { BUNDLING_HINT } from '../../src/shared/own-files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let brokers: string[];
/** The folders the tests made, removed at the end (one is under this repository's node_modules). */
const made: string[] = [];

/** A new empty folder under `parent`, removed after the tests. */
function newFolder(parent: string): string {
  const dir = mkdtempSync(join(parent, 'ringkafka-bundle-'));
  made.push(dir);
  return dir;
}

after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

before(async () => {
  brokers = await useBroker();
  const built = await ensureDist();
  assert.equal(built.code, 0, `build: ${built.output}`);
}, { timeout: 300_000 });

/** Bundles an app that connects a producer into `dir`/app.{mjs,cjs}; runs it there, and returns what it printed. */
async function bundleAndRun(dir: string, format: Format): Promise<{ code: number; output: string }> {
  const source = join(dir, 'source.mjs');
  // In an async function, not at top level: a CommonJS bundle cannot hold top-level await.
  writeFileSync(source, `
import { Producer } from ${JSON.stringify(join(ROOT, 'dist/src/main/index.js'))};
(async () => {
  const producer = new Producer({ brokers: ${JSON.stringify(brokers)}, workers: 1 });
  try {
    await producer.connect();
    console.log('connected');
  } catch (error) {
    console.log(\`\${error.name}: \${error.message}\`);
  } finally {
    await producer.close({ timeoutMs: 0 });
  }
})();
`);
  const outfile = join(dir, format === 'esm' ? 'app.mjs' : 'app.cjs');
  await build({ entryPoints: [source], bundle: true, platform: 'node', format, outfile, logLevel: 'silent' });
  return new Promise((resolve) => {
    // The timeout only turns a hang into a failure; it measures nothing.
    execFile(process.execPath, [outfile], { cwd: dir, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
    });
  });
}

test('an ES module bundle run where ringkafka\'s dependencies are not found fails at load, saying it was bundled', { timeout: 180_000 }, async () => {
  const { code, output } = await bundleAndRun(newFolder(tmpdir()), 'esm');
  assert.notEqual(code, 0);
  assert.ok(output.includes(`ringkafka could not load its dependency piscina; if ringkafka was bundled: ${BUNDLING_HINT}`), output);
});

test('a CommonJS bundle (no import.meta.url) fails at load, saying it was bundled', { timeout: 180_000 }, async () => {
  const { code, output } = await bundleAndRun(newFolder(tmpdir()), 'cjs');
  assert.notEqual(code, 0);
  assert.ok(output.includes(`ringkafka's modules have no import.meta.url: ${BUNDLING_HINT}`), output);
});

test('an ES module bundle that finds the dependencies has no worker entry: connect fails with WorkerStartError, saying it was bundled', { timeout: 180_000 }, async () => {
  // Under this repository's node_modules, so that piscina and the addons resolve from the bundle as from a project
  // that installed ringkafka; the worker threads' entry is still not beside the bundle.
  const cache = join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const { code, output } = await bundleAndRun(newFolder(cache), 'esm');
  assert.equal(code, 0, output);
  assert.match(output, /^WorkerStartError: the worker threads' entry .*workers\/entry\.js is not there: ringkafka starts worker threads/m);
});
