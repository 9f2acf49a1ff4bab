/** Waiting with a deadline: the cases that need no clock to pass (deadline already over, abort, settled first). */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { untilAborted, untilDeadline, withDeadline } from '../../src/main/deadlines.js';
import { AbortError, BufferTimeoutError } from '../../src/shared/producer-errors.js';

const FAR = Date.now() + 3_600_000;

describe('deadlines', () => {
  it('withDeadline: the promise\'s own outcome when it settles first', async () => {
    assert.equal(await withDeadline(Promise.resolve(5), FAR, 'x'), 5);
    await assert.rejects(withDeadline(Promise.reject(new Error('own')), FAR, 'x'), /own/);
  });

  it('withDeadline: BufferTimeoutError naming what was waited for, once the deadline is over', async () => {
    await assert.rejects(withDeadline(new Promise(() => {}), Date.now() - 1, 'the connection'),
      (error: Error) => error instanceof BufferTimeoutError && error.message.includes('the connection'));
  });

  it('untilDeadline: resolves when the promise settles (either way), at once when the deadline is over or the signal aborted', async () => {
    await untilDeadline(Promise.reject(new Error('ignored')), FAR, undefined);
    await untilDeadline(new Promise(() => {}), Date.now() - 1, undefined);
    const aborted = new AbortController();
    aborted.abort();
    await untilDeadline(new Promise(() => {}), FAR, aborted.signal);
  });

  it('untilDeadline: an abort while waiting ends the wait and leaves no listener behind', async () => {
    const controller = new AbortController();
    const waiting = untilDeadline(new Promise(() => {}), FAR, controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort();
    await waiting;
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('untilAborted: a signal aborted already rejects at once, and the work\'s later failure is still observed', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let fail!: (error: Error) => void;
      const work = new Promise<never>((_, reject) => (fail = reject));
      await assert.rejects(untilAborted(work, AbortSignal.abort(), 'the wait'), (e: unknown) => e instanceof AbortError && e.message.includes('the wait'));
      fail(new Error('the work failed later'));
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, [], 'nobody else holds the work: an unhandled rejection would end the process');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
