/**
 * The records of one `sendBatch` that have to wait for buffer space, asked for in slices: one byte-budget request
 * (one queue node, one timer, one abort listener) per slice of records instead of one per record. Under
 * saturation nearly every record of a large sendBatch waits, and a waiter per record cost a promise, closures and
 * a timer each.
 *
 * Order is kept (invariant 1, docs/invariants.md): once one record of the call has had to wait, every later record
 * of the call joins the run behind it, even if it would fit now, and slices enter the budget's FIFO queue in
 * order, synchronously, so no other send can come between them and the ring sees the call's records in call
 * order. A slice is granted when all of its bytes fit, never more than `sliceBytes` (a fraction of the budget) so
 * slices keep flowing while earlier ones are in flight. A record larger than a slice is a slice of its own.
 */
import type { ByteBudget } from './byte-budget.js';

export interface BudgetRunsOptions<T> {
  readonly budget: ByteBudget;
  /** Most bytes per slice; at least 1. */
  readonly sliceBytes: number;
  /** Most records per slice; at least 1. */
  readonly sliceRecords: number;
  /** Epoch ms by which a slice must be granted (the call's bufferTimeoutMs). */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  /** A granted slice: hand its records on, in order (called synchronously inside the grant; `now` is its time). */
  readonly accept: (records: readonly T[], now: number) => void;
  /** A record whose slice timed out or was aborted: it holds no bytes. */
  readonly fail: (record: T, error: Error) => void;
}

export class BudgetRuns<T> {
  readonly #options: BudgetRunsOptions<T>;
  #records: T[] = [];
  #bytes = 0;
  /** True once any record of the call has waited: every later one follows it. */
  #waiting = false;

  constructor(options: BudgetRunsOptions<T>) {
    this.#options = options;
  }

  /** Whether later records of the call must join the run rather than take the fast path. */
  get active(): boolean {
    return this.#waiting;
  }

  add(record: T, bytes: number): void {
    this.#waiting = true;
    const { sliceBytes, sliceRecords } = this.#options;
    if (this.#records.length > 0 && (this.#bytes + bytes > sliceBytes || this.#records.length >= sliceRecords)) this.flush();
    this.#records.push(record);
    this.#bytes += bytes;
  }

  /** Queues the pending slice in the budget (call once more after the last record of the call). */
  flush(): void {
    const records = this.#records;
    if (records.length === 0) return;
    const bytes = this.#bytes;
    this.#records = [];
    this.#bytes = 0;
    const { budget, deadline, signal, accept, fail } = this.#options;
    budget
      .acquire(bytes, {
        records: records.length,
        timeoutMs: Math.max(0, deadline - Date.now()),
        signal,
        onGranted: () => accept(records, Date.now()),
      })
      .catch((error: unknown) => {
        for (let i = 0; i < records.length; i++) fail(records[i]!, error as Error);
      });
  }
}
