/**
 * The control block: a small SharedArrayBuffer of Int32 slots that the main thread and every worker thread share.
 * Every slot is read and written only with `Atomics`, and every slot has exactly one writing side (docs/invariants.md,
 * invariant 3) — the one exception, MAIN_SLEEPING, is a state word whose protocol is spelled out below.
 *
 * Slots written by the main thread and slots written by workers sit on different 64-byte cache lines, so a worker
 * bumping COMPLETION_SEQ does not keep invalidating the line the main thread updates on every `send`.
 *
 * Atomics.waitAsync does not keep Node's event loop alive. Whoever waits here (or on a ring) must hold a ref'd
 * handle — a pending timer, a socket, the Worker object — for as long as work is pending, or the process (or the
 * worker) may exit with promises unsettled. Nothing in this module holds one.
 */
import { WordWaiter, type WaitOptions, type WaitOutcome } from './wait-on.js';

/** Slot indices into the control block's Int32Array. */
export const ControlSlot = {
  // ── cache line 0: written by the main thread only ───────────────────────────────────────────────────────────
  // Slots 0 and 1 once mirrored the byte budget's counts; nothing on another thread read them, and the two
  // atomic stores per send were pure cost. Free for reuse.
  /**
   * Number of `send`s queued for buffer space. Main writes (ByteBudget keeps it equal to its queue length);
   * workers read it: while it is non-zero they stop lingering and send every batch at once, because only
   * completed batches give bytes back (invariant 1, docs/invariants.md).
   */
  WAITERS: 2,
  /** Number of `flush()` calls in progress. Main writes; workers read it and, like WAITERS, stop lingering. */
  FLUSHES: 3,
  /** 1 once `close()` has begun. Main writes; workers read it: no more lingering, send what they hold and finish. */
  CLOSING: 4,

  // ── cache line 1: written by workers ─────────────────────────────────────────────────────────────────────────
  /**
   * Event count for the completion rings. Each worker `Atomics.add`s 1 after publishing completions to its ring;
   * the main thread reads it before draining the rings and re-checks it after announcing that it will sleep, so a
   * completion published during the drain keeps it awake. Nobody waits on it.
   */
  COMPLETION_SEQ: 16,
  /**
   * The main thread's sleeping word: 1 while it is (about to be) asleep waiting for completions, else 0. The main
   * thread stores 1, re-checks COMPLETION_SEQ, then waits on THIS word with expected value 1; a worker that has
   * published swaps 1 → 0 and notifies. Waiting on the word that carries the wake token (and not on
   * COMPLETION_SEQ) is what makes a swap that lands before the wait count: the wait then sees 0 and returns.
   * A busy main thread costs workers one load per burst and no notify (wake-ups only on idle → busy).
   * Protocol and proof: docs/shared-memory.md, model test/shared/models/completion-signal.pml.
   */
  MAIN_SLEEPING: 17,
} as const;
export type ControlSlot = (typeof ControlSlot)[keyof typeof ControlSlot];

/** Two 64-byte cache lines. */
export const CONTROL_BLOCK_BYTES = 128;

/**
 * The steps of the wait/notify protocols at which a test may park a thread: between a side's two halves, where
 * the other side's moves decide whether a wake-up is lost. Tests force the losing interleavings with real threads
 * by parking one thread here (blocking in Atomics.wait) and releasing it from the other.
 *
 *   completion:counted   worker, after W2 (SEQ counted), before W3 (load SLEEPING)
 *   completion:sleeping  main, after M3 (SLEEPING = 1), before M4 (re-check)
 *   reader:idle          ring reader, after it found nothing to do, before it stores READER_SLEEPING
 *   reader:sleeping      ring reader, after it stored READER_SLEEPING, before its re-checks
 *   writer:sleeping      ring writer waiting for space, after it stored WRITER_SLEEPING, before its re-check
 */
export type ProtocolStep =
  | 'completion:counted'
  | 'completion:sleeping'
  | 'reader:idle'
  | 'reader:sleeping'
  | 'writer:sleeping';

/** A test seam: called synchronously at each ProtocolStep. Production code never passes one. */
export type ProtocolPause = (step: ProtocolStep) => void;

/** A typed view of a control block. Construct one per thread over the same SharedArrayBuffer. */
export class ControlBlock {
  readonly buffer: SharedArrayBuffer;
  readonly #slots: Int32Array;
  /** The main thread's waits for completions, on MAIN_SLEEPING (workers never wait on it). */
  readonly #completionSleep: WordWaiter;
  readonly #pause: ProtocolPause | undefined;

  /** `pause` is a test seam (see ProtocolPause); production code passes nothing. */
  constructor(buffer: SharedArrayBuffer, pause?: ProtocolPause) {
    if (buffer.byteLength !== CONTROL_BLOCK_BYTES) {
      throw new TypeError(`control block must be ${CONTROL_BLOCK_BYTES} bytes, got ${buffer.byteLength}`);
    }
    this.buffer = buffer;
    this.#slots = new Int32Array(buffer);
    this.#completionSleep = new WordWaiter(this.#slots, ControlSlot.MAIN_SLEEPING);
    this.#pause = pause;
  }

  // ── reads (any thread) ─────────────────────────────────────────────────────────────────────────────────────

