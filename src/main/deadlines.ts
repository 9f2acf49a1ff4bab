/**
 * Waiting with a deadline (epoch ms) or a signal: timers are always cleared, abort listeners always removed. Waiting
 * for a signal alone is src/shared/until-aborted.ts, which the network layer uses too.
 */
import { BufferTimeoutError } from '../shared/producer-errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';

/**
 * `promise`, or BufferTimeoutError naming `what` once `deadline` passes, with what `lastFailure` says then (why the
 * last attempt at it failed) when it says anything.
 */
export function withDeadline<T>(promise: Promise<T>, deadline: number, what: string, lastFailure?: () => string | undefined): Promise<T> {
  const wait = deadline - Date.now();
  if (wait > MAX_TIMER_MS) return promise;
  // Past already: no timer. Sends queued behind one that waited out the connection each paid a timer's turn (a
  // millisecond or more), so thousands failed seconds after their deadline, one by one.
  if (wait <= 0) return Promise.race([promise, Promise.reject(expiredError(what, lastFailure))]);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expiredError(what, lastFailure)), wait);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** The BufferTimeoutError withDeadline rejects with: `what` was not ready in time, and why its last attempt failed. */
export function expiredError(what: string, lastFailure: (() => string | undefined) | undefined): BufferTimeoutError {
  return new BufferTimeoutError(withReason(`${what} was not ready within bufferTimeoutMs`, lastFailure?.()));
}

/** `message`, and why the last attempt failed when that is known: a wait that gave up says what it waited through. */
export function withReason(message: string, lastFailure: string | undefined): string {
  return lastFailure === undefined ? message : `${message}; its last attempt failed: ${lastFailure}`;
}

/** Resolves when `promise` settles, `deadline` passes or `signal` aborts, whichever comes first; never rejects. */
export function untilDeadline(promise: Promise<unknown>, deadline: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted || deadline <= Date.now()) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const wait = deadline - Date.now();
    const timer = wait <= MAX_TIMER_MS ? setTimeout(done, wait) : undefined;
    signal?.addEventListener('abort', done, { once: true });
    void promise.then(done, done);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
