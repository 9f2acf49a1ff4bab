/** A backoff pause that its owner's close cuts short, so no timer outlives the object that waits. */

/**
 * Sleeps `ms`, or rejects with `closed()` once `signal` aborts (at once if it has): the timer is cleared and the
 * listener removed either way. With `keepAlive` false the timer is unref'd: for a background loop that no caller
 * waits on, which must not keep an idle process alive.
 */
export function pause(ms: number, signal: AbortSignal, closed: () => Error, keepAlive = true): Promise<void> {
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
    if (!keepAlive) timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
