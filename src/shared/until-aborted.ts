/** Waiting for work unless a signal aborts first: the listener is always removed, the work's failure always observed. */
import { AbortError } from './producer-errors.js';

/**
 * `work`, unless `signal` aborts first: then an AbortError ('not-sent') saying `what` was aborted (a function is
 * asked at the abort, so its message can say how the work stood then); the wait is dropped, the work goes on. The
 * abort listener is always removed, and the work's own failure is always observed (nobody else may be left to: an
 * unhandled rejection ends the process).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string | (() => string)): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError('not-sent', typeof what === 'string' ? what : what(), { cause: signal.reason }));
    if (signal.aborted) {
      work.catch(() => undefined);
      return onAbort();
    }
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
