/**
 * Calls whose records are submitted over several turns of the event loop, so that one large `sendBatch` does not
 * hold the loop: a call submits at most `sliceRecords` records at once, and the rest, a slice per turn, from
 * `setImmediate`, where timers and I/O run between slices. Submitting 100,000 records at once held the loop for
 * 50–100 ms (about 0.5–1 µs each), and a service's timers and sockets with it.
 *
 * Order is kept across calls (invariant 1, docs/invariants.md): while anything waits here, every new call, `send`
 * included, queues behind it, so records reach the partitioner, the byte budget and the rings in call order.
 */
import { listenForAbort } from '../shared/abort-listeners.js';
import { AbortError } from '../shared/producer-errors.js';

/** A call with records still to submit. */
export interface PendingSubmission {
  /** Submits up to `max` of its next records, in order; returns how many it submitted (at least 1 while any remain). */
  submitSome(max: number): number;
  /** True once every record has been submitted. */
  readonly done: boolean;
  /** Fails every record not yet submitted (close gave up on them); they never took bytes or ids. */
  failRest(error: Error): void;
}

/**
 * A call's records as a pending submission: `records[i]` is the checked record at position `first + i`, undefined
 * where its check failed (its caller was told already). `place` takes each in order; `afterSlice` runs after each
 * slice (a sendBatch queues its budget slice there); `reject` fails those never placed.
 */
export function pendingRecords<T>(
  records: (T | undefined)[],
  first: number,
  place: (record: T, position: number) => void,
  reject: (position: number, error: Error) => void,
  afterSlice?: () => void,
): PendingSubmission {
  let next = 0;
  return {
    submitSome(max) {
      const end = Math.min(records.length, next + max);
      for (let i = next; i < end; i++) {
        const record = records[i];
        if (record === undefined) continue;
        records[i] = undefined;
        place(record, first + i);
      }
      const submitted = end - next;
      next = end;
      afterSlice?.();
      return submitted;
    },
    get done() {
      return next >= records.length;
    },
    failRest(error) {
      for (; next < records.length; next++) {
        if (records[next] === undefined) continue;
        records[next] = undefined;
        reject(first + next, error);
      }
    },
  };
}

/** What pendingCall needs of a call's records (call-records.ts). */
export interface CallPositions {
  readonly length: number;
  /** Whether a record waits at `position` (false where its check failed: its caller was told already). */
  has(position: number): boolean;
  /** Drops the record at `position`. */
  forget(position: number): void;
  /** Every position was placed or failed: the call's records are no longer read by position. */
  donePlacing(): void;
}

/**
 * A sendBatch's records from `first` on as a pending submission: `place(position)` takes each record the call
 * still has, in order; `afterSlice` runs after each slice (the call queues its budget slice there); `reject` fails
 * those never placed.
 */
export function pendingCall(
  call: CallPositions,
  first: number,
  place: (position: number) => void,
  reject: (position: number, error: Error) => void,
  afterSlice: () => void,
): PendingSubmission {
  let next = first;
  return {
    submitSome(max) {
      const end = Math.min(call.length, next + max);
      for (let i = next; i < end; i++) if (call.has(i)) place(i);
      const submitted = end - next;
      next = end;
      afterSlice();
      if (next >= call.length) call.donePlacing();
      return submitted;
    },
    get done() {
      return next >= call.length;
    },
    failRest(error) {
      for (; next < call.length; next++) {
        if (!call.has(next)) continue;
        call.forget(next);
        reject(next, error);
      }
      call.donePlacing();
    },
  };
}

export class SubmitBacklog {
  readonly #sliceRecords: number;
  /**
   * Calls from `#head` on wait; the slots before it are emptied as their calls finish submitting. A finished call's
   * submission holds its columns, its settler (with a result per record under `results: 'all'`) and its signal, and
   * under sustained load the queue never empties: kept in place until the next compaction, up to 1,024 finished
   * calls were held after their callers had let go of them (`npx tsx bench/handover.ts --modes all --records
   * 6000000`: peak RSS 1,120–1,197 MiB then, 798–892 now).
   */
  #queue: (PendingSubmission | undefined)[] = [];
  #head = 0;
  #scheduled = false;
  /** Calls queued and calls fully submitted since the start, for whenSubmitted. */
  #queuedCalls = 0;
  #submittedCalls = 0;
  #waiters: { readonly target: number; readonly resolve: () => void }[] = [];
  /** By waiting call that has a signal: stops listening to it (once the call is fully submitted or failed). */
  readonly #stopListening = new Map<PendingSubmission, () => void>();

  constructor(sliceRecords: number) {
    this.#sliceRecords = sliceRecords;
  }

  /** Records of one call submitted at once, and per turn of the event loop. */
  get sliceRecords(): number {
    return this.#sliceRecords;
  }

  get isEmpty(): boolean {
    return this.#head === this.#queue.length;
  }

  /**
   * Queues a call behind those already waiting; its records go in later turns. On `signal`'s abort, the records not
   * submitted yet fail at once (invariant 5): the signal was looked at only when each record's turn came, so a send
   * queued behind a sendBatch of 300,000 records was released some 150 turns (0.7 s) after its abort.
   */
  push(submission: PendingSubmission, signal?: AbortSignal): void {
    this.#queue.push(submission);
    this.#queuedCalls++;
    if (signal !== undefined) {
      // In a microtask: an abort from inside a placing (a custom partitioner's) must not fail a call's records while
      // that placing is under way. Aborted already (by the call's own serializer, while its records were checked),
      // the records fail in the next microtask just the same.
      const aborted = (): void => queueMicrotask(() => {
        this.#stopListeningTo(submission);
        submission.failRest(new AbortError('not-sent', 'aborted before send', { cause: signal.reason }));
      });
      if (signal.aborted) aborted();
      else this.#stopListening.set(submission, listenForAbort(signal, aborted));
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }

  /** Resolves once every call queued before this one has submitted all its records (at once when none waits). */
  whenSubmitted(): Promise<void> {
    if (this.isEmpty) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ target: this.#queuedCalls, resolve }));
  }

  /** Fails what every waiting call has not submitted yet, and releases whoever waits for them. */
  failAll(error: Error): void {
    const queue = this.#queue;
    const head = this.#head;
    this.#queue = [];
    this.#head = 0;
    for (let i = head; i < queue.length; i++) {
      this.#stopListeningTo(queue[i]!);
      queue[i]!.failRest(error);
      this.#submittedCalls++;
    }
    this.#release();
  }

  #stopListeningTo(submission: PendingSubmission): void {
    if (this.#stopListening.size === 0) return;
    this.#stopListening.get(submission)?.();
    this.#stopListening.delete(submission);
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    let left = this.#sliceRecords;
    while (left > 0 && this.#head < this.#queue.length) {
      const submission = this.#queue[this.#head]!;
      left -= submission.submitSome(left);
      if (submission.done) {
        this.#stopListeningTo(submission);
        this.#queue[this.#head++] = undefined;
        this.#submittedCalls++;
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#release();
    if (!this.isEmpty && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  };

  #release(): void {
    if (this.#waiters.length === 0) return;
    const due = this.#waiters.filter((w) => w.target <= this.#submittedCalls);
    if (due.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.target > this.#submittedCalls);
    for (const waiter of due) waiter.resolve();
  }
}
