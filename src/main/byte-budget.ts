/**
 * The byte budget: how many bytes and records the producer holds between `send` and their result
 * (`maxBufferedBytes`, `maxBufferedRecords`), with a strictly FIFO queue of sends waiting for room.
 *
 * Invariant 1 of docs/invariants.md (no lost wake-ups under a byte limit) is the reason this file exists. An established
 * client woke one waiter per finished record, and only when that record had been over the limit, so with records
 * of different sizes wake-ups and waiters drifted apart and a producer blocked forever. Here there are no tokens
 * to drift: every release() re-checks the queue from its head and grants every waiter that now fits, in order.
 *
 *  - Strict FIFO: a head that does not fit yet holds back everyone behind it, so a large record is never starved
 *    by a stream of small ones; and a new request never overtakes the queue (tryAcquire says no while anyone
 *    waits, acquire joins the tail).
 *  - A request larger than the whole budget fails at once with RecordTooLargeError; it could never fit.
 *  - Timeout (BufferTimeoutError) and abort (AbortError, delivery 'not-sent') take no bytes, and re-check the
 *    queue: if the head left, the next one may fit now (invariant 5).
 *  - Every waiter is settled on every path, failAll() included; every timer is cleared and every abort listener
 *    removed (invariant 2).
 *
 * The counters and the queue are main-thread state; only the queue's length is published, as WAITERS in the
 * control block, because workers stop lingering while anyone waits. Granting is synchronous inside release(), which
 * the completion handler calls once per completed batch, not once per record.
 */
import { ConfigError } from '../shared/errors.js';
import type { ControlBlock } from '../shared/control-block.js';
import { AbortError, BufferTimeoutError, RecordTooLargeError } from '../shared/producer-errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import { listenForAbort } from '../shared/abort-listeners.js';
import { DeadlineHeap } from './deadline-heap.js';

export interface ByteBudgetOptions {
  /** `maxBufferedBytes`: an integer from 1 to 2^31 − 1 (the counter is an Int32 slot). */
  readonly maxBytes: number;
  /** `maxBufferedRecords`: an integer from 1 to 2^31 − 1. */
  readonly maxRecords: number;
  /**
   * Called synchronously when the queue goes from empty to non-empty. Workers stop lingering while WAITERS is
   * non-zero, but one asleep in a long linger only notices when woken: wire this to RingWriter.wake() for each
   * worker. It must not call back into this budget.
   */
  readonly onWaiting?: (() => void) | undefined;
}

export interface AcquireOptions {
  /** How long to wait for room (`bufferTimeoutMs`); Infinity or more than 2^31 − 1 ms means no limit. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Records this request counts for; default 1. */
  readonly records?: number | undefined;
  /**
   * Called synchronously when a queued request is granted, before anything else can run. The producer hands the
   * record to its worker right there: a promise continuation runs later, and a new send arriving in between
   * would find the queue empty and overtake it (send order must be ring order).
   */
  readonly onGranted?: (() => void) | undefined;
  /**
   * The wait a BufferTimeoutError names, when it is not `timeoutMs`: a sendBatch's later slices wait only what is
   * left of the call's bufferTimeoutMs, and one queued after that passed was told "within 0 ms".
   */
  readonly reportedTimeoutMs?: number | undefined;
}

const LIMIT = 2 ** 31 - 1;

/** Shared by every immediate grant, so the fast path of acquire() allocates nothing. */
const GRANTED: Promise<void> = Promise.resolve();

/** What a waiter of wait() is told once granted: nothing beyond its onGranted. */
const NOTHING = (): void => {};

/**
 * One queued request: a node of a doubly linked list, so a timeout or abort leaves from the middle in O(1); and,
 * when it has a deadline, an entry of the deadline heap, so the timer finds who timed out without walking the list.
 */
class Waiter {
  prev: Waiter | null = null;
  next: Waiter | null = null;
  /** Its place in the deadline heap; -1 when in none (no deadline, or it left). */
  heapIndex = -1;
  /** Stops listening to the signal's abort (one shared listener per signal: src/shared/abort-listeners.ts). */
  stopListening: (() => void) | undefined = undefined;

  constructor(
    /** Its place in the FIFO order, for waiters that time out in the same firing. */
    readonly seq: number,
    readonly bytes: number,
    readonly records: number,
    readonly signal: AbortSignal | undefined,
    /** Date.now() past which it times out; Infinity for none. */
    readonly deadline: number,
    /** The wait its BufferTimeoutError names (AcquireOptions.reportedTimeoutMs). */
    readonly timeoutMs: number,
    readonly onGranted: (() => void) | undefined,
    readonly resolve: () => void,
    readonly reject: (error: Error) => void,
  ) {}
}

