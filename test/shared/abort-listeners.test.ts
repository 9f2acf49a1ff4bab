import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { listenForAbort } from '../../src/shared/abort-listeners.js';

test('many waiters on one signal share one listener, and are called in the order they came', () => {
  const controller = new AbortController();
  const calls: number[] = [];
  const stops = Array.from({ length: 50 }, (_, i) => listenForAbort(controller.signal, () => calls.push(i)));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  stops[3]!();
  stops[3]!(); // idempotent
  controller.abort();
  assert.deepEqual(calls, Array.from({ length: 50 }, (_, i) => i).filter((i) => i !== 3));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('the last waiter to stop listening removes the listener; a later waiter adds a fresh one', () => {
  const controller = new AbortController();
  const a = listenForAbort(controller.signal, () => assert.fail('stopped'));
  const b = listenForAbort(controller.signal, () => assert.fail('stopped'));
  a();
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  b();
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  let called = 0;
  listenForAbort(controller.signal, () => called++);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  assert.equal(called, 1);
});
