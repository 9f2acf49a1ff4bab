/** A backoff pause that its owner's close cuts short, so no timer outlives the object that waits. */

/**
 * Sleeps `ms`, or rejects with `closed()` once `signal` aborts (at once if it has): the timer is cleared and the
 * listener removed either way.
 */
export function pause(ms: number, signal: AbortSignal, closed: () => Error): Promise<void> {
  if (signal.aborted) return Promise.reject(closed());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(closed());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
