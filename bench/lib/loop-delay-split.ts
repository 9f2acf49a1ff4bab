/**
 * The main thread's event-loop delay split into what its own work held and what waiting for a CPU held.
 *
 * On a machine with fewer cores than runnable threads (the bench's two cores carry the client's main thread, its
 * workers, V8's helpers and a broker) a timer that falls due may find the main thread runnable but off the CPU: the
 * loop is late although nothing in the process held it. `monitorEventLoopDelay` counts both. This watch ticks on
 * its own timer as that histogram does and, for each span between two ticks, takes away how long the main thread
 * waited on a run queue in it (schedstat's second field): the span the process's own work made. The result goes
 * into a histogram of the same kind, so its p99 reads like the other's (a sample is a whole span, at least one
 * interval; the p99 of the ~50–170 spans of a measured run is its largest or second largest). Where the thread
 * waited while it had nothing due the subtraction takes that wait too, so the figure can only understate the
 * process's own share, never charge the scheduler's to it.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createHistogram } from 'node:perf_hooks';
import { parseSchedstatWaitSec } from './process-watch.js';

/** One tick: when it ran (ms, performance.now()) and the main thread's run-queue wait so far (ms). */
export interface LoopTick {
  readonly at: number;
  readonly waitedMs: number;
}

/**
 * For each span between two ticks, its length less the run-queue wait in it, never below `intervalMs` (the span of
 * a loop that nothing held): the spans the thread's own work made, in ms.
 */
export function ownSpans(ticks: readonly LoopTick[], intervalMs: number): number[] {
  const spans: number[] = [];
  for (let i = 1; i < ticks.length; i++) {
    const span = ticks[i]!.at - ticks[i - 1]!.at;
    const waited = ticks[i]!.waitedMs - ticks[i - 1]!.waitedMs;
    spans.push(Math.max(intervalMs, span - waited));
  }
  return spans;
}

/** The p99 of `spans` (ms) as monitorEventLoopDelay's histogram gives its own: the same kind of histogram, in ns. */
export function p99AsLoopDelay(spans: readonly number[]): number | undefined {
  if (spans.length === 0) return undefined;
  const histogram = createHistogram();
  for (const ms of spans) histogram.record(Math.max(1, Math.round(ms * 1e6)));
  return histogram.percentile(99) / 1e6;
}

/**
 * The calling thread's run-queue wait so far in ms, read from /proc/thread-self/schedstat with one read per
 * call on a file kept open; undefined where the kernel has no schedstat (then the watch reports nothing).
 */
export function threadWaitReader(): { read: () => number; close: () => void } | undefined {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined;
  }
  const buffer = Buffer.alloc(128);
  return {
    read: () => {
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      return parseSchedstatWaitSec(buffer.toString('latin1', 0, length)) * 1000;
    },
    close: () => closeSync(fd),
  };
}

/** Ticks every `intervalMs` until stopped; `stop` gives the p99 of the own spans in ms (undefined without two ticks). */
export class OwnLoopDelayWatch {
  readonly #ticks: LoopTick[] = [];
  readonly #intervalMs: number;
  readonly #readWait: () => number;
  readonly #timer: NodeJS.Timeout;

  constructor(readWait: () => number, intervalMs = 2, now: () => number = () => performance.now()) {
    this.#intervalMs = intervalMs;
    this.#readWait = readWait;
    const tick = (): void => {
      this.#ticks.push({ at: now(), waitedMs: this.#readWait() });
    };
    tick();
    this.#timer = setInterval(tick, intervalMs);
  }

  stop(): number | undefined {
    clearInterval(this.#timer);
    return p99AsLoopDelay(ownSpans(this.#ticks, this.#intervalMs));
  }
}
