/**
 * Sends that cannot be accepted at once (the producer is still connecting, or the topic's metadata is not known
 * yet) wait here in call order, and are admitted one after another by a single loop. Java's send() blocks its
 * thread in the same situation, so records from one caller keep their order; here a queue does it, and while it
 * holds anything every new send joins its tail rather than overtake.
 *
 * An entry whose signal aborts leaves at once (rejected 'not-sent'); the loop skips it.
 */
import { AbortError } from '../shared/producer-errors.js';

export interface Admission {
  readonly signal: AbortSignal | undefined;
  /** True once the entry was admitted, rejected or aborted. */
  settled: boolean;
  onAbort: (() => void) | undefined;
}

export class AdmissionQueue<Entry extends Admission> {
  readonly #admit: (entry: Entry) => Promise<void>;
  readonly #reject: (entry: Entry, error: Error) => void;
  #entries: Entry[] = [];
  #head = 0;
  #running = false;

  /**
   * `admit` takes an entry to the point where it is accepted or queued for buffer space; `reject` settles one
   * that failed or aborted. Neither is called for an entry already settled.
   */
  constructor(admit: (entry: Entry) => Promise<void>, reject: (entry: Entry, error: Error) => void) {
    this.#admit = admit;
    this.#reject = reject;
  }

  get isEmpty(): boolean {
    return this.#head === this.#entries.length;
  }

  push(entry: Entry): void {
    const signal = entry.signal;
    if (signal !== undefined) {
      entry.onAbort = () => this.#settle(entry, new AbortError('not-sent', 'aborted while waiting for the connection or topic metadata', { cause: signal.reason }));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    this.#entries.push(entry);
    if (!this.#running) void this.#run();
  }

  /** Rejects every entry still waiting (close): nothing here may outlive the producer. */
  failAll(error: Error): void {
    for (let i = this.#head; i < this.#entries.length; i++) this.#settle(this.#entries[i]!, error);
  }

  #settle(entry: Entry, error: Error | undefined): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (error !== undefined) this.#reject(entry, error);
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head]!;
      if (!entry.settled) {
        try {
          await this.#admit(entry);
          this.#settle(entry, undefined);
        } catch (error) {
          this.#settle(entry, error as Error);
        }
      }
      this.#head++;
    }
    this.#entries = [];
    this.#head = 0;
    this.#running = false;
  }
}
