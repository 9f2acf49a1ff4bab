/** own-files: a ringkafka bundled into an application's file says so, and what to do, instead of Node's bare errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUNDLING_HINT, ownUrl, requireOwn } from '../../src/shared/own-files.js';

test('a module without import.meta.url (a CommonJS bundle) is told it was bundled, and to mark ringkafka external', () => {
  assert.throws(() => ownUrl(undefined), (error: unknown) => error instanceof Error && error.message.endsWith(BUNDLING_HINT));
  assert.match(BUNDLING_HINT, /cannot be bundled into one file: mark it external \(esbuild --external:ringkafka/);
  assert.equal(ownUrl(import.meta.url), import.meta.url);
});

test('a dependency that cannot be found is named, with the bundling hint, Node\'s code and Node\'s error as the cause; others load', () => {
  assert.throws(() => requireOwn(import.meta.url, 'ringkafka-no-such-package'), (error: unknown) =>
    error instanceof Error
    && (error as { code?: string }).code === 'MODULE_NOT_FOUND'
    && error.message === `ringkafka could not load its dependency ringkafka-no-such-package; if ringkafka was bundled: ${BUNDLING_HINT}`
    && (error.cause as { code?: string }).code === 'MODULE_NOT_FOUND');
  assert.equal(typeof requireOwn<typeof import('piscina')>(import.meta.url, 'piscina').Piscina, 'function');
});
