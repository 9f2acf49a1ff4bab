/** Waiting with a deadline: the cases that need no clock to pass (deadline already over, abort, settled first). */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { untilDeadline, withDeadline } from '../../src/main/deadlines.js';
import { BufferTimeoutError } from '../../src/shared/producer-errors.js';
import { trackTimers } from '../helpers/timers.js';

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

  it('withDeadline: a deadline already past fails at once, with no timer (one per send behind a stalled connection)', async (t) => {
    const timers = trackTimers(t);
    const waiting = withDeadline(new Promise(() => {}), Date.now() - 1, 'the connection');
    assert.equal(timers.size, 0, 'no timer');
    await assert.rejects(waiting, (e: Error) => e instanceof BufferTimeoutError && /the connection was not ready/.test(e.message));
    assert.equal(await withDeadline(Promise.resolve('connected'), Date.now() - 1, 'the connection'), 'connected', 'a settled promise still wins');
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
});