export class ByteBudget {
  readonly maxBytes: number;
  readonly maxRecords: number;
  readonly #control: ControlBlock;
  readonly #onWaiting: (() => void) | undefined;
  /** The counts (main-thread state: nothing on another thread reads them, so they are not published). */
  #bytes = 0;
  #records = 0;
  #head: Waiter | null = null;
  #tail: Waiter | null = null;
  #length = 0;
  /** Waiters queued so far: the next one's seq. */
  #enqueued = 0;
  /** The queued waiters that have a deadline, earliest on top; each leaves it whenever it leaves the queue. */
  readonly #deadlines = new DeadlineHeap<Waiter>();
  /** Waiters the expiry timer has compared with the clock (see timeoutChecks). */
  #timeoutChecks = 0;
  /**
   * One timer for every waiter's timeout, due at the earliest deadline it knew of when armed. A timer per waiter cost
   * each waiting send about 350 of the 1,540 bytes its wait held (its Timeout and closure; measured with
   * `--expose-gc` over 100,000 waiters), and a send that waits at full throughput lives through scavenges, so all of
   * it was copied and promoted. Ref'd on purpose: a waiting send must settle even if nothing else keeps the process
   * alive; cleared whenever the queue empties.
   */
  #timer: NodeJS.Timeout | undefined = undefined;
  #timerAt = Infinity;

