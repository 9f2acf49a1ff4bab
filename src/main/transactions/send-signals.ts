/**
 * The signal a send in a transaction listens to: its caller's and the transaction's together, so that aborting
 * either drops the record if it is unsent. Combined once per caller signal in each transaction, and let go when the
 * transaction ends. Combined per send with AbortSignal.any, a service that passed one long-lived signal (its
 * shutdown signal) to every send grew its heap by about 75 bytes a send on Node 20, whose AbortSignal.any leaves an
 * entry in the caller's signal that is never removed.
 */
import { listenForAbort } from '../../shared/abort-listeners.js';

export class SendSignals {
  readonly #transaction: AbortSignal;
  readonly #combined = new Map<AbortSignal, AbortSignal>();
  /** Stops the listeners the combined signals hold on the callers' signals and the transaction's. */
  readonly #stops: (() => void)[] = [];

  constructor(transaction: AbortSignal) {
    this.#transaction = transaction;
  }

  /** The transaction's signal, combined with `caller` when one is given. */
  for(caller: AbortSignal | undefined): AbortSignal {
    const transaction = this.#transaction;
    if (caller === undefined || caller === transaction || transaction.aborted) return transaction;
    if (caller.aborted) return caller;
    let combined = this.#combined.get(caller);
    if (combined === undefined) {
      const controller = new AbortController();
      this.#stops.push(
        listenForAbort(caller, () => controller.abort(caller.reason)),
        listenForAbort(transaction, () => controller.abort(transaction.reason)),
      );
      combined = controller.signal;
      this.#combined.set(caller, combined);
    }
    return combined;
  }

  /** The transaction has ended (its sends are settled): no listener stays on a caller's signal for it. */
  release(): void {
    for (const stop of this.#stops) stop();
    this.#stops.length = 0;
    this.#combined.clear();
  }
}
