/**
 * Sends that cannot be accepted at once (the producer is still connecting, or the topic's metadata is not known
 * yet) wait here in call order, and are admitted one after another by a single loop. Java's send() blocks its
 * thread in the same situation, so records from one caller keep their order; here a queue does it, and while it
 * holds anything every new send joins its tail rather than overtake.
 *
 * A send whose signal aborts leaves at once (rejected 'not-sent'); the loop skips it.
 */
import { AbortError } from '../shared/producer-errors.js';
import { listenForAbort } from '../shared/abort-listeners.js';
import { withReason } from './deadlines.js';

export interface Admission {
  readonly signal: AbortSignal | undefined;
  /** True once the send was admitted, rejected or aborted. */
  settled: boolean;
  /** Stops listening to the signal's abort (one shared listener per signal: src/shared/abort-listeners.ts). */
  stopListening: (() => void) | undefined;
}

/** Settled or passed slots the queue keeps at most before it drops them (and at most as many as the live ones). */
const COMPACT_AT = 1024;

export class AdmissionQueue<Waiting extends Admission> {
  readonly #admit: (waiting: Waiting) => Promise<void>;
  readonly #reject: (waiting: Waiting, error: Error) => void;
  readonly #drained: (() => void) | undefined;
  readonly #why: (() => string | undefined) | undefined;
  /**
   * Sends from `#head` on wait; each slot is emptied once its send is through, since the queue empties only when
   * no send arrives while one is admitted, and an admitted send holds its record (the caller's bytes) and settler.
   */
  #queue: (Waiting | undefined)[] = [];
  #head = 0;
  #running = false;
  /** Sends behind the head that were settled (aborted, failed) while they waited, still in `#queue`. */
  #settledBehind = 0;

  /**
   * `admit` takes a waiting send to the point where it is accepted or queued for buffer space; `reject` settles
   * one that failed or aborted. Neither is called for a send already settled. `drained` hears that the queue
   * emptied: every send pushed so far is through. `why` says what holds the queue up, for an aborted send's error.
   */
  constructor(
    admit: (waiting: Waiting) => Promise<void>, reject: (waiting: Waiting, error: Error) => void, drained?: () => void,
    why?: () => string | undefined,
  ) {
    this.#admit = admit;
    this.#reject = reject;
    this.#drained = drained;
    this.#why = why;
  }

  get isEmpty(): boolean {
    return this.#head === this.#queue.length;
  }

  /** Sends waiting, the one being admitted included. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Slots of the queue's array, those of sends it passed or dropped included: for tests. */
  get slots(): number {
    return this.#queue.length;
  }

  /** The send pushed last, while it waits (or is being admitted); undefined when none waits. */
  get last(): Waiting | undefined {
    return this.#head === this.#queue.length ? undefined : this.#queue[this.#queue.length - 1];
  }

  push(waiting: Waiting): void {
    const signal = waiting.signal;
    if (signal !== undefined) {
      waiting.stopListening = listenForAbort(signal, () => {
        // With what held it up: an AbortSignal.timeout's abort said only that the deadline came.
        const message = withReason('aborted while waiting for the connection or topic metadata', this.#why?.());
        this.#settle(waiting, new AbortError('not-sent', message, { cause: signal.reason }));
      });
    }
    this.#queue.push(waiting);
    if (!this.#running) void this.#run();
  }

  /** Rejects every send still waiting (close, a failed connection): nothing here may outlive the producer. */
  failAll(error: Error): void {
    // From a copy: settling compacts the queue as it goes.
    for (const waiting of this.#queue.slice(this.#head)) this.#settle(waiting!, error);
  }

  #settle(waiting: Waiting, error: Error | undefined): void {
    if (waiting.settled) return;
    waiting.settled = true;
    waiting.stopListening?.();
    if (error !== undefined) this.#reject(waiting, error);
    if (waiting !== this.#queue[this.#head] && ++this.#settledBehind > COMPACT_AT && this.#settledBehind * 2 > this.length) this.#compact();
  }

  /**
   * Drops the settled sends behind the head. An aborted send stayed in its slot, holding its record (the caller's
   * key and value), until the loop reached it, up to bufferTimeoutMs later: callers that abort each request after a
   * while (AbortSignal.timeout) kept every abandoned payload while the broker was down. The slots the loop passed
   * go too: a queue that never empties (sends to a topic that does not exist, arriving all the time) grew by a slot
   * per send for the producer's life.
   */
  #compact(): void {
    const kept: (Waiting | undefined)[] = [this.#queue[this.#head]]; // the head stays first: the loop admits it
    for (let i = this.#head + 1; i < this.#queue.length; i++) if (!this.#queue[i]!.settled) kept.push(this.#queue[i]);
    this.#queue = kept;
    this.#head = 0;
    this.#settledBehind = 0;
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#head < this.#queue.length) {
      const waiting = this.#queue[this.#head]!;
      if (!waiting.settled) {
        try {
          await this.#admit(waiting);
          this.#settle(waiting, undefined);
        } catch (error) {
          this.#settle(waiting, error as Error);
        }
      }
      this.#queue[this.#head++] = undefined;
      const next = this.#queue[this.#head];
      if (next?.settled === true) this.#settledBehind--; // the loop passes it now
      // Not once the loop has passed the last send: compacting an empty queue kept one empty slot, which the loop
      // then read as a send (a TypeError out of the loop, and the topic's later sends queued behind it for ever).
      if (this.#head < this.#queue.length && this.#head > COMPACT_AT && this.#head * 2 > this.#queue.length) this.#compact();
    }
    this.#queue = [];
    this.#head = 0;
    this.#settledBehind = 0;
    this.#running = false;
    this.#drained?.();
  }
}
