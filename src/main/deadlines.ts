/** Waiting with a deadline (epoch ms) or a signal: timers are always cleared, abort listeners always removed. */
import { AbortError, BufferTimeoutError } from '../shared/producer-errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';

/** `promise`, or BufferTimeoutError naming `what` once `deadline` passes. */
export function withDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  const wait = deadline - Date.now();
  if (wait > MAX_TIMER_MS) return promise;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BufferTimeoutError(`${what} was not ready within bufferTimeoutMs`)), Math.max(0, wait));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
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

/**
 * `work`, unless `signal` aborts first: then an AbortError ('not-sent') saying `what` was aborted; the wait is
 * dropped, the work goes on. The abort listener is always removed, and the work's own failure is always observed
 * (nobody else may be left to: an unhandled rejection ends the process).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError('not-sent', what, { cause: signal.reason }));
    if (signal.aborted) {
      work.catch(() => undefined);
      return onAbort();
    }
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
