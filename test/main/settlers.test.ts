/** Settlers: where a record's outcome goes (a send's promise, a sendBatch's results, trySend's event). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchSettler, DetachedSettler, SendSettler } from '../../src/main/settlers.js';

const metadata = (offset: number) => ({ topic: 't', partition: 0, offset, timestamp: 1 });

describe('settlers', () => {
  it('SendSettler resolves or rejects its one promise', async () => {
    const ok = new SendSettler();
    ok.resolve(0, metadata(5));
    assert.deepEqual(await ok.promise, metadata(5));
    const failed = new SendSettler();
    failed.reject(0, new Error('no'));
    await assert.rejects(failed.promise, /no/);
  });

  it('BatchSettler resolves once every position has its result, each in its place', async () => {
    const batch = new BatchSettler(3);
    let done = false;
    void batch.promise.then(() => (done = true));
    batch.resolve(2, metadata(2));
    batch.reject(0, new Error('first failed'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false, 'one position is still open');
    batch.resolve(1, metadata(1));
    const results = await batch.promise;
    assert.equal(results[0]!.status, 'rejected');
    assert.deepEqual(results.slice(1), [{ status: 'fulfilled', value: metadata(1) }, { status: 'fulfilled', value: metadata(2) }]);
  });

  it('an empty BatchSettler is settled from the start', async () => {
    assert.deepEqual(await new BatchSettler(0).promise, []);
  });

  it('DetachedSettler reports failures only', () => {
    const errors: Error[] = [];
    const detached = new DetachedSettler((error) => errors.push(error));
    detached.resolve();
    detached.reject(0, new Error('lost'));
    assert.deepEqual(errors.map((e) => e.message), ['lost']);
  });
});
