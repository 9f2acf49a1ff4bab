/**
 * The fixed-rate schedule of the rate scenarios, shared by every Node client (the Go and C peers follow the same
 * rule): record i of a run is due `i / rate` seconds after the run starts. Latency is timed from a record's due
 * time, not from the call that finally sent it, so a client that falls behind the schedule shows its backlog as
 * latency instead of quietly sending later (the coordinated-omission trap of timing only the calls).
 *
 * The pacer's own lateness lands in every record's latency, so it wakes about as close to the due time as the C
 * driver does. A timer fires up to about 1 ms after its time (libuv counts whole milliseconds), so timers serve only
 * long waits; below that the pacer waits in turns of the event loop, each of which first runs the client's I/O and
 * then sleeps at most SLEEP_SLICE_MS (Atomics.wait; the kernel adds its timer slack, about 60 µs): the C driver's
 * pattern of rd_kafka_poll, then nanosleep, and like it an acknowledgement arriving meanwhile waits for the sleep to
 * end. Bare setImmediate turns would wake as precisely but spin a core (0.7–0.8 CPU s per s on the 2-core VM),
 * which the Node clients' CPU columns would carry and the broker and the client's workers would lose. Measured on
 * that VM (2026-12-07, the pacer alone): records handed out a median of 55–70 µs after they fall due, against 0.6 ms
 * with a timer for every wait, for 0.06 CPU s per s at 2,000 records/s and 0.15–0.2 at 20,000 (timers: 0.03, 0.06).
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

/** Waits at least this long go to a timer, set TIMER_EARLY_MS before the due time; the turns take the rest. */
export const TIMER_MIN_MS = 2;
/** More than a timer's lateness (up to about 1.1 ms), so it wakes before the record is due. */
const TIMER_EARLY_MS = 1.5;
/** The longest the pacer holds the event loop in one turn: an acknowledgement waits at most this (and the slack). */
export const SLEEP_SLICE_MS = 0.25;

export type PacerWait = { readonly kind: 'timeout'; readonly ms: number } | { readonly kind: 'immediate' };

/** How the pacer waits for a record due in `waitMs`: a timer for long waits, a turn of the event loop for short ones. */
export function pacerWait(waitMs: number): PacerWait {
  return waitMs >= TIMER_MIN_MS ? { kind: 'timeout', ms: waitMs - TIMER_EARLY_MS } : { kind: 'immediate' };
}

/** How long a turn sleeps when the record is due in `waitMs`: up to the slice, never past the due time. */
export function sleepSliceMs(waitMs: number): number {
  return Math.min(SLEEP_SLICE_MS, Math.max(0, waitMs));
}

const sleepWord = new Int32Array(new SharedArrayBuffer(4));
let sleptMs = 0;

/**
 * Milliseconds the pacers of this process have slept in turns of the event loop. The main thread's event-loop
 * utilisation counts them as busy; the harness takes them out of it (eluLessSleep).
 */
export function pacerSleptMs(): number {
  return sleptMs;
}

/** Event-loop utilisation over a span with `sleptMs` of the pacer's sleeps counted idle, not active. */
export function eluLessSleep(elu: { readonly idle: number; readonly active: number }, sleptMs: number): number {
  const total = elu.idle + elu.active;
  return total > 0 ? Math.max(0, elu.active - sleptMs) / total : 0;
}

/** One step of waiting for `dueAt` (performance.now()'s clock): a timer that ends before it, or one short turn; the caller looks again. */
function waitUntil(dueAt: number): Promise<void> {
  const how = pacerWait(dueAt - performance.now());
  if (how.kind === 'timeout') return new Promise((resolve) => setTimeout(resolve, how.ms));
  return new Promise((resolve) =>
    setImmediate(() => {
      // the turn's I/O has run since the decision: what is left to wait now
      const slice = sleepSliceMs(dueAt - performance.now());
      if (slice > 0) {
        const before = performance.now();
        Atomics.wait(sleepWord, 0, 0, slice);
        sleptMs += performance.now() - before;
      }
      resolve();
    }),
  );
}

/**
 * Sends `count` records on the schedule: on each wake, `emit(first, end, dueAt)` hands over records first..end-1
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
    await waitUntil(dueAt(next));
  }
  await Promise.all(outstanding);
}
