import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BatchBufferPool, POOLED_MIN_BYTES, idleMaxBytesFor } from '../../src/workers/batch-buffers.js';

const MiB = 1024 * 1024;

test('a large buffer has exactly the size asked for, and its memory is lent again once given back', () => {
  const pool = new BatchBufferPool(16 * MiB);
  const first = pool.take(1_000_000);
  assert.equal(first.length, 1_000_000);
  assert.equal(first.byteOffset, 0);
  pool.give(first);
  assert.equal(pool.idleBytes, MiB, 'kept at its capacity, a multiple of 64 KiB');
  // Another size in the same 64 KiB step gets the same memory.
  const second = pool.take(1_040_000);
  assert.equal(second.length, 1_040_000);
  assert.equal(second.buffer, first.buffer);
  assert.equal(pool.idleBytes, 0);
  // A size in another step does not.
  const third = pool.take(2 * MiB);
  assert.notEqual(third.buffer, first.buffer);
});

test('small buffers are not pooled', () => {
  const pool = new BatchBufferPool(16 * MiB);
  const small = pool.take(POOLED_MIN_BYTES - 1);
  assert.equal(small.length, POOLED_MIN_BYTES - 1);
  pool.give(small);
  assert.equal(pool.idleBytes, 0);
});

test('a buffer given twice is taken back once: two later takes never share memory', () => {
  const pool = new BatchBufferPool(16 * MiB);
  const buffer = pool.take(300_000);
  pool.give(buffer);
  pool.give(buffer);
  assert.equal(pool.idleBytes, 5 * 64 * 1024);
  const a = pool.take(300_000);
  const b = pool.take(300_000);
  assert.notEqual(a.buffer, b.buffer);
});

test('buffers the pool did not lend are never taken in', () => {
  const pool = new BatchBufferPool(16 * MiB);
  pool.give(Buffer.allocUnsafe(300_000));
  pool.give(Buffer.allocUnsafe(100)); // a slice of Node's shared slab: lending it out would share it
  pool.give(Buffer.allocUnsafeSlow(MiB));
  assert.equal(pool.idleBytes, 0);
  const lent = pool.take(MiB);
  pool.give(lent.subarray(0, 10)); // a view of lent memory is the lent memory: taken back
  assert.equal(pool.idleBytes, MiB);
});

test('at most the given bytes wait idle; the rest is left to the garbage collector', () => {
  const pool = new BatchBufferPool(16 * MiB);
  const lent = Array.from({ length: 20 }, () => pool.take(MiB));
  for (const buffer of lent) pool.give(buffer);
  assert.equal(pool.idleBytes, 16 * MiB);
  const roomier = new BatchBufferPool(64 * MiB);
  const burst = Array.from({ length: 64 }, () => roomier.take(MiB));
  for (const buffer of burst) roomier.give(buffer);
  assert.equal(roomier.idleBytes, 64 * MiB, 'a burst as large as the budget is kept whole for the next one');
});

test("a worker keeps idle its share of the producer's byte budget, and never less than the smallest pooled buffer", () => {
  assert.equal(idleMaxBytesFor(64 * MiB, 1), 64 * MiB);
  assert.equal(idleMaxBytesFor(64 * MiB, 4), 16 * MiB, 'four workers together keep no more than the budget');
  assert.equal(idleMaxBytesFor(300 * MiB, 3), 100 * MiB);
  assert.equal(idleMaxBytesFor(1000, 1), POOLED_MIN_BYTES);
});

test('a buffer never given back (a failed, split or acks=0 batch) is not kept alive by the pool', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const pool = new BatchBufferPool(16 * MiB);
  let lent: Buffer | undefined = pool.take(MiB);
  const memory = new WeakRef(lent.buffer);
  lent = undefined;
  // A WeakRef holds its target until the current job ends.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(memory.deref(), undefined);
});
