/**
 * One 'abort' listener per AbortSignal, however many waiters it guards. A `sendBatch` whose records wait (for
 * metadata, or for buffer space in many slices) would otherwise add one listener per waiter to the caller's signal:
 * past ten, Node prints MaxListenersExceededWarning into the application's logs, and each removal is a linear scan.
 * Callbacks run in the order they were added (FIFO waiters leave in order).
 */
const listeners = new WeakMap<AbortSignal, { readonly callbacks: Set<() => void>; readonly listener: () => void }>();

/** Calls `callback` once when `signal` aborts; the returned function stops listening (idempotent). */
export function listenForAbort(signal: AbortSignal, callback: () => void): () => void {
  let entry = listeners.get(signal);
  if (entry === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      listeners.delete(signal);
      for (const call of [...callbacks]) call();
    };
    entry = { callbacks, listener };
    listeners.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { callbacks, listener } = entry;
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return;
    if (listeners.get(signal)?.callbacks === callbacks) listeners.delete(signal);
    signal.removeEventListener('abort', listener);
  };
}
