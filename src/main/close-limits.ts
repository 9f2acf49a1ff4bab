/**
 * Close's two times on the main thread, the send cut-off and the deadline (epoch ms), each as a signal that aborts
 * when it passes. A later close may only bring them forward (its timeoutMs), and its signal, or the first close's,
 * aborts both at once. Before, the first close's times were fixed numbers: a second `close({ timeoutMs })` (a
 * SIGTERM handler beside a graceful close) told only the workers, and the main thread waited out the first
 * close's times, or for ever without one.
 */
import { EarliestTime } from '../shared/earliest-time.js';

/** One time that only ever comes earlier, as a signal aborted once it passes by the wall clock. */
class Limit {
  readonly #passed = new AbortController();
  readonly #time = new EarliestTime(() => this.#passed.abort());
  /** Close has ended: a close called after it arms nothing (its timer kept the process alive for its timeout). */
  #cleared = false;

  constructor(at: number) {
    this.bringForward(at);
  }

  get at(): number {
    return this.#time.at;
  }

  get signal(): AbortSignal {
    return this.#passed.signal;
  }

  /** Keeps `at` when it is earlier than the time kept; false otherwise. A time already past passes at once. */
  bringForward(at: number): boolean {
    if (this.#cleared || !this.#time.bringForward(at)) return false;
    if (at <= Date.now()) this.pass();
    return true;
  }

  pass(): void {
    this.#time.clear();
    this.#passed.abort();
  }

  clear(): void {
    this.#cleared = true;
    this.#time.clear();
  }
}

export class CloseLimits {
  readonly #sendUntil: Limit;
  readonly #deadline: Limit;

  /** Infinite times arm nothing: a close without timeoutMs waits until a signal or a later close ends it. */
  constructor(sendUntil: number, deadline: number) {
    this.#sendUntil = new Limit(Math.min(sendUntil, deadline));
    this.#deadline = new Limit(deadline);
  }

  get sendUntil(): number {
    return this.#sendUntil.at;
  }

  get deadline(): number {
    return this.#deadline.at;
  }

  /** Aborted once nothing new may be sent: the flush ends then. */
  get sendSignal(): AbortSignal {
    return this.#sendUntil.signal;
  }

  /** Aborted once close must end: whatever has no result then fails. */
  get deadlineSignal(): AbortSignal {
    return this.#deadline.signal;
  }

  /** Brings either time forward (each keeps the earlier); true when one of them moved. */
  bringForward(sendUntil: number, deadline: number): boolean {
    const deadlineMoved = this.#deadline.bringForward(deadline);
    const sendUntilMoved = this.#sendUntil.bringForward(Math.min(sendUntil, this.#deadline.at));
    return deadlineMoved || sendUntilMoved;
  }

  /** A close's signal aborted: both times pass now. */
  passNow(): void {
    this.#sendUntil.pass();
    this.#deadline.pass();
  }

  /** Close has ended: no timer outlives it. */
  clear(): void {
    this.#sendUntil.clear();
    this.#deadline.clear();
  }
}
