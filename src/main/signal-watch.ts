/**
 * One abort listener per AbortSignal, however many records it guards. A sendBatch of 100 000 records with one
 * signal would otherwise add 100 000 listeners to it (and removing each is a linear scan).
 */
export class SignalWatch {
  readonly #watched = new Map<AbortSignal, { ids: Set<number>; listener: () => void }>();
  readonly #onAbort: (ids: number[], reason: unknown) => void;

  constructor(onAbort: (ids: number[], reason: unknown) => void) {
    this.#onAbort = onAbort;
  }

  watch(signal: AbortSignal, id: number): void {
    let watched = this.#watched.get(signal);
    if (watched === undefined) {
      const ids = new Set<number>();
      const listener = (): void => {
        this.#watched.delete(signal);
        this.#onAbort([...ids], signal.reason);
      };
      watched = { ids, listener };
      this.#watched.set(signal, watched);
      signal.addEventListener('abort', listener, { once: true });
    }
    watched.ids.add(id);
  }

  unwatch(signal: AbortSignal, id: number): void {
    const watched = this.#watched.get(signal);
    if (watched === undefined || !watched.ids.delete(id) || watched.ids.size > 0) return;
    this.#watched.delete(signal);
    signal.removeEventListener('abort', watched.listener);
  }
}
