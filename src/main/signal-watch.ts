/**
 * The accepted records each AbortSignal guards, so that its abort releases them: one abort listener per signal,
 * however many records it guards (src/shared/abort-listeners.ts shares it with the waiting sends). A sendBatch of
 * 100 000 records with one signal would otherwise add 100 000 listeners to it (and removing each is a linear scan).
 *
 * A signal's records are a doubly linked list through two Int32Arrays indexed by record id, in the order they were
 * watched: watching and unwatching a record is a few stores, with no hashing and no allocation, and the signal of the
 * record before is checked first, so a run of records under one signal looks nothing up.
 *
 * Why: a Set of ids per signal cost hundreds of ns a record on the main thread, for every record of a sendBatch with
 * a `signal` and every record sent in a transaction (whose signal aborts them when the transaction aborts):
 * `main-thread/sendBatch-100B-signal` (`npx tsx bench/micro/main-thread.ts --only sendBatch-100B`, two runs) took
 * 1,114 and 939 ns a record against 666 and 426 for the same calls without a signal; 646 and 692 with the lists.
 */
import { listenForAbort } from '../shared/abort-listeners.js';

/** No record: the end of a list, or of an empty one. */
const NONE = -1;

interface Watched {
  readonly signal: AbortSignal;
  head: number;
  tail: number;
  readonly stop: () => void;
}

export class SignalWatch {
  readonly #capacity: number;
  readonly #watched = new Map<AbortSignal, Watched>();
  readonly #onAbort: (ids: number[], reason: unknown) => void;
  /** By record id, the next and the previous record of the same signal; made on the first watch (most producers never need them). */
  #next: Int32Array | undefined;
  #prev: Int32Array | undefined;
  /** The signal of the last record watched or unwatched. */
  #last: Watched | undefined;

  /** `capacity`: one more than the highest record id (the delivery table's size). */
  constructor(capacity: number, onAbort: (ids: number[], reason: unknown) => void) {
    this.#capacity = capacity;
    this.#onAbort = onAbort;
  }

  /**
   * Record `id` is released when `signal` aborts, unless it is unwatched first. An id is watched under one signal at
   * a time. Returns false, watching nothing, when `signal` has aborted already: its listener would never be called,
   * so the caller releases the record itself. That is checked only where the signal has no list, which is always so
   * after an abort (its listener drops the list at once).
   */
  watch(signal: AbortSignal, id: number): boolean {
    let watched = this.#last;
    if (watched === undefined || watched.signal !== signal) {
      const listed = this.#watched.get(signal);
      if (listed !== undefined) watched = listed;
      else if (signal.aborted) return false;
      else watched = this.#start(signal);
    }
    this.#last = watched;
    const next = (this.#next ??= new Int32Array(this.#capacity));
    const prev = (this.#prev ??= new Int32Array(this.#capacity));
    next[id] = NONE;
    prev[id] = watched.tail;
    if (watched.tail === NONE) watched.head = id;
    else next[watched.tail] = id;
    watched.tail = id;
    return true;
  }

  /** Record `id` no longer depends on `signal`; nothing when it is not watched (unwatched already, or aborted). */
  unwatch(signal: AbortSignal, id: number): void {
    let watched = this.#last;
    if (watched === undefined || watched.signal !== signal) {
      watched = this.#watched.get(signal);
      if (watched === undefined) return;
      this.#last = watched;
    }
    const next = this.#next!;
    const prev = this.#prev!;
    const before = prev[id]!;
    const after = next[id]!;
    // A record no longer in the list keeps its old links: it is in it only if its neighbour (or the head) points to it.
    if (before === NONE ? watched.head !== id : next[before] !== id) return;
    if (before === NONE) watched.head = after;
    else next[before] = after;
    if (after === NONE) watched.tail = before;
    else prev[after] = before;
    if (watched.head === NONE) this.#end(watched);
  }

  /** A signal's first watched record: its entry and its one listener. */
  #start(signal: AbortSignal): Watched {
    const watched: Watched = {
      signal,
      head: NONE,
      tail: NONE,
      stop: listenForAbort(signal, () => {
        // Every record still in the list, in the order they were watched; the list is dropped first, so that the
        // releases this causes (each unwatches its record) find nothing to unlink.
        const ids: number[] = [];
        for (let id = watched.head; id !== NONE; id = this.#next![id]!) ids.push(id);
        this.#forget(watched);
        this.#onAbort(ids, signal.reason);
      }),
    };
    this.#watched.set(signal, watched);
    return watched;
  }

  /** Its last record was unwatched: the signal is listened to no longer. */
  #end(watched: Watched): void {
    this.#forget(watched);
    watched.stop();
  }

  #forget(watched: Watched): void {
    this.#watched.delete(watched.signal);
    if (this.#last === watched) this.#last = undefined;
  }
}
