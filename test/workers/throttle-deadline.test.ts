/**
 * The throttle deadline against a clock the test drives. The losing interleaving it forces: the timer fires while
 * the wall clock is still short of the deadline (Node's timers run on the loop's cached monotonic clock, which can
 * lag Date.now()). Reporting the throttle over then left the connection looking throttled with no timer armed, and
 * a sealed batch waited for good (seen once in a full run of the throttle test against a real quota).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThrottleDeadline, type ThrottleClock } from '../../src/workers/throttle-deadline.js';

class FakeClock implements ThrottleClock {
  time = 1000;
  readonly timers = new Map<number, { callback: () => void; ms: number }>();
  #next = 1;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.timers.set(id, { callback, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Fires the only armed timer at wall-clock `time`. */
  fireAt(time: number): void {
    assert.equal(this.timers.size, 1, 'exactly one timer armed');
    const [id, timer] = [...this.timers][0]!;
    this.timers.delete(id);
    this.time = time;
    timer.callback();
  }
}

describe('ThrottleDeadline', () => {
  it('a timer that fires before the wall clock reaches the deadline waits for the rest, then reports once', () => {
    const clock = new FakeClock();
    let over = 0;
    const deadline = new ThrottleDeadline(() => over++, clock);
    deadline.extend(100); // until 1100
    assert.equal(deadline.isOver(1099), false);
    clock.fireAt(1099); // early by 1 ms
    assert.equal(over, 0, 'not over yet: the connection is still muted');
    assert.equal(clock.timers.size, 1, 'and a timer is armed again, so the sender is told later');
    assert.equal([...clock.timers.values()][0]!.ms, 1);
    clock.fireAt(1100);
    assert.equal(over, 1);
    assert.equal(deadline.isOver(1100), true);
    assert.equal(clock.timers.size, 0);
  });

  it('never moves the deadline backwards, and keeps one timer', () => {
    const clock = new FakeClock();
    let over = 0;
    const deadline = new ThrottleDeadline(() => over++, clock);
    deadline.extend(100); // until 1100
    clock.time = 1010;
    deadline.extend(50); // 1060: earlier, ignored
    assert.equal(deadline.isOver(1090), false);
    assert.equal(clock.timers.size, 1);
    deadline.extend(200); // 1210: later, re-armed
    assert.equal(clock.timers.size, 1);
    clock.fireAt(1210);
    assert.equal(over, 1);
  });

  it('close clears the timer and nothing is reported after it', () => {
    const clock = new FakeClock();
    let over = 0;
    const deadline = new ThrottleDeadline(() => over++, clock);
    deadline.extend(100);
    deadline.close();
    assert.equal(clock.timers.size, 0);
    deadline.extend(100);
    assert.equal(clock.timers.size, 0, 'a closed deadline arms nothing');
    assert.equal(over, 0);
  });
});
