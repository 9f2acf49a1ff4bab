/** SignalWatch: one abort listener per signal, however many records it guards. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { SignalWatch } from '../../src/main/signal-watch.js';

const CAPACITY = 1024;

describe('SignalWatch', () => {
  it('adds one listener per signal and reports every id still watched when it aborts, once', () => {
    const aborted: [number[], unknown][] = [];
    const watch = new SignalWatch(CAPACITY, (ids, reason) => aborted.push([ids, reason]));
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

  it('refuses a watch under a signal that has aborted already, adding no listener that could never be called', () => {
    const aborted: number[][] = [];
    const watch = new SignalWatch(CAPACITY, (ids) => aborted.push(ids));
    const controller = new AbortController();
    assert.equal(watch.watch(controller.signal, 1), true);
    controller.abort();
    assert.deepEqual(aborted, [[1]]);
    assert.equal(watch.watch(controller.signal, 2), false, 'the caller releases the record itself');
    assert.equal(watch.watch(AbortSignal.abort(), 3), false, 'nor a signal aborted before its first watch');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    watch.unwatch(controller.signal, 2); // its release unwatches it: no effect
    const other = new AbortController();
    assert.equal(watch.watch(other.signal, 4), true);
    other.abort();
    assert.deepEqual(aborted, [[1], [4]], 'nothing of the refused ids leaks into another list');
  });

  it('removes the listener when the last id is unwatched, and a later watch adds it again', () => {
    const watch = new SignalWatch(CAPACITY, () => assert.fail('nothing is watched when it aborts'));
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
    const watch = new SignalWatch(CAPACITY, (ids) => aborted.push(ids));
    const a = new AbortController();
    const b = new AbortController();
    watch.watch(a.signal, 1);
    watch.watch(b.signal, 2);
    b.abort();
    assert.deepEqual(aborted, [[2]]);
    a.abort();
    assert.deepEqual(aborted, [[2], [1]]);
  });
  it('reports the ids still watched in the order they were watched, after unwatching the first, a middle and the last', () => {
    const aborted: number[][] = [];
    const watch = new SignalWatch(CAPACITY, (ids) => aborted.push(ids));
    const controller = new AbortController();
    for (const id of [5, 9, 2, 7, 1, 8]) watch.watch(controller.signal, id);
    watch.unwatch(controller.signal, 5); // the first
    watch.unwatch(controller.signal, 7); // in the middle
    watch.unwatch(controller.signal, 8); // the last
    watch.unwatch(controller.signal, 7); // again: no effect
    watch.watch(controller.signal, 7); // watched again: at the end
    controller.abort();
    assert.deepEqual(aborted, [[9, 2, 1, 7]]);
  });

  it('records of two signals watched in turns stay apart, and each signal keeps its order', () => {
    const aborted: number[][] = [];
    const watch = new SignalWatch(CAPACITY, (ids) => aborted.push(ids));
    const a = new AbortController();
    const b = new AbortController();
    for (let id = 0; id < 10; id++) watch.watch(id % 3 === 0 ? b.signal : a.signal, id);
    watch.unwatch(b.signal, 3);
    watch.unwatch(a.signal, 4);
    a.abort();
    b.abort();
    assert.deepEqual(aborted, [[1, 2, 5, 7, 8], [0, 6, 9]]);
  });

  it('the releases an abort causes unwatch their ids, and find nothing left to unlink', () => {
    const released: number[] = [];
    let watch!: SignalWatch;
    const controller = new AbortController();
    watch = new SignalWatch(CAPACITY, (ids) => {
      for (const id of ids) {
        watch.unwatch(controller.signal, id); // what Deliveries.release does, through #detach
        released.push(id);
      }
    });
    for (let id = 0; id < 4; id++) watch.watch(controller.signal, id);
    controller.abort();
    assert.deepEqual(released, [0, 1, 2, 3]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});
