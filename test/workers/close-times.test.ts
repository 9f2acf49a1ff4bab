import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseTimes } from '../../src/workers/close-times.js';

function setup(): { times: CloseTimes; fired: string[] } {
  const fired: string[] = [];
  const times = new CloseTimes({ cutOff: () => fired.push('cut-off'), giveUp: () => fired.push('give up') });
  return { times, fired };
}

describe('CloseTimes', () => {
  it('keeps no time until one is given: later than any epoch ms', () => {
    const { times } = setup();
    assert.ok(times.sendUntil > Number.MAX_SAFE_INTEGER);
    assert.ok(times.deadline > Number.MAX_SAFE_INTEGER);
  });

  it('fires the cut-off and the deadline at their times, each once', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
    const { times, fired } = setup();
    assert.equal(times.cutOffAt(1_875), true);
    assert.equal(times.giveUpAt(2_000), true);
    t.mock.timers.tick(874);
    assert.deepEqual(fired, []);
    t.mock.timers.tick(1);
    assert.deepEqual(fired, ['cut-off']);
    t.mock.timers.tick(125);
    assert.deepEqual(fired, ['cut-off', 'give up']);
    t.mock.timers.tick(10_000);
    assert.deepEqual(fired, ['cut-off', 'give up']);
  });

  it('a later message only brings a time forward: the earlier timer replaces the later one', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { times, fired } = setup();
    times.cutOffAt(500);
    assert.equal(times.cutOffAt(800), false, 'a later cut-off is ignored');
    assert.equal(times.sendUntil, 500);
    assert.equal(times.cutOffAt(100), true);
    assert.equal(times.sendUntil, 100);
    t.mock.timers.tick(100);
    assert.deepEqual(fired, ['cut-off']);
    t.mock.timers.tick(1_000);
    assert.deepEqual(fired, ['cut-off'], 'the replaced timer never fires');
    times.giveUpAt(2_000);
    assert.equal(times.giveUpAt(2_000), false, 'the same deadline again changes nothing');
    assert.equal(times.giveUpAt(0), true, "close's signal aborted: give up now");
    t.mock.timers.tick(0);
    assert.deepEqual(fired, ['cut-off', 'give up']);
  });

  it('a time in the past fires at once; one too far off for a timer (close without timeoutMs) arms none', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 10_000 });
    const { times, fired } = setup();
    times.giveUpAt(Number.MAX_SAFE_INTEGER);
    assert.equal(times.deadline, Number.MAX_SAFE_INTEGER);
    times.cutOffAt(5_000);
    t.mock.timers.tick(0);
    assert.deepEqual(fired, ['cut-off']);
    t.mock.timers.tick(2 ** 31);
    assert.deepEqual(fired, ['cut-off'], 'Node clamps an over-long delay to 1 ms: no timer at all is armed');
  });

  it('clear stops both timers, and a message after it (a second close, once the worker finished) arms none', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { times, fired } = setup();
    times.cutOffAt(100);
    times.giveUpAt(200);
    times.clear();
    t.mock.timers.tick(1_000);
    assert.deepEqual(fired, []);
    assert.equal(times.giveUpAt(0), false);
    assert.equal(times.cutOffAt(0), false);
    t.mock.timers.tick(1_000);
    assert.deepEqual(fired, [], 'a finished worker is not given up on again');
  });

  it('a timer that fires before the wall clock reaches its time waits for the rest, for the cut-off and the deadline', (t) => {
    // Node's timers run on their own clock: one armed for 100 ms can fire while Date.now() says 99 ms have passed.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let wallClock = 0;
    t.mock.method(Date, 'now', () => wallClock);
    const { times, fired } = setup();
    times.cutOffAt(100);
    times.giveUpAt(200);
    wallClock = 99;
    t.mock.timers.tick(100);
    assert.deepEqual(fired, [], 'not yet by the wall clock');
    wallClock = 100;
    t.mock.timers.tick(1);
    assert.deepEqual(fired, ['cut-off'], 'armed again for what was left, not dropped');
    wallClock = 199;
    t.mock.timers.tick(99);
    assert.deepEqual(fired, ['cut-off']);
    wallClock = 200;
    t.mock.timers.tick(1);
    assert.deepEqual(fired, ['cut-off', 'give up']);
  });
});
