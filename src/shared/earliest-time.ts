/**
 * One time (epoch ms) that only ever comes earlier, and its timer, which calls `fire` once the time has come by the
 * wall clock: close's cut-off and deadline, in a worker (src/workers/close-times.ts) and on the main thread
 * (src/main/close-limits.ts). Node runs timers on its own monotonic clock, and one can fire a millisecond before
 * Date.now() reaches its time: a worker's cut-off pump then found nothing due and nothing armed it again, so what
 * never left was failed only at the deadline. The timer checks the clock and waits for the rest.
 */
import { MAX_TIMER_MS } from './timers.js';

export class EarliestTime {
  #at: number;
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | undefined;

  /** `initial`: the time kept until one is given, later than any that will be. */
  constructor(fire: () => void, initial = Number.POSITIVE_INFINITY) {
    this.#fire = fire;
    this.#at = initial;
  }

  get at(): number {
    return this.#at;
  }

  /** Keeps `at` and re-arms the timer for it; false when it was no earlier than the time kept. */
  bringForward(at: number): boolean {
    if (at >= this.#at) return false;
    this.#at = at;
    this.#arm();
    return true;
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    // No timer for a time too far off: Node would clamp a delay over 2^31-1 ms to 1 ms.
    const wait = Math.max(0, this.#at - Date.now());
    this.#timer = wait <= MAX_TIMER_MS ? setTimeout(() => this.#due(), wait) : undefined;
  }

  #due(): void {
    this.#timer = undefined;
    if (Date.now() < this.#at) this.#arm();
    else this.#fire();
  }
}
