/** Settlers: where a record's outcome goes (a send's promise, a sendBatch's results, trySend's event). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchSettler, DetachedSettler, FailureSettler, SendSettler } from '../../src/main/settlers.js';

const metadata = (offset: number, topic = 't', partition = 0) => ({ topic, partition, offset, timestamp: 1 });
/**
 * What the producer lends a settler: the metadata, its batch's log append time (-1: a CreateTime topic) and the
 * partition's log start offset (-1: not answered).
 */
const reported = (offset: number) => ({ ...metadata(offset), logAppendTime: -1, logStartOffset: -1 });

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

  it('the metadata a settler is given is lent: SendSettler and BatchSettler keep copies of their own', async () => {
    // Their copies are RecordMetadata: the log append time and log start offset lent with it are not passed on.
    const lent = { ...metadata(1), logAppendTime: 1_700_000_000_000, logStartOffset: 0 };
    const one = new SendSettler();
    const batch = new BatchSettler(2);
    one.resolve(0, lent);
    batch.resolve(0, lent);
    Object.assign(lent, metadata(2, 'other', 5)); // the producer refills it for the next record
    batch.resolve(1, lent);
    lent.offset = 99;
    assert.deepEqual(await one.promise, metadata(1));
    assert.deepEqual(await batch.promise, [{ status: 'fulfilled', value: metadata(1) }, { status: 'fulfilled', value: metadata(2, 'other', 5) }]);
  });

  it('FailureSettler resolves once every position has its outcome, with the failures alone in index order', async () => {
    const failures = new FailureSettler(5);
    let done = false;
    void failures.promise.then(() => (done = true));
    // outcomes come batch by batch, not in index order
    failures.reject(3, new Error('three'));
    failures.resolve(0, reported(0));
    failures.reject(1, new Error('one'));
    failures.resolve(4, reported(4));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false, 'one position is still open');
    failures.resolve(2, reported(2));
    const outcome = await failures.promise;
    assert.equal(outcome.records, 5);
    assert.deepEqual(outcome.failures.map((f) => [f.index, f.reason.message]), [[1, 'one'], [3, 'three']]);
  });

  it('FailureSettler of all delivered records, and of none, resolves with no failures', async () => {
    const delivered = new FailureSettler(2);
    delivered.resolve(1, reported(1));
    delivered.resolve(0, reported(0));
    assert.deepEqual(await delivered.promise, { records: 2, failures: [] });
    assert.deepEqual(await new FailureSettler(0).promise, { records: 0, failures: [] });
  });

  it('an empty BatchSettler is settled from the start', async () => {
    assert.deepEqual(await new BatchSettler(0).promise, []);
  });

  it('DetachedSettler reports failures only, on the next tick: its listener is the caller\'s code', async () => {
    const errors: Error[] = [];
    const detached = new DetachedSettler((error) => errors.push(error));
    detached.resolve();
    detached.reject(0, new Error('lost'));
    // Rejected inside the producer's bookkeeping (a crash failing a worker's records one by one): a 'deliveryError'
    // listener that threw there left the records after this one unsettled, their bytes held.
    assert.equal(errors.length, 0, 'not inside reject()');
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(errors.map((e) => e.message), ['lost']);
  });
});
