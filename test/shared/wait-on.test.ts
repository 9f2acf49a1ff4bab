import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitOn } from '../../src/shared/wait-on.js';
import { alive } from './fixtures/alive.js';

function words(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

describe('waitOn', () => {
  it('returns at once when the word no longer holds the expected value, or the timeout is zero', async () => {
    const w = words();
    assert.equal(await waitOn(w, 0, 1), 'not-equal');
    assert.equal(await waitOn(w, 0, 0, { timeoutMs: 0 }), 'timed-out');
    assert.equal(await waitOn(w, 0, 1, { timeoutMs: 0 }), 'not-equal');
    assert.equal(Atomics.notify(w, 0), 0, 'no waiter was left behind');
  });

  it('ends with a notify, and the timer it started can no longer wake a later wait on the word', async () => {
    const w = words();
    const first = waitOn(w, 0, 0, { timeoutMs: 20 });
    assert.equal(Atomics.notify(w, 0), 1);
    assert.equal(await alive(first), 'ok');
    // A second wait on the same word, with no limit; the first one's timer would have fired well before the sleep
    // ends (Node runs timers in order of their due time). Had it not been cleared, it would have woken this wait.
    const second = waitOn(w, 0, 0);
    await sleep(60);
    assert.equal(Atomics.notify(w, 0), 1, 'the second wait is still waiting');
    assert.equal(await alive(second), 'ok');
  });

  it('ends with timed-out when the limit passes, leaves no waiter behind, and does not hold the loop open', async () => {
    const w = words();
    const waiting = waitOn(w, 0, 0, { timeoutMs: 5 });
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'its timer is unref\'d, like waitAsync itself');
    assert.equal(await alive(waiting), 'timed-out');
    assert.equal(Atomics.notify(w, 0), 0);
  });

  it('ends every wait of an aborted signal, with one abort listener however many waits share it', async () => {
    const a = words();
    const b = words();
    const controller = new AbortController();
    const waits = [waitOn(a, 0, 0, { signal: controller.signal }), waitOn(b, 0, 0, { signal: controller.signal })];
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort();
    assert.deepEqual(await alive(Promise.all(waits)), ['aborted', 'aborted']);
    assert.equal(Atomics.notify(a, 0) + Atomics.notify(b, 0), 0, 'no waiter was left behind');
    assert.equal(await waitOn(a, 0, 0, { signal: controller.signal }), 'aborted', 'an aborted signal ends a wait at once');
  });

  it('forgets a wait that ended, so a later abort of its signal does not wake another wait on the word', async () => {
    const w = words();
    const controller = new AbortController();
    const first = waitOn(w, 0, 0, { signal: controller.signal });
    Atomics.notify(w, 0);
    assert.equal(await alive(first), 'ok');
    const second = waitOn(w, 0, 0);
    controller.abort();
    await sleep(0);
    assert.equal(Atomics.notify(w, 0), 1, 'the abort did not touch the second wait');
    assert.equal(await alive(second), 'ok');
  });

  it('keeps listening on a signal across waits, one listener for all of them', async () => {
    const w = words();
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) {
      const waiting = waitOn(w, 0, 0, { signal: controller.signal });
      Atomics.notify(w, 0);
      assert.equal(await alive(waiting), 'ok');
    }
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    const last = waitOn(w, 0, 0, { signal: controller.signal });
    controller.abort();
    assert.equal(await alive(last), 'aborted');
  });
});
