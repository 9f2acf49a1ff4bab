import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WordWaiter } from '../../src/shared/wait-on.js';
import { alive } from './fixtures/alive.js';

function words(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

describe('WordWaiter', () => {
  it('returns at once when the word no longer holds the expected value, or the timeout is zero', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    assert.equal(await waiter.wait(1), 'not-equal');
    assert.equal(await waiter.wait(0, { timeoutMs: 0 }), 'timed-out');
    assert.equal(await waiter.wait(1, { timeoutMs: 0 }), 'not-equal');
    assert.equal(Atomics.notify(w, 0), 0, 'nothing was registered');
  });

  it('ends with a notify, and the timer it started can no longer end a later wait on the word', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    const first = waiter.wait(0, { timeoutMs: 20 });
    assert.equal(Atomics.notify(w, 0), 1);
    assert.equal(await alive(first), 'ok');
    // A second wait on the same word, with no limit; the first one's timer would have fired well before the sleep
    // ends (Node runs timers in order of their due time). Had it not been cleared, it would have ended this wait.
    const second = waiter.wait(0);
    await sleep(60);
    assert.equal(Atomics.notify(w, 0), 1, 'the second wait is still waiting');
    assert.equal(await alive(second), 'ok');
  });

  it('ends with timed-out when the limit passes, without a notify, and does not hold the loop open', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    const waiting = waiter.wait(0, { timeoutMs: 5 });
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'its timer is unref\'d, like waitAsync itself');
    assert.equal(await alive(waiting), 'timed-out');
    // No notify of its own ended it (that would have cost a turn of the loop): the registration is still listed.
    assert.equal(Atomics.notify(w, 0), 1, 'the registration was left for the next wait');
  });

  it('a wait after a timed-out one rides on its registration: one waiter listed, ended by the next notify', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    for (let i = 0; i < 3; i++) assert.equal(await alive(waiter.wait(0, { timeoutMs: 1 })), 'timed-out');
    const riding = waiter.wait(0);
    await sleep(20);
    assert.equal(Atomics.notify(w, 0), 1, 'three timeouts and a wait: still one registration');
    assert.equal(await alive(riding), 'ok');
    // The registration resolved: the next wait registers afresh and a notify ends it.
    const fresh = waiter.wait(0);
    assert.equal(Atomics.notify(w, 0), 1);
    assert.equal(await alive(fresh), 'ok');
  });

  it('a wait riding on a registration checks the word first, as waitAsync would, and expects its own value', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    assert.equal(await alive(waiter.wait(0, { timeoutMs: 1 })), 'timed-out'); // registered expecting 0
    Atomics.store(w, 0, 2);
    assert.equal(await waiter.wait(0), 'not-equal', 'the word changed since: no sleep');
    const riding = waiter.wait(2); // a registration made expecting 0 serves a wait expecting 2
    await sleep(20);
    assert.equal(Atomics.notify(w, 0), 1);
    assert.equal(await alive(riding), 'ok');
  });

  it('a notify between a timed-out wait and the next one ends the next one: a spurious wake-up, never a lost one', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    assert.equal(await alive(waiter.wait(0, { timeoutMs: 1 })), 'timed-out');
    // A waker meant for the wait that just ended notifies now, and the registration's resolution is queued.
    assert.equal(Atomics.notify(w, 0), 1);
    const next = waiter.wait(0, { timeoutMs: 60_000 });
    assert.equal(await alive(next), 'ok', 'ended by that notify, not by its own 60 s timeout');
  });

  it('ends every wait in progress at one notify (a ring writer may have two callers waiting for room)', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    const waits = [waiter.wait(0), waiter.wait(0, { timeoutMs: 60_000 })];
    assert.equal(Atomics.notify(w, 0), 1, 'one registration for both');
    assert.deepEqual(await alive(Promise.all(waits)), ['ok', 'ok']);
  });

  it('ends every wait of an aborted signal, with one abort listener however many waits share it', async () => {
    const a = words();
    const b = words();
    const controller = new AbortController();
    const waits = [new WordWaiter(a, 0).wait(0, { signal: controller.signal }), new WordWaiter(b, 0).wait(0, { signal: controller.signal })];
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort();
    assert.deepEqual(await alive(Promise.all(waits)), ['aborted', 'aborted']);
    assert.equal(Atomics.notify(a, 0) + Atomics.notify(b, 0), 0, 'no registration was left behind');
    assert.equal(await new WordWaiter(a, 0).wait(0, { signal: controller.signal }), 'aborted', 'an aborted signal ends a wait at once');
  });

  it('an abort leaves a registration that another wait rides on, and drops it with the last', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    const first = new AbortController();
    const second = new AbortController();
    const waits = [waiter.wait(0, { signal: first.signal }), waiter.wait(0, { signal: second.signal })];
    first.abort();
    assert.equal(await alive(waits[0]!), 'aborted');
    second.abort();
    assert.equal(await alive(waits[1]!), 'aborted');
    assert.equal(Atomics.notify(w, 0), 0, 'nothing left listed to hold the buffer');
  });

  it('forgets a wait that ended, so a later abort of its signal does not end another wait on the word', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    const controller = new AbortController();
    const first = waiter.wait(0, { signal: controller.signal });
    Atomics.notify(w, 0);
    assert.equal(await alive(first), 'ok');
    const second = waiter.wait(0);
    controller.abort();
    await sleep(0);
    assert.equal(Atomics.notify(w, 0), 1, 'the abort did not touch the second wait');
    assert.equal(await alive(second), 'ok');
  });

  it('keeps listening on a signal across waits, one listener for all of them', async () => {
    const w = words();
    const waiter = new WordWaiter(w, 0);
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) {
      const waiting = waiter.wait(0, { signal: controller.signal });
      Atomics.notify(w, 0);
      assert.equal(await alive(waiting), 'ok');
    }
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    const last = waiter.wait(0, { signal: controller.signal });
    controller.abort();
    assert.equal(await alive(last), 'aborted');
  });
});
