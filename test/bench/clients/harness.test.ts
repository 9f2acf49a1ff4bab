import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { countingLoopDelay, inWindows, OnePerTurn } from '../../../bench/clients/harness.js';

/** Holds the thread for `ms`, as a long synchronous stretch of a driver or client would. */
function hold(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('countingLoopDelay', () => {
  it('counts a stall in the very turn it resolves in (the measured run\'s first)', async () => {
    const histogram = await countingLoopDelay();
    try {
      hold(40);
      await sleep(10); // a tick after the stall closes its sample
    } finally {
      histogram.disable();
    }
    assert.ok(histogram.max >= 40e6, `the 40 ms stall is a sample: largest ${histogram.max / 1e6} ms`);
  });
});

describe('OnePerTurn', () => {
  it('lets its waiters go in the order they asked, each in a turn of its own (a due timer runs between)', async () => {
    const turns = new OnePerTurn();
    const order: string[] = [];
    const first = turns.next().then(() => {
      order.push('first');
      setTimeout(() => order.push('timer'), 0);
      hold(5); // the timer is due before this turn ends
    });
    const second = turns.next().then(() => order.push('second'));
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first', 'timer', 'second']);
  });

  it('starts again after it ran dry', async () => {
    const turns = new OnePerTurn();
    await turns.next();
    await turns.next();
  });
});

describe('inWindows', () => {
  it('makes every call once, in order, with at most `window` outstanding', async () => {
    const started: number[] = [];
    let outstanding = 0;
    let most = 0;
    await inWindows(10, 3, async (call) => {
      started.push(call);
      most = Math.max(most, ++outstanding);
      await sleep(1);
      outstanding--;
    });
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(most, 3);
  });

  it('begins the window\'s calls in turns of their own, not in one synchronous stretch', async () => {
    const order: string[] = [];
    const running = inWindows(2, 2, (call) => {
      order.push(`call ${call}`);
      if (call === 0) {
        setTimeout(() => order.push('timer'), 0);
        hold(5);
      }
      return sleep(1);
    });
    await running;
    assert.deepEqual(order, ['call 0', 'timer', 'call 1']);
  });
});
