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

/** What a slice of waiting records is to the runs: its records are the caller's to keep (waiting-slice.ts). */
export interface RunSlice {
  readonly length: number;
}

export interface BudgetRunsOptions<S extends RunSlice> {
  readonly budget: ByteBudget;
  /** Most bytes per slice; at least 1. */
  readonly sliceBytes: number;
  /** Most records per slice; at least 1. */
  readonly sliceRecords: number;
  /** Epoch ms by which a slice must be granted (the call's bufferTimeoutMs). */
  readonly deadline: number;
  /** The call's bufferTimeoutMs, which a slice's BufferTimeoutError names whatever of it was left to the slice. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** An empty slice, for the records that follow a full one. */
  readonly newSlice: () => S;
  /** A granted slice: hand its records on, in order (called synchronously inside the grant; `now` is its time). */
  readonly accept: (slice: S, now: number) => void;
  /** A slice that timed out or was aborted: each of its records fails; they hold no bytes. */
  readonly fail: (slice: S, error: Error) => void;
}

export class BudgetRuns<S extends RunSlice> {
  readonly #options: BudgetRunsOptions<S>;
  #slice: S | undefined;
  #bytes = 0;
  /** True once any record of the call has waited: every later one follows it. */
  #waiting = false;

  constructor(options: BudgetRunsOptions<S>) {
    this.#options = options;
  }

  /** Whether later records of the call must join the run rather than take the fast path. */
  get active(): boolean {
    return this.#waiting;
  }

  /**
   * The slice that a record of `bytes` joins: the caller appends the record to it, at once. A full slice is queued
   * first, and the record starts a new one.
   */
  sliceFor(bytes: number): S {
    this.#waiting = true;
    const { sliceBytes, sliceRecords } = this.#options;
    let slice = this.#slice;
    if (slice !== undefined && slice.length > 0 && (this.#bytes + bytes > sliceBytes || slice.length >= sliceRecords)) {
      this.flush();
      slice = undefined;
    }
    slice ??= this.#slice = this.#options.newSlice();
    this.#bytes += bytes;
    return slice;
  }

  /** Queues the pending slice in the budget (call once more after the last record of the call). */
  flush(): void {
    const slice = this.#slice;
    if (slice === undefined || slice.length === 0) return;
    const bytes = this.#bytes;
    this.#slice = undefined;
    this.#bytes = 0;
    const { budget, deadline, timeoutMs, signal, accept, fail } = this.#options;
    budget
      .acquire(bytes, {
        records: slice.length,
        timeoutMs: Math.max(0, deadline - Date.now()),
        reportedTimeoutMs: timeoutMs,
        signal,
        onGranted: () => accept(slice, Date.now()),
      })
      .catch((error: unknown) => fail(slice, error as Error));
  }
}
