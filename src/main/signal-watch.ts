/**
 * One abort listener per AbortSignal, however many records it guards (src/shared/abort-listeners.ts shares it with
 * the waiting sends). A sendBatch of 100 000 records with one signal would otherwise add 100 000 listeners to it
 * (and removing each is a linear scan).
 */
import { listenForAbort } from '../shared/abort-listeners.js';

export class SignalWatch {
  readonly #watched = new Map<AbortSignal, { ids: Set<number>; stop: () => void }>();
  readonly #onAbort: (ids: number[], reason: unknown) => void;

  constructor(onAbort: (ids: number[], reason: unknown) => void) {
    this.#onAbort = onAbort;
  }

  watch(signal: AbortSignal, id: number): void {
    let watched = this.#watched.get(signal);
    if (watched === undefined) {
      const ids = new Set<number>();
      const stop = listenForAbort(signal, () => {
        this.#watched.delete(signal);
        this.#onAbort([...ids], signal.reason);
      });
      watched = { ids, stop };
      this.#watched.set(signal, watched);
    }
    watched.ids.add(id);
  }

  unwatch(signal: AbortSignal, id: number): void {
    const watched = this.#watched.get(signal);
    if (watched === undefined || !watched.ids.delete(id) || watched.ids.size > 0) return;
    this.#watched.delete(signal);
    watched.stop();
  }
}
