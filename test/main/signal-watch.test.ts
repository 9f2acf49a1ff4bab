/** SignalWatch: one abort listener per signal, however many records it guards. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { SignalWatch } from '../../src/main/signal-watch.js';

describe('SignalWatch', () => {
  it('adds one listener per signal and reports every id still watched when it aborts, once', () => {
    const aborted: [number[], unknown][] = [];
    const watch = new SignalWatch((ids, reason) => aborted.push([ids, reason]));
    const controller = new AbortController();
    for (let id = 0; id < 1000; id++) watch.watch(controller.signal, id);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    watch.unwatch(controller.signal, 3);
    controller.abort('stop');
    assert.equal(aborted.length, 1);
    assert.equal(aborted[0]![0].length, 999);
    assert.ok(!aborted[0]![0].includes(3));
    assert.equal(aborted[0]![1], 'stop');
  });

  it('removes the listener when the last id is unwatched, and a later watch adds it again', () => {
    const watch = new SignalWatch(() => assert.fail('nothing is watched when it aborts'));
    const controller = new AbortController();
    watch.watch(controller.signal, 1);
    watch.watch(controller.signal, 2);
    watch.unwatch(controller.signal, 1);
    watch.unwatch(controller.signal, 1); // twice: no effect
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    watch.unwatch(controller.signal, 2);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    watch.unwatch(new AbortController().signal, 7); // never watched: no effect
    controller.abort();
  });

  it('signals are watched apart', () => {
    const aborted: number[][] = [];
    const watch = new SignalWatch((ids) => aborted.push(ids));
    const a = new AbortController();
    const b = new AbortController();
    watch.watch(a.signal, 1);
    watch.watch(b.signal, 2);
    b.abort();
    assert.deepEqual(aborted, [[2]]);
    a.abort();
    assert.deepEqual(aborted, [[2], [1]]);
  });
});
