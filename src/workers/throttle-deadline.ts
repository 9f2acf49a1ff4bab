/**
 * A connection's throttle deadline (KIP-219, invariant 4 in docs/invariants.md): from Produce v6 the broker
 * answers at once with throttle_time_ms and then mutes the connection, so nothing may be sent to it before
 * `now + throttle_time_ms`. Owned by the one worker that owns the connection; the deadline never moves backwards;
 * close clears the timer.
 *
 * The deadline is wall-clock time (Date.now(), what the sender compares against), but Node fires timers on the
 * event loop's cached monotonic clock, which may lag the wall clock by the time the current turn has run: a timer
 * armed for `ms` can fire when Date.now() is still short of the deadline. Reporting "over" then would find the
 * connection still throttled, nothing would be sent, and nothing would ever look again — a batch stranded for good.
 * So the timer checks the clock when it fires and re-arms for what is left.
 */
export interface ThrottleClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: ThrottleClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class ThrottleDeadline {
  readonly #onOver: () => void;
  readonly #clock: ThrottleClock;
  #until = 0;
  #timer: unknown;
  #closed = false;

  /** `onOver` is called once the deadline has passed by the wall clock (not before). */
  constructor(onOver: () => void, clock: ThrottleClock = systemClock) {
    this.#onOver = onOver;
    this.#clock = clock;
  }

  /** True when nothing holds the connection back at `now`. */
  isOver(now: number): boolean {
    return now >= this.#until;
  }

  /** The broker asked for `ms` of silence from now; an earlier deadline than the current one changes nothing. */
  extend(ms: number): void {
    if (this.#closed) return;
    const until = this.#clock.now() + ms;
    if (until <= this.#until) return; // never move the deadline backwards
    this.#until = until;
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    this.#disarm();
  }

  #arm(): void {
    this.#disarm();
    const wait = Math.max(1, this.#until - this.#clock.now());
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      if (!this.isOver(this.#clock.now())) {
        this.#arm(); // fired early by the wall clock: wait for the rest
        return;
      }
      this.#onOver();
    }, wait);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
