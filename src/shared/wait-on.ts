/**
 * Waiting on a shared word without blocking the thread: Atomics.waitAsync, with a timeout and an AbortSignal that
 * cost little per wait, because a worker waits on its ring up to a thousand times a second at a modest rate.
 *
 * - The timeout is a Node timer that notifies the word, not waitAsync's own: V8 hands a waitAsync timeout to
 *   Node's platform as a delayed task, which takes a lock, wakes the thread's event loop to start a libuv timer for
 *   it, and fires that timer later even when a notify ended the wait long before.
 * - A signal gets one 'abort' listener for as long as it lives, not one per wait: Node's EventTarget allocates and
 *   validates on every addEventListener, and a removeEventListener walks the list.
 *
 * Both wake the wait with Atomics.notify from the waiting thread itself. That is safe because every wait in this
 * project has exactly one waiting thread per word (a ring's reader, a ring's writer, the main thread on
 * MAIN_SLEEPING): the notify can only wake its own wait (or, at worst, a later wait of the same thread on the same
 * word, which then sees a spurious wake-up and looks again). The waiter never lingers in V8's list after a timeout
 * or an abort.
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

/** One wait in progress that a timer or an abort may end. */
class PendingWait {
  readonly words: Int32Array;
  readonly index: number;
  timer: NodeJS.Timeout | undefined;
  timedOut = false;
  aborted = false;

  constructor(words: Int32Array, index: number) {
    this.words = words;
    this.index = index;
  }
}

function onTimeout(wait: PendingWait): void {
  // Nobody woken: a notify ended the wait first, and that is its outcome.
  if (Atomics.notify(wait.words, wait.index) > 0) wait.timedOut = true;
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
      for (const w of pending) {
        w.aborted = true;
        Atomics.notify(w.words, w.index);
      }
      pending.clear();
    }, { once: true });
  }
  waits.add(wait);
}

/**
 * Waits without blocking the thread until `words[index]` is notified, unless it no longer holds `expected`, the
 * timeout passes or the signal aborts. Never rejects.
 */
export function waitOn(words: Int32Array, index: number, expected: number, options: WaitOptions = {}): Promise<WaitOutcome> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) return Promise.resolve('aborted');
  const limited = timeoutMs !== undefined && timeoutMs < MAX_TIMER_MS;
  // A wait that may not last at all does not start a timer (or return a turn of the loop later).
  if (limited && timeoutMs <= 0) return Promise.resolve(Atomics.load(words, index) === expected ? 'timed-out' : 'not-equal');
  const result = atomics.waitAsync(words, index, expected);
  if (!result.async) return Promise.resolve(result.value);
  if (signal === undefined && !limited) return result.value;
  const wait = new PendingWait(words, index);
  if (limited) wait.timer = setTimeout(onTimeout, timeoutMs, wait).unref();
  if (signal !== undefined) watch(signal, wait);
  return result.value.then((outcome) => {
    if (wait.timer !== undefined) clearTimeout(wait.timer);
    if (signal !== undefined) waitsBySignal.get(signal)?.delete(wait);
    return wait.aborted ? 'aborted' : wait.timedOut ? 'timed-out' : outcome;
  });
}
