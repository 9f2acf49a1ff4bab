/** How big each fairness scenario is (`--quick` or full), and the record sizes both drains share. */
import { seededRandom } from '../lib/stats.js';

export interface Plan {
  readonly lostWakeupRounds: number;
  readonly senders: number;
  readonly recordsPerSender: number;
  readonly floodSenders: number;
  readonly floodRecordsPerSender: number;
  /** Hang detector: one lost-wake-up round, and any other scenario. */
  readonly roundDeadlineMs: number;
  readonly scenarioDeadlineMs: number;
  // the broker runs
  readonly brokerLostWakeupRounds: number;
  readonly brokerRecordsPerSender: number;
  /** Flood against the broker: records per small sender before and after the huge record. */
  readonly brokerFloodBefore: number;
  readonly brokerFloodAfter: number;
  readonly brokerDeadlineMs: number;
  /** Flush latency with a 10-minute linger: how many send + flush rounds, and when one counts as stuck. */
  readonly flushes: number;
  readonly flushStuckMs: number;
  /** Completion-signal stress: completions in all, worker threads, and the longest random pause (µs). */
  readonly completions: number;
  readonly completionWorkers: number;
  readonly completionPauseMaxUs: number;
  /** A main-thread wait that lasts this long while workers are still publishing is a stall. */
  readonly completionStallMs: number;
}

export function makePlan(quick: boolean): Plan {
  return {
    lostWakeupRounds: quick ? 2_000 : 20_000,
    senders: 64,
    recordsPerSender: quick ? 100 : 1_000,
    floodSenders: 16,
    floodRecordsPerSender: quick ? 5_000 : 50_000,
    roundDeadlineMs: 1_000,
    scenarioDeadlineMs: quick ? 30_000 : 120_000,
    brokerLostWakeupRounds: quick ? 30 : 300,
    brokerRecordsPerSender: quick ? 6 : 30,
    brokerFloodBefore: quick ? 300 : 1_500,
    brokerFloodAfter: quick ? 1_200 : 6_000,
    brokerDeadlineMs: quick ? 60_000 : 180_000,
    flushes: quick ? 2_000 : 10_000,
    flushStuckMs: 2_000,
    completions: quick ? 200_000 : 1_000_000,
    completionWorkers: 4,
    completionPauseMaxUs: 50,
    completionStallMs: 1_000,
  };
}

/** `count` sizes, log-uniform between `min` and `max` bytes (integers), from a fixed seed; always includes `max`. */
export function logUniformSizes(count: number, min: number, max: number, seed: number): number[] {
  const random = seededRandom(seed);
  const sizes = Array.from({ length: count }, () => Math.round(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min)))));
  if (count > 0) sizes[0] = max;
  return sizes;
}

/** A seeded Fisher–Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
