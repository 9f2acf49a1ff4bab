/**
 * What a commit or an abort waits for before EndTxn goes out: every operation of the transaction without a result
 * yet (its sends, v1 partition adds and sendOffsets calls) and every record the workers were given, until its worker
 * has reported it. A caller released early (an abort, a delivery timeout) does not count as done, since its record
 * may still be in a batch; waiting for both is what keeps EndTxn from committing half a transaction, or a batch of
 * it from being stamped with the next epoch (docs/transactions.md).
 */
import { untilAborted } from '../../shared/until-aborted.js';

export class OutstandingWork {
  /** Resolves once every record given to the workers has been reported by them (Deliveries.whenEmpty). */
  readonly #drained: () => Promise<void>;
  /** Operations without a result yet, and who waits for none. */
  #pending = 0;
  #idle: (() => void)[] = [];

  constructor(drained: () => Promise<void>) {
    this.#drained = drained;
  }

  /** Counts `work` as an operation of the open transaction until it settles (it must not reject). */
  hold(work: Promise<void>): void {
    this.#pending++;
    void work.finally(() => {
      if (--this.#pending > 0) return;
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    });
  }

  /** Resolves once every operation of the transaction has its result and every record its worker's report. */
  async settled(signal: AbortSignal | undefined): Promise<void> {
    const what = "aborted while the transaction's records were still out";
    if (this.#pending > 0) await untilAborted(new Promise<void>((resolve) => this.#idle.push(resolve)), signal, what);
    await untilAborted(this.#drained(), signal, what);
  }
}
