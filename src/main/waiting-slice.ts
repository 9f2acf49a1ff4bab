/**
 * The records of one budget slice (budget-runs.ts) while they wait for buffer space: their positions in their
 * call's columns (call-records.ts, which also hold where each was placed), not an object per record. A slice is
 * reused once its records are handed on or failed (WaitingSlices).
 */
import type { CallRecords } from './call-records.js';

const INITIAL_RECORDS = 256;

export class WaitingSlice {
  /** The call whose records these are; set by `WaitingSlices.take`. */
  call: CallRecords | undefined;
  #positions = new Int32Array(INITIAL_RECORDS);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  add(position: number): void {
    if (this.#length === this.#positions.length) {
      const grown = new Int32Array(this.#length * 2);
      grown.set(this.#positions);
      this.#positions = grown;
    }
    this.#positions[this.#length++] = position;
  }

  positionAt(index: number): number {
    return this.#positions[index]!;
  }

  clear(): void {
    this.call = undefined;
    this.#length = 0;
  }
}

/**
 * Empty slices to reuse, shared by every sendBatch of a producer (all on the main thread). It keeps at most
 * MAX_KEPT, enough for a full buffer's slices (a slice is an eighth of it) and the calls waiting behind them.
 */
export class WaitingSlices {
  readonly #free: WaitingSlice[] = [];

  /** An empty slice for the records of `call`. */
  take(call: CallRecords): WaitingSlice {
    const slice = this.#free.pop() ?? new WaitingSlice();
    slice.call = call;
    return slice;
  }

  /** Takes back a slice whose records were handed on or failed. */
  give(slice: WaitingSlice): void {
    slice.clear();
    if (this.#free.length < MAX_KEPT) this.#free.push(slice);
  }
}

const MAX_KEPT = 64;
