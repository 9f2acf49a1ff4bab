/** pause: a backoff sleep that its owner's close (an AbortSignal) cuts short, leaving no timer behind. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pause } from '../../src/shared/pause.js';
import { trackTimers } from '../helpers/timers.js';

describe('pause', () => {
  it('resolves after the pause when nothing aborts', async () => {
    await pause(1, new AbortController().signal, () => new Error('closed'));
  });

  it('rejects with the closed error once the signal aborts, and clears its timer at once', async (t) => {
    const live = trackTimers(t);
    const closing = new AbortController();
    const waiting = pause(60_000, closing.signal, () => new Error('closed'));
    assert.equal(live.size, 1);
    closing.abort();
    assert.equal(live.size, 0, 'no timer outlives the abort');
    await assert.rejects(waiting, /closed/);
    await assert.rejects(pause(60_000, closing.signal, () => new Error('closed already')), /closed already/);
    assert.equal(live.size, 0, 'an aborted signal arms nothing');
  });

  it('keeps the process alive while it waits, unless told not to (a background retry nobody waits on)', async (t) => {
    const live = trackTimers(t);
    const closing = new AbortController();
    const held = pause(60_000, closing.signal, () => new Error('closed'));
    const background = pause(60_000, closing.signal, () => new Error('closed'), false);
    const [heldTimer, backgroundTimer] = [...live] as NodeJS.Timeout[];
    assert.equal(heldTimer!.hasRef(), true);
    assert.equal(backgroundTimer!.hasRef(), false);
    closing.abort();
    await assert.rejects(held, /closed/);
    await assert.rejects(background, /closed/);
  });
});
