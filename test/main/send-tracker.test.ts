/** SendTracker: flush waits for exactly the sends made before it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SendTracker } from '../../src/main/send-tracker.js';
import { AbortError } from '../../src/shared/producer-errors.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SendTracker', () => {
  it('a flush with nothing open resolves at once', async () => {
    const sends = new SendTracker();
    await sends.flushed(undefined);
    assert.equal(sends.flushing, false);
  });

  it('resolves when the sends made before it end, in any order, and ignores sends made after it', async () => {
    const sends = new SendTracker();
    const first = sends.begin();
    const second = sends.begin();
    let flushed = false;
    const flush = sends.flushed(undefined).then(() => (flushed = true));
    assert.equal(sends.flushing, true);
    const later = sends.begin();
    sends.end(second);
    await settle();
    assert.equal(flushed, false);
    sends.end(first);
    await flush;
    assert.equal(sends.open, 1, 'the later send is still open');
    assert.equal(sends.flushing, false);
    sends.end(later);
    assert.equal(sends.open, 0);
  });

  it('each of several flushes waits for its own sends', async () => {
    const sends = new SendTracker();
    const a = sends.begin();
    const done: string[] = [];
    const one = sends.flushed(undefined).then(() => done.push('one'));
    const b = sends.begin();
    const two = sends.flushed(undefined).then(() => done.push('two'));
    sends.end(b);
    await settle();
    assert.deepEqual(done, []);
    sends.end(a);
    await Promise.all([one, two]);
    assert.deepEqual(done.sort(), ['one', 'two']);
  });

  it('an aborted flush rejects with AbortError and stops waiting; the sends go on', async () => {
    const sends = new SendTracker();
    const seq = sends.begin();
    const controller = new AbortController();
    const flush = sends.flushed(controller.signal);
    controller.abort();
    await assert.rejects(flush, AbortError);
    assert.equal(sends.flushing, false);
    assert.equal(sends.open, 1);
    sends.end(seq);
    assert.equal(sends.open, 0);
  });
});