  constructor(control: ControlBlock, options: ByteBudgetOptions) {
    const { maxBytes, maxRecords } = options;
    if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > LIMIT) {
      throw new ConfigError(`maxBufferedBytes must be an integer from 1 to ${LIMIT}, got ${maxBytes}`);
    }
    if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > LIMIT) {
      throw new ConfigError(`maxBufferedRecords must be an integer from 1 to ${LIMIT}, got ${maxRecords}`);
    }
    this.maxBytes = maxBytes;
    this.maxRecords = maxRecords;
    this.#control = control;
    this.#onWaiting = options.onWaiting;
  }

  /** Requests queued for room. */
  get waiting(): number {
    return this.#length;
  }

  get bufferedBytes(): number {
    return this.#bytes;
  }

  get bufferedRecords(): number {
    return this.#records;
  }

  /**
   * How many waiters the expiry timer has compared with the clock so far: each one that timed out, plus the one
   * per firing that had not. For tests: a firing that walked the queue would make it grow with the queue's length.
   */
  get timeoutChecks(): number {
    return this.#timeoutChecks;
  }

  /**
   * Takes room without waiting. False when it does not fit now or when anyone is queued (no overtaking).
   * Throws RecordTooLargeError when it could never fit.
   */
  tryAcquire(bytes: number, records = 1): boolean {
    if (!(bytes >= 0 && bytes <= this.maxBytes && records >= 0 && records <= this.maxRecords)) {
      throw this.#invalid(bytes, records);
    }
    if (this.#head !== null || !this.#fits(bytes, records)) return false;
    this.#take(bytes, records);
    return true;
  }

  /**
   * Takes room, waiting in FIFO order when there is none. Rejects at once with RecordTooLargeError when it could
   * never fit, later with BufferTimeoutError or AbortError('not-sent'); a rejected request holds no bytes.
   * Callers without a signal may pass one shared options object, keeping the fast path allocation-free.
   */
  acquire(bytes: number, options: AcquireOptions): Promise<void> {
    const { signal, timeoutMs, records = 1 } = options;
    if (!(bytes >= 0 && bytes <= this.maxBytes && records >= 0 && records <= this.maxRecords)) {
      return Promise.reject(this.#invalid(bytes, records));
    }
    // Before the fast path: an aborted send never takes bytes, room or not (invariant 5).
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.#head === null && this.#fits(bytes, records)) {
      this.#take(bytes, records);
      if (options.onGranted === undefined) return GRANTED;
      try {
        options.onGranted();
      } catch (error) {
        this.#giveBack(bytes, records); // a grant whose taker failed holds nothing (invariant 2)
        return Promise.reject(error as Error);
      }
      return GRANTED;
    }

    return new Promise<void>((resolve, reject) => {
      this.#enqueue(bytes, records, timeoutMs, signal, options.onGranted, resolve, reject, options.reportedTimeoutMs);
    });
  }

  /**
   * acquire() without a promise, for a single send that has to wait: `onGranted` runs inside the grant, as
   * acquire's does; `onFailed` runs instead when the request could never fit, its signal aborts, it times out,
   * `onGranted` throws (holding nothing then) or failAll() gives up on it. Exactly one of the two runs, once; either
   * may run before wait() returns. A waiting send costs its Waiter and the caller's two callbacks, no promise.
   */
  wait(
    bytes: number, records: number, timeoutMs: number, signal: AbortSignal | undefined, onGranted: () => void,
    onFailed: (error: Error) => void,
  ): void {
    if (!(bytes >= 0 && bytes <= this.maxBytes && records >= 0 && records <= this.maxRecords)) {
      onFailed(this.#invalid(bytes, records));
      return;
    }
    // Before the fast path: an aborted send never takes bytes, room or not (invariant 5).
    if (signal?.aborted) {
      onFailed(abortError(signal));
      return;
    }
    if (this.#head === null && this.#fits(bytes, records)) {
      this.#take(bytes, records);
      try {
        onGranted();
      } catch (error) {
        this.#giveBack(bytes, records); // a grant whose taker failed holds nothing (invariant 2)
        onFailed(error as Error);
      }
      return;
    }
    this.#enqueue(bytes, records, timeoutMs, signal, onGranted, NOTHING, onFailed);
  }

  #enqueue(
    bytes: number, records: number, timeoutMs: number, signal: AbortSignal | undefined, onGranted: (() => void) | undefined,
    resolve: () => void, reject: (error: Error) => void, reportedTimeoutMs = timeoutMs,
  ): void {
    const deadline = timeoutMs <= MAX_TIMER_MS ? Date.now() + Math.max(0, timeoutMs) : Infinity;
    const waiter = new Waiter(this.#enqueued++, bytes, records, signal, deadline, reportedTimeoutMs, onGranted, resolve, reject);
    if (signal !== undefined) {
      waiter.stopListening = listenForAbort(signal, () => this.#leave(waiter, abortError(signal)));
    }
    this.#append(waiter);
    if (deadline !== Infinity) this.#deadlines.push(waiter);
    if (deadline < this.#timerAt) this.#armTimer(deadline);
  }

  /**
   * Gives back room (once per completed batch, with the batch's totals), then grants queued requests strictly in
   * order while the head fits. Throws RangeError, changing nothing, when more is released than is held.
   */
  release(bytes: number, records = 1): void {
    if (bytes > this.#bytes || records > this.#records || bytes < 0 || records < 0) {
      // A bookkeeping bug upstream; going negative would silently raise the limit for everyone after it.
      throw new RangeError(`released ${bytes} bytes / ${records} records but ${this.#bytes} / ${this.#records} are held`);
    }
    this.#bytes -= bytes;
    this.#records -= records;
    if (this.#head !== null) this.#grant();
  }

  /** Rejects every queued request with `error` (close, fatal worker failure). Holds nothing for them. */
  failAll(error: Error): void {
    let waiter = this.#head;
    this.#head = this.#tail = null;
    this.#length = 0;
    this.#deadlines.clear();
    this.#control.setWaiters(0);
    this.#disarmTimer();
    while (waiter !== null) {
      const next = waiter.next;
      waiter.prev = waiter.next = null;
      cleanUp(waiter);
      waiter.reject(error);
      waiter = next;
    }
  }

  #fits(bytes: number, records: number): boolean {
    return this.#bytes + bytes <= this.maxBytes && this.#records + records <= this.maxRecords;
  }

  #take(bytes: number, records: number): void {
    this.#bytes += bytes;
    this.#records += records;
  }

  #giveBack(bytes: number, records: number): void {
    this.#bytes -= bytes;
    this.#records -= records;
  }

  /**
   * Grants from the head while it fits. Promise settlement is asynchronous, so nothing re-enters this loop. A
   * grant callback that throws rejects its own waiter with that error and gives its bytes back; the loop goes on,
   * so the waiters behind it are granted as if it had left (invariant 2: every path settles and releases).
   */
  #grant(): void {
    let changed = false;
    let head = this.#head;
    while (head !== null) {
      if (head.signal?.aborted) {
        // Bytes can come back inside an abort listener (a record taken back from a ring's queue), before this
        // waiter's own listener for the same signal has run: it leaves aborted, never granted (invariant 5).
        this.#unlink(head);
        cleanUp(head);
        head.reject(abortError(head.signal));
        changed = true;
        head = this.#head;
        continue;
      }
      if (!this.#fits(head.bytes, head.records)) break;
      this.#take(head.bytes, head.records);
      this.#unlink(head);
      cleanUp(head);
      changed = true;
      let failure: unknown;
      let failed = false;
      try {
        head.onGranted?.();
      } catch (error) {
        failed = true;
        failure = error;
      }
      if (failed) {
        this.#giveBack(head.bytes, head.records);
        head.reject(failure instanceof Error ? failure : new Error(String(failure)));
      } else head.resolve();
      head = this.#head;
    }
    if (changed) this.#control.setWaiters(this.#length);
  }

  /** Timeout or abort: leave the queue holding nothing, then re-check — if this was the head, the next may fit. */
  #leave(waiter: Waiter, error: Error): void {
    if (!this.#linked(waiter)) return;
    this.#unlink(waiter);
    cleanUp(waiter);
    waiter.reject(error);
    this.#control.setWaiters(this.#length);
    if (this.#head !== null) this.#grant();
  }

  #append(waiter: Waiter): void {
    const tail = this.#tail;
    waiter.prev = tail;
    if (tail === null) this.#head = waiter;
    else tail.next = waiter;
    this.#tail = waiter;
    this.#length++;
    this.#control.setWaiters(this.#length);
    if (this.#length === 1) this.#onWaiting?.();
  }

  #linked(waiter: Waiter): boolean {
    return waiter.prev !== null || this.#head === waiter;
  }

  #unlink(waiter: Waiter): void {
    const { prev, next } = waiter;
    if (prev === null) this.#head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    waiter.prev = waiter.next = null;
    this.#deadlines.remove(waiter);
    if (--this.#length === 0) this.#disarmTimer();
  }

  #armTimer(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#expire, Math.max(0, at - Date.now()));
  }

  #disarmTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /**
   * The timer fell due: every waiter whose deadline has passed leaves with BufferTimeoutError, holding nothing, and
   * the queue is re-checked (if the head left, the next may fit); then the timer is armed for the earliest deadline
   * left. Only the timed-out waiters are looked at, off the top of the deadline heap, plus the one it stops at: with
   * deadlines a millisecond apart (a steady stream of sends while the broker is down) the timer fires every
   * millisecond, and a walk of the queue per firing saturated the main thread. It fires only when some deadline
   * comes (or a waiter it was armed for was granted before it): at most once per bufferTimeoutMs while sends are
   * granted in time.
   */
  readonly #expire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = Date.now();
    const expired: Waiter[] = [];
    let inOrder = true;
    for (let top = this.#deadlines.peek(); top !== undefined; top = this.#deadlines.peek()) {
      this.#timeoutChecks++;
      if (top.deadline > now) break;
      if (expired.length > 0 && top.seq < expired[expired.length - 1]!.seq) inOrder = false;
      this.#unlink(top);
      cleanUp(top);
      expired.push(top);
    }
    // Those timing out together are told in queue order, as the walk did. The heap gives them in deadline order
    // (queue order among equal deadlines), which differs only after mixed per-call timeouts or a clock set back:
    // this sort is rare, and only ever over the expired.
    if (!inOrder) expired.sort((a, b) => a.seq - b.seq);
    // Told after they all left: a waiter's reject may run code that queues again (a stream's next write).
    if (expired.length > 0) this.#control.setWaiters(this.#length);
    for (const waiter of expired) {
      waiter.reject(new BufferTimeoutError(
        `no buffer space for ${waiter.bytes} bytes within ${waiter.timeoutMs} ms (maxBufferedBytes ${this.maxBytes})`,
      ));
    }
    if (expired.length > 0 && this.#head !== null) this.#grant();
    const earliest = this.#deadlines.peek()?.deadline ?? Infinity;
    if (earliest < this.#timerAt) this.#armTimer(earliest);
  };

  /** Off the hot path: only reached when a request is out of range. */
  #invalid(bytes: number, records: number): Error {
    if (bytes > this.maxBytes) {
      return new RecordTooLargeError(`record of ${bytes} bytes exceeds maxBufferedBytes ${this.maxBytes}`);
    }
    if (records > this.maxRecords) {
      return new RecordTooLargeError(`${records} records exceed maxBufferedRecords ${this.maxRecords}`);
    }
    return new ConfigError(`bytes and records must be non-negative numbers, got ${bytes} and ${records}`);
  }
}

function cleanUp(waiter: Waiter): void {
  waiter.stopListening?.();
  waiter.stopListening = undefined;
}

function abortError(signal: AbortSignal): AbortError {
  return new AbortError('not-sent', 'send aborted while waiting for buffer space', { cause: signal.reason });
}
