/**
 * Counts sends between their call and their result, in call order, so that `flush()` can wait for exactly the
 * sends made before it: each flush remembers the last sequence number at its call and how many of those sends
 * are still open, and resolves when that reaches zero. Records accepted after a flush began never delay it.
 */
import { AbortError } from '../shared/producer-errors.js';

interface FlushWaiter {
  readonly target: number;
  remaining: number;
  resolve: () => void;
}

export class SendTracker {
  #sequence = 0;
  #open = 0;
  readonly #flushes: FlushWaiter[] = [];

  /** Sends called and not yet settled. */
  get open(): number {
    return this.#open;
  }

  get flushing(): boolean {
    return this.#flushes.length > 0;
  }

  /** A send was called: its sequence number, to hand back to `end`. */
  begin(): number {
    this.#open++;
    return ++this.#sequence;
  }

  /** The send numbered `sequence` has its result (resolved or rejected). */
  end(sequence: number): void {
    this.#open--;
    for (let i = 0; i < this.#flushes.length; i++) {
      const flush = this.#flushes[i]!;
      if (sequence <= flush.target && --flush.remaining === 0) {
        this.#flushes.splice(i--, 1);
        flush.resolve();
      }
    }
  }

  /** Resolves when every send made before this call has its result; rejects with AbortError on `signal`. */
  async flushed(signal: AbortSignal | undefined): Promise<void> {
    if (this.#open === 0) return;
    const flush: FlushWaiter = { target: this.#sequence, remaining: this.#open, resolve: () => {} };
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        flush.resolve = resolve;
        this.#flushes.push(flush);
        if (signal !== undefined) {
          onAbort = () => reject(new AbortError('not-sent', 'flush aborted; the records it waited for go on', { cause: signal.reason }));
          signal.addEventListener('abort', onAbort, { once: true });
        }
      });
    } finally {
      const at = this.#flushes.indexOf(flush);
      if (at >= 0) this.#flushes.splice(at, 1);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
  }
}
