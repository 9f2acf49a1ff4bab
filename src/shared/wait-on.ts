/**
 * Waiting on a shared word without blocking the thread: Atomics.waitAsync, with a timeout and an AbortSignal that
 * cost little per wait, because a worker waits on its ring up to a thousand times a second at a modest rate.
 *
 * - The timeout is a Node timer, not waitAsync's own: V8 hands a waitAsync timeout to Node's platform as a
 *   delayed task, which takes a lock, wakes the thread's event loop to start a libuv timer for it, and fires that
 *   timer later even when a notify ended the wait long before.
 * - A signal gets one 'abort' listener for as long as it lives, not one per wait: Node's EventTarget allocates and
 *   validates on every addEventListener, and a removeEventListener walks the list.
 * - A timeout ends the wait where it fires, and leaves the thread's registration on the word in place for its
 *   next wait there, which rides on it. Ending it with a notify of the thread's own, as this did before, cost a
 *   turn of the event loop per timeout (the notify posts a task that wakes the loop once more to resolve the wait)
 *   and the notify itself: at 20,000 records/s the lingering worker's timer, its most frequent wake-up, was the
 *   top entry of its profile (docs/performance.md). A registration holds its SharedArrayBuffer until a notify or
 *   the thread's end; timeouts are the worker's ring reader's, whose thread ends with its producer.
 * - An abort (how a wait ends at close, or when a worker dies) ends the wait where it fires too, and then drops
 *   the registration with a notify of its own once no other wait rides on it: the thread may never wait on the
 *   word again, and a registration left listed on the main thread would keep a closed producer's ring alive.
 *
 * Why riding on a registration loses no wake-up. A registration is made by waitAsync in one atomic step (the
 * word still holds the value expected, or it returns at once) and stays in V8's list for the word until a
 * notify takes it out, whatever happens to the waits riding on it. A later wait that rides on it first loads the
 * word and returns 'not-equal' unless it holds the value that wait expects, just as waitAsync would. Every notify
 * after that load finds the registration still listed, or finds that an earlier notify took it out; either way
 * the registration resolves, and with it every wait riding on it. A notify that came before the load (and after
 * the wait it was meant for had ended) ends the new wait too: a spurious wake-up, which every caller already
 * takes as "look again". So a wait ends at every notify after its check, as a fresh waitAsync would — the `sleep`
 * step of the models in test/shared/models — and the protocols built on it are unchanged (docs/shared-memory.md,
 * "How waiting works").
 *
 * Each word has one waiting thread in this project (a ring's reader, a ring's writer, the main thread on
 * MAIN_SLEEPING), and that thread one WordWaiter for it. A WordWaiter takes several waits at once
 * (RingWriter.waitForSpace may have two callers); one registration serves them all.
 *
 * Atomics.waitAsync does not keep Node's event loop alive, and neither does the timer here (it is unref'd): whoever
 * waits must hold a ref'd handle for as long as work is pending (control-block.ts).
 */

/** Why a wait ended. `'ok'` and `'not-equal'` mean "look again"; spurious wake-ups are possible. */
export type WaitOutcome = 'ok' | 'not-equal' | 'timed-out' | 'aborted';

export interface WaitOptions {
  /** Ends the wait early with `'aborted'`. */
  readonly signal?: AbortSignal | undefined;
  /** Ends the wait with `'timed-out'`; default: no limit. */
  readonly timeoutMs?: number | undefined;
}

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

/** lib ES2023 has no typing for Atomics.waitAsync (ES2024), but Node 20's V8 has the function. */
const atomics = Atomics as typeof Atomics & {
  waitAsync(words: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult;
};

/** Node clamps a longer delay to 1 ms; a wait that long is a wait without a limit. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One wait in progress: a notify, its timer or its signal ends it, whichever comes first. */
class PendingWait {
  readonly #waiter: WordWaiter;
  readonly #settle: (outcome: WaitOutcome) => void;
  readonly signal: AbortSignal | undefined;
  timer: NodeJS.Timeout | undefined;

  constructor(waiter: WordWaiter, settle: (outcome: WaitOutcome) => void, signal: AbortSignal | undefined) {
    this.#waiter = waiter;
    this.#settle = settle;
    this.signal = signal;
  }

  end(outcome: WaitOutcome): void {
    if (!this.#waiter.forget(this)) return; // already ended
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.signal !== undefined) waitsBySignal.get(this.signal)?.delete(this);
    this.#settle(outcome);
    if (outcome === 'aborted') this.#waiter.dropRegistration();
  }
}

function onTimeout(wait: PendingWait): void {
  wait.end('timed-out');
}

/** The waits in progress of each signal, and the one listener that ends them all. */
const waitsBySignal = new WeakMap<AbortSignal, Set<PendingWait>>();

function watch(signal: AbortSignal, wait: PendingWait): void {
  let waits = waitsBySignal.get(signal);
  if (waits === undefined) {
    const pending = new Set<PendingWait>();
    waits = pending;
    waitsBySignal.set(signal, pending);
    signal.addEventListener('abort', () => {
      for (const w of [...pending]) w.end('aborted');
      pending.clear();
    }, { once: true });
  }
  waits.add(wait);
}

/** One thread's waits on one shared word (see the file comment). */
export class WordWaiter {
  readonly #words: Int32Array;
  readonly #index: number;
  /** This thread's waitAsync on the word is listed and not yet resolved: the next wait rides on it. */
  #registered = false;
  readonly #waits = new Set<PendingWait>();

  constructor(words: Int32Array, index: number) {
    this.#words = words;
    this.#index = index;
  }

  /**
   * Waits without blocking the thread until the word is notified, unless it no longer holds `expected`, the
   * timeout passes or the signal aborts. Never rejects.
   */
  wait(expected: number, options: WaitOptions = {}): Promise<WaitOutcome> {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.resolve('aborted');
    const words = this.#words;
    const index = this.#index;
    const limited = timeoutMs !== undefined && timeoutMs < MAX_TIMER_MS;
    // A wait that may not last at all does not start a timer (or return a turn of the loop later).
    if (limited && timeoutMs <= 0) return Promise.resolve(Atomics.load(words, index) === expected ? 'timed-out' : 'not-equal');
    if (this.#registered) {
      // The check waitAsync would make; every notify after it resolves the registration (see the file comment).
      if (Atomics.load(words, index) !== expected) return Promise.resolve('not-equal');
    } else {
      const result = atomics.waitAsync(words, index, expected);
      if (!result.async) return Promise.resolve(result.value);
      this.#registered = true;
      void result.value.then(this.#notified);
    }
    return new Promise<WaitOutcome>((resolve) => {
      const wait = new PendingWait(this, resolve, signal);
      this.#waits.add(wait);
      if (limited) wait.timer = setTimeout(onTimeout, timeoutMs, wait).unref();
      if (signal !== undefined) watch(signal, wait);
    });
  }

  /** Takes an ended wait off the list; false if it was not on it (it had ended already). */
  forget(wait: PendingWait): boolean {
    return this.#waits.delete(wait);
  }

  /**
   * Takes the registration out of V8's list with a notify of this thread's own, unless a wait still rides on it.
   * Only this thread waits on the word, so the notify wakes nobody else; its resolution comes back as a spurious
   * wake-up to any wait that rides on the registration meanwhile.
   */
  dropRegistration(): void {
    if (this.#registered && this.#waits.size === 0) Atomics.notify(this.#words, this.#index);
  }

  /** The registration resolved: a notify took it out of V8's list. */
  readonly #notified = (): void => {
    this.#registered = false;
    for (const wait of [...this.#waits]) wait.end('ok');
  };
}
