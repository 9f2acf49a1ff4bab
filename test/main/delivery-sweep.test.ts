/** DeliverySweep: its timer runs while sends or deliveries are pending, and never keeps an idle producer alive. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliverySweep } from '../../src/main/delivery-sweep.js';
import { SendTracker } from '../../src/main/send-tracker.js';

// Real timers: Node 20's mock timers keep running an interval that its own callback cleared, which is how the sweep
// stops. Nothing here asserts a duration; each step waits for the next sweep to have run.

/** Timers that keep the process alive now. */
const liveTimers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

function sweep() {
  const sends = new SendTracker();
  let swept: (() => void) | undefined;
  const deliveries = {
    count: 0,
    expire: () => {
      swept?.();
    },
  };
  /** Resolves once the next sweep has run (and stopped its timer, if it was to). */
  const nextSweep = () => new Promise<void>((resolve) => (swept = resolve));
  return { sweep: new DeliverySweep(deliveries, sends), sends, deliveries, nextSweep };
}

describe('DeliverySweep', () => {
  it('starts one timer at the first send, keeps it while work is pending, and stops it at the first sweep that finds none', async () => {
    const before = liveTimers();
    const { sweep: s, sends, deliveries, nextSweep } = sweep();
    const first = s.beginSend();
    const second = s.beginSend();
    assert.deepEqual([first, second], [1, 2], 'the send sequence comes from the tracker');
    assert.equal(liveTimers(), before + 1, 'one timer for both sends');
    sends.end(first);
    sends.end(second);
    deliveries.count = 1; // accepted, still awaiting the broker's answer
    await nextSweep();
    assert.equal(liveTimers(), before + 1, 'a delivery still pending keeps it running');
    deliveries.count = 0;
    await nextSweep();
    assert.equal(liveTimers(), before, 'nothing pending: stopped, so it keeps no idle process alive');
    s.beginSend();
    assert.equal(liveTimers(), before + 1, 'the next send starts it again');
    s.stop();
    assert.equal(liveTimers(), before);
  });

  it('keeps running while a send is open, and stop clears it at once', async () => {
    const before = liveTimers();
    const { sweep: s, nextSweep } = sweep();
    s.beginSend();
    await nextSweep();
    assert.equal(liveTimers(), before + 1, 'the open send keeps it');
    s.stop();
    assert.equal(liveTimers(), before);
  });
});