  get waiters(): number {
    return Atomics.load(this.#slots, ControlSlot.WAITERS);
  }

  get flushes(): number {
    return Atomics.load(this.#slots, ControlSlot.FLUSHES);
  }

  get closing(): boolean {
    return Atomics.load(this.#slots, ControlSlot.CLOSING) !== 0;
  }

  /** For workers: true when batches must go out now instead of lingering (someone waits, flushes or closes). */
  get sendNow(): boolean {
    const s = this.#slots;
    return (
      Atomics.load(s, ControlSlot.WAITERS) !== 0 ||
      Atomics.load(s, ControlSlot.FLUSHES) !== 0 ||
      Atomics.load(s, ControlSlot.CLOSING) !== 0
    );
  }

  get completionSeq(): number {
    return Atomics.load(this.#slots, ControlSlot.COMPLETION_SEQ);
  }

  // ── writes by the main thread ──────────────────────────────────────────────────────────────────────────────

  /** Main only (ByteBudget): the length of its waiter queue. */
  setWaiters(count: number): void {
    Atomics.store(this.#slots, ControlSlot.WAITERS, count);
  }

  /** Main only: a `flush()` began (workers stop lingering) … */
  beginFlush(): void {
    Atomics.add(this.#slots, ControlSlot.FLUSHES, 1);
  }

  /** … and ended, on every path (invariant 2), or workers would never linger again. */
  endFlush(): void {
    Atomics.sub(this.#slots, ControlSlot.FLUSHES, 1);
  }

  /** Main only: `close()` began. */
  setClosing(): void {
    Atomics.store(this.#slots, ControlSlot.CLOSING, 1);
  }

  // ── the completion wake-up, both sides ─────────────────────────────────────────────────────────────────────
  //
  // Model: test/shared/models/completion-signal.pml. Each step below names the model's label beside it.
  //
  // Why no wake-up is lost (all Atomics operations are sequentially consistent). The worker does
  // [W1 publish ring, W2 add SEQ, W3 load SLEEPING, W4 swap 1 → 0, W5 notify SLEEPING]; the main thread does
  // [M1 read SEQ as `seen`, M2 drain rings, M3 store SLEEPING = 1, M4 re-check SEQ, M5 wait on SLEEPING while 1].
  // If W2 precedes M1, W1 does too and M2 sees the entries. If W2 precedes M4, M4 sees SEQ ≠ seen and the main
  // thread does not sleep. Otherwise M3 < M4 < W2 < W3, so W3 sees 1 — or some other worker already swapped it
  // to 0 — and some worker's W4 turns it to 0 after M3. If that swap precedes M5, the wait sees 0 and returns
  // at once; if it follows M5, its W5 wakes the waiter. A stale swap from an earlier round can only cause a
  // spurious wake-up, after which the main thread drains and looks again.
  //
  // The earlier protocol waited on SEQ instead of SLEEPING (M5' wait on SEQ while `seen`): a worker whose W2 was
  // already counted in `seen` could do W3–W5 between M3 and M5', spending the token on nobody, and the main
  // thread slept with SLEEPING = 0, so no later signal woke it. The model keeps that variant as a negative case.

  /**
   * Worker: call after publishing completions to its ring (after RingWriter.commit). Returns true when it had to
   * wake the main thread.
   */
  signalCompletion(): boolean {
    const s = this.#slots;
    Atomics.add(s, ControlSlot.COMPLETION_SEQ, 1); // W2 (`count`)
    this.#pause?.('completion:counted');
    // Plain load first: the common case (main busy) then costs no locked compare-and-swap.
    if (Atomics.load(s, ControlSlot.MAIN_SLEEPING) === 0) return false; // W3 (`look`)
    if (Atomics.compareExchange(s, ControlSlot.MAIN_SLEEPING, 1, 0) !== 1) return false; // W4 (`swap`)
    Atomics.notify(s, ControlSlot.MAIN_SLEEPING); // W5 (`notify`)
    return true;
  }

  /**
   * Main, after a worker died: wakes its own completion wait. A worker that died between its `swap` (W4) and its
   * `notify` (W5) left the main thread asleep on a word now 0, which every later worker reads (W3) as "awake, no
   * notify needed": their completions went unread until close. A spurious wake-up costs one drain and a re-arm.
   */
  wakeMain(): void {
    Atomics.notify(this.#slots, ControlSlot.MAIN_SLEEPING);
  }

  /**
   * Main: sleeps until a worker signals a completion after `seen` was read from `completionSeq` (M1). Read `seen`
   * BEFORE draining the completion rings (M2); then a completion published during the drain ends the wait at once.
   */
  async waitForCompletion(seen: number, options: WaitOptions = {}): Promise<WaitOutcome> {
    const s = this.#slots;
    Atomics.store(s, ControlSlot.MAIN_SLEEPING, 1); // M3 (`sleepy`)
    try {
      this.#pause?.('completion:sleeping');
      // M4 (`recheck`): a completion counted after `seen` means there is something to drain.
      if (Atomics.load(s, ControlSlot.COMPLETION_SEQ) !== seen) return 'not-equal';
      return await this.#completionSleep.wait(1, options); // M5 (`sleep`)
    } finally {
      // Awake (or never slept): workers must not pay for notifies nobody waits for.
      Atomics.store(s, ControlSlot.MAIN_SLEEPING, 0); // M6 (`awake`)
    }
  }
}

/** Allocates a zeroed control block for the main thread; pass `block.buffer` to each worker. */
export function createControlBlock(): ControlBlock {
  return new ControlBlock(new SharedArrayBuffer(CONTROL_BLOCK_BYTES));
}
