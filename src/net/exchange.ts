/**
 * One request's life on a connection, from encoding to its settlement. It is the only object allocated per
 * request besides the frame and the caller's promise: it is its own abort listener (`handleEvent`), so no
 * closure is created per request or per answer.
 */
import type { ApiDefinition } from '../protocol/api.js';
import type { Delivery } from '../shared/errors.js';
import { AbortError } from '../shared/producer-errors.js';

/**
 * The caller gave up through its AbortSignal. `delivery` says what happened to the request: `'not-sent'` when it
 * never left the queue, `'unknown'` when it was written (the broker may still act on it; invariant 5, docs/invariants.md).
 */
export function abortError(what: string, delivery: Delivery, reason: unknown): AbortError {
  const outcome = delivery === 'not-sent' ? 'it was not sent' : 'it was sent; its outcome is unknown';
  return new AbortError(delivery, `${what} aborted: ${outcome}`, reason === undefined ? {} : { cause: reason });
}

const unset = (): void => {};

export class Exchange {
  readonly api: ApiDefinition<unknown, unknown>;
  readonly version: number;
  readonly correlationId: number;
  /** False for acks=0 Produce: no answer comes, no correlation id is awaited. */
  readonly expectsResponse: boolean;
  /** performance.now() by which the answer must have arrived; set when written. */
  deadline = 0;
  /** True once the caller's promise is settled; a late answer is then dropped. */
  released = false;
  resolve: (value: unknown) => void = unset;
  reject: (error: unknown) => void = unset;
  /** The frame as pieces to write in order (a Produce frame's record batches are their own pieces: Writer#chunks). */
  #frame: Uint8Array[] | null;
  #signal: AbortSignal | undefined;
  readonly #onAbort: (exchange: Exchange, reason: unknown) => void;

  constructor(
    api: ApiDefinition<unknown, unknown>,
    version: number,
    correlationId: number,
    frame: Uint8Array[],
    expectsResponse: boolean,
    onAbort: (exchange: Exchange, reason: unknown) => void,
  ) {
    this.api = api;
    this.version = version;
    this.correlationId = correlationId;
    this.#frame = frame;
    this.expectsResponse = expectsResponse;
    this.#onAbort = onAbort;
  }

  /** The caller's promise, which `succeed` and `fail` settle. */
  settlement<T>(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.resolve = resolve as (value: unknown) => void;
      this.reject = reject;
    });
  }

  /** The encoded frame, once: the exchange drops it so a long wait for the answer does not pin the bytes. */
  takeFrame(): Uint8Array[] {
    const frame = this.#frame;
    if (frame === null) throw new Error('frame already written');
    this.#frame = null;
    return frame;
  }

  listen(signal: AbortSignal): void {
    this.#signal = signal;
    signal.addEventListener('abort', this, { once: true });
  }

  /** EventListener protocol: the abort signal fired. */
  handleEvent(): void {
    this.#onAbort(this, this.#signal?.reason);
  }

  succeed(value: unknown): void {
    if (this.released) return;
    this.#release();
    this.resolve(value);
  }

  fail(error: unknown): void {
    if (this.released) return;
    this.#release();
    this.reject(error);
  }

  #release(): void {
    this.released = true;
    // A long-lived signal (one per producer, say) must not collect a listener per request.
    this.#signal?.removeEventListener('abort', this);
    this.#signal = undefined;
  }
}
