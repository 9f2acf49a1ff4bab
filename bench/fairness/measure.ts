/**
 * What every fairness scenario measures, synthetic or against the broker, and how it is summarised into one row of
 * bench/results/fairness-latest.json.
 */
import { jainIndex, percentiles } from '../lib/stats.js';

export interface FairnessRow {
  /** `<scenario>/<drain>`: drain `synthetic` (ByteBudget with an in-process drain) or `broker` (the Producer). */
  readonly name: string;
  readonly completed: number;
  readonly expected: number;
  /** Requests still waiting when the hang detector's deadline passed with nothing left that could wake them. */
  readonly lostWakeups: number;
  /** Grants (or offsets) that came before a request made earlier: each such grant overtook someone. */
  readonly fifoViolations: number;
  /** Jain's index of per-sender throughput; null where there is one sender or the senders are not comparable. */
  readonly jainIndex: number | null;
  readonly waitP50Ms: number | null;
  readonly waitP99Ms: number | null;
  readonly waitMaxMs: number | null;
  /** Bytes released → waiter granted; null where it cannot be seen from outside (the broker runs). */
  readonly wakeLatencyP50Us: number | null;
  readonly wakeLatencyP99Us: number | null;
  readonly durationMs: number;
  /** What "wait" means in this row, and anything else a reader needs. */
  readonly note: string;
}

/**
 * Counts inversions witnessed in grant order: a grant whose request number is below the highest request number
 * granted before it was overtaken by a later request. 0 for strict FIFO.
 */
export function countOvertaken(requestOrderOfGrants: readonly number[]): number {
  let highest = -Infinity;
  let overtaken = 0;
  for (const request of requestOrderOfGrants) {
    if (request < highest) overtaken++;
    else highest = request;
  }
  return overtaken;
}

/** Collects one scenario's observations. */
export class Observations {
  readonly waitsMs: number[] = [];
  readonly wakeLatenciesUs: number[] = [];
  /** Request numbers in the order their grants were seen. */
  readonly grantOrder: number[] = [];
  /** Per sender: bytes it got through and the time it took, for Jain's index of throughput. */
  readonly senders = new Map<number, { bytes: number; startMs: number; endMs: number }>();
  completed = 0;
  lostWakeups = 0;
  #nextRequest = 0;

  /** A request is made: returns its number (request order). */
  request(): number {
    return this.#nextRequest++;
  }

  /** A sender got `bytes` through, finishing at `endMs`. */
  senderProgress(sender: number, bytes: number, startMs: number, endMs: number): void {
    const entry = this.senders.get(sender);
    if (entry === undefined) this.senders.set(sender, { bytes, startMs, endMs });
    else {
      entry.bytes += bytes;
      entry.endMs = Math.max(entry.endMs, endMs);
    }
  }

  summarise(name: string, expected: number, durationMs: number, note: string, withJain = true, withWake = true): FairnessRow {
    const [waitP50, waitP99, waitMax] = percentiles(this.waitsMs, 0.5, 0.99, 1);
    const [wakeP50, wakeP99] = percentiles(this.wakeLatenciesUs, 0.5, 0.99);
    const throughputs = [...this.senders.values()].map((s) => s.bytes / Math.max(1e-3, s.endMs - s.startMs));
    return {
      name,
      completed: this.completed,
      expected,
      lostWakeups: this.lostWakeups,
      fifoViolations: countOvertaken(this.grantOrder),
      jainIndex: withJain ? (jainIndex(throughputs) ?? null) : null,
      waitP50Ms: waitP50 ?? null,
      waitP99Ms: waitP99 ?? null,
      waitMaxMs: waitMax ?? null,
      wakeLatencyP50Us: withWake ? (wakeP50 ?? null) : null,
      wakeLatencyP99Us: withWake ? (wakeP99 ?? null) : null,
      durationMs,
      note,
    };
  }
}
