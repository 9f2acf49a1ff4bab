/**
 * A binary min-heap of entries by deadline, for a queue that runs one timer for all its waiters' timeouts
 * (src/main/byte-budget.ts). The earliest deadline is always on top, so a firing of that timer looks only at the
 * entries that have timed out, plus the one it stops at; walking a FIFO queue instead cost O(queue length) per
 * firing, and with deadlines a millisecond apart the timer fires every millisecond during a broker outage.
 *
 * A heap rather than a second list sorted by deadline: deadlines do not always arrive in order (per-call timeouts
 * differ, and a send admitted after waiting for metadata keeps its original deadline), and a sorted insertion from
 * the tail would then walk back over everything queued later — the same trap again. Here every operation is
 * O(log n) whatever the order, and pushing a deadline no earlier than the others (the usual case) is O(1).
 *
 * Each entry knows its place (`heapIndex`, -1 while outside), so a granted or aborted waiter leaves at once: nothing
 * dead stays behind until its deadline, which with the default 60 s bufferTimeoutMs would be every waiting send of
 * the last minute.
 */

export interface Timed {
  /** Epoch ms; it must not change while the entry is in a heap. */
  readonly deadline: number;
  /** Breaks ties between equal deadlines: the lower leaves first, so entries due together keep their order. */
  readonly seq: number;
  /** Where the entry is in its heap, -1 when in none. Written only by DeadlineHeap. */
  heapIndex: number;
}

export class DeadlineHeap<T extends Timed> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The entry with the earliest deadline, left in place. */
  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const at = this.#items.length;
    this.#items.push(item);
    this.#up(item, at);
  }

  /** Takes `item` out, wherever it is; does nothing when it is in no heap. */
  remove(item: T): void {
    const at = item.heapIndex;
    if (at < 0) return;
    item.heapIndex = -1;
    // pop(), not a hole: the array must not keep a reference to an entry that left.
    const last = this.#items.pop()!;
    if (last === item) return;
    // The last entry fills the gap; it may belong above it (removed from another branch) or below it.
    if (at > 0 && earlier(last, this.#items[(at - 1) >> 1]!)) this.#up(last, at);
    else this.#down(last, at);
  }

  /** Empties the heap; each entry is marked as in none. */
  clear(): void {
    for (const item of this.#items) item.heapIndex = -1;
    this.#items.length = 0;
  }

  /** Places `item` at `at` or above it, moving later parents down into the hole. */
  #up(item: T, at: number): void {
    const items = this.#items;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items[parentAt]!;
      if (!earlier(item, parent)) break;
      items[at] = parent;
      parent.heapIndex = at;
      at = parentAt;
    }
    items[at] = item;
    item.heapIndex = at;
  }

  /** Places `item` at `at` or below it, moving earlier children up into the hole. */
  #down(item: T, at: number): void {
    const items = this.#items;
    const length = items.length;
    for (;;) {
      let childAt = 2 * at + 1;
      if (childAt >= length) break;
      if (childAt + 1 < length && earlier(items[childAt + 1]!, items[childAt]!)) childAt++;
      const child = items[childAt]!;
      if (!earlier(child, item)) break;
      items[at] = child;
      child.heapIndex = at;
      at = childAt;
    }
    items[at] = item;
    item.heapIndex = at;
  }
}

function earlier(a: Timed, b: Timed): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}
