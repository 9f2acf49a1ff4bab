/**
 * The fixed-rate schedule of the rate scenarios, shared by every Node client (the Go and C peers follow the same
 * rule): record i of a run is due `i / rate` seconds after the run starts. Latency is timed from a record's due
 * time, not from the call that finally sent it, so a client that falls behind the schedule shows its backlog as
 * latency instead of quietly sending later (the coordinated-omission trap of timing only the calls).
 */

/** When record `i` is due, in ms after the start, at `rate` records per second. */
export function dueAtMs(i: number, rate: number): number {
  return (i * 1000) / rate;
}

/** How many of `total` records are due `elapsedMs` after the start: those with dueAtMs(i) ≤ elapsedMs. */
export function dueBy(elapsedMs: number, rate: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * rate) / 1000) + 1);
}

/**
 * Sends `count` records on the schedule: on each tick, `emit(first, end, dueAt)` hands over records first..end-1
 * (every one due by then) and resolves when they all have results; `dueAt(i)` is record i's due time on
 * performance.now()'s clock. At most `window` emits are outstanding: records due while the window is full wait
 * and go in the next emit (their latency then counts the wait). Resolves once every emit has resolved.
 */
export async function paced(
  count: number,
  rate: number,
  window: number,
  emit: (first: number, end: number, dueAt: (i: number) => number) => Promise<void>,
): Promise<void> {
  const start = performance.now();
  const dueAt = (i: number): number => start + dueAtMs(i, rate);
  const outstanding = new Set<Promise<void>>();
  let next = 0;
  while (next < count) {
    if (outstanding.size >= window) {
      await Promise.race(outstanding);
      continue;
    }
    const due = dueBy(performance.now() - start, rate, count);
    if (due > next) {
      const sent: Promise<void> = emit(next, due, dueAt).finally(() => outstanding.delete(sent));
      outstanding.add(sent);
      next = due;
      continue;
    }
    // sleep until the next record is due (timers fire at whole milliseconds at best: records bunch per tick)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt(next) - performance.now())));
  }
  await Promise.all(outstanding);
}
