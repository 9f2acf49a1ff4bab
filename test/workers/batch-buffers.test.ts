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

test('a lent buffer detached before it comes back leaves the lent bytes and is not kept', (t) => {
  const pool = new BatchBufferPool(16 * MiB);
  const lent = pool.take(MiB);
  const memory = lent.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (typeof memory.transfer !== 'function') return t.skip('Node 20 cannot detach an ArrayBuffer');
  memory.transfer(0);
  pool.give(lent);
  assert.equal(pool.lentBytes, 0, 'its capacity as lent, not its length now');
  assert.equal(pool.idleBytes, 0);
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

test('a burst larger than the floor is kept whole, and the next burst as large takes no fresh memory', () => {
  const pool = new BatchBufferPool(16 * MiB);
  const burst = Array.from({ length: 40 }, () => pool.take(MiB));
  assert.equal(pool.lentBytes, 40 * MiB);
  for (const buffer of burst) pool.give(buffer);
  assert.equal(pool.idleBytes, 40 * MiB, 'the whole burst waits for the next one, not just the 16 MiB floor');
  assert.equal(pool.lentBytes, 0);
  const memory = new Set(burst.map((buffer) => buffer.buffer));
  const next = Array.from({ length: 40 }, () => pool.take(MiB));
  assert.ok(next.every((buffer) => memory.has(buffer.buffer)), 'every buffer of the next burst is one of the first');
  assert.equal(pool.idleBytes, 0);
});

test("the pool's buffers, lent and idle together, stay within its largest burst or the floor beyond what is lent", () => {
  const detachable = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
  // Node 20 cannot detach: there a released buffer looks like any other, and the collector frees it.
  const released = (buffer: Buffer): boolean => buffer.buffer.byteLength === 0;
  const pool = new BatchBufferPool(4 * MiB);
  const burst = Array.from({ length: 10 }, () => pool.take(MiB));
  for (const buffer of burst.slice(0, 6)) pool.give(buffer);
  assert.equal(pool.idleBytes, 6 * MiB, 'the burst lent 10 MiB: 4 lent and 6 idle');
  // Buffers of another size are fresh memory: the first leaves room for 4 MiB idle beside 6 lent, so two of the
  // idle 1 MiB buffers go at once, not when the 2 MiB ones come back.
  const others = Array.from({ length: 6 }, () => pool.take(2 * MiB));
  assert.equal(pool.lentBytes, 16 * MiB);
  assert.equal(pool.idleBytes, 4 * MiB, 'the floor, beside what is lent');
  if (detachable) assert.equal(burst.slice(0, 6).filter(released).length, 2);
  for (const buffer of [...burst.slice(6), ...others]) pool.give(buffer);
  assert.equal(pool.lentBytes, 0);
  assert.equal(pool.idleBytes, 16 * MiB, 'the largest burst lent 16 MiB at once: no more is kept');
  // Given back while 12-15 MiB were still lent, the last four 1 MiB buffers found no room.
  if (detachable) assert.ok(burst.slice(6).every(released));
  assert.ok(others.every((buffer) => buffer.buffer.byteLength === 2 * MiB), 'the 2 MiB buffers are kept idle');
});

test('when batches change size, the idle buffers of the old size give way to the new: a burst of either size stays within its own', () => {
  const pool = new BatchBufferPool(POOLED_MIN_BYTES);
  const small = Array.from({ length: 40 }, () => pool.take(320 * 1024));
  for (const buffer of small) pool.give(buffer);
  assert.equal(pool.idleBytes, 40 * 320 * 1024);
  const large = Array.from({ length: 34 }, () => pool.take(384 * 1024));
  // Each fresh 384 KiB buffer made room for itself: the pool never held more than its largest burst (12.75 MiB).
  assert.ok(pool.lentBytes + pool.idleBytes <= 34 * 384 * 1024, `${pool.lentBytes + pool.idleBytes} bytes held`);
  for (const buffer of large) pool.give(buffer);
  assert.equal(pool.idleBytes, 34 * 384 * 1024, 'every 384 KiB buffer is kept for the next burst of that size');
  const again = Array.from({ length: 34 }, () => pool.take(384 * 1024));
  const largeMemory = new Set(large.map((buffer) => buffer.buffer));
  assert.ok(again.every((buffer) => largeMemory.has(buffer.buffer)), 'no fresh memory');
});

test('a window without the burst lets its idle buffers go, down to the floor; where Node can, they are freed at once', () => {
  const pool = new BatchBufferPool(2 * MiB);
  const burst = Array.from({ length: 8 }, () => pool.take(MiB));
  for (const buffer of burst) pool.give(buffer);
  pool.endWindow();
  assert.equal(pool.idleBytes, 8 * MiB, 'the burst of the window just ended may come again');
  const again = pool.take(MiB);
  pool.give(again);
  pool.endWindow();
  assert.equal(pool.idleBytes, 2 * MiB, 'two windows since the burst: the floor only');
  const released = burst.filter((buffer) => buffer.buffer.byteLength === 0).length;
  const detachable = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
  assert.equal(released, detachable ? 6 : 0, detachable ? 'released memory is detached' : 'Node 20 cannot detach: the collector frees it');
  const kept = Array.from({ length: 2 }, () => pool.take(MiB));
  assert.ok(kept.every((buffer) => buffer.buffer.byteLength === MiB), 'what stayed idle is lent whole');
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
