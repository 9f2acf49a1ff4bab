/**
 * Small statistics shared by the throughput and fairness benchmarks (the Go and C peers use the same
 * nearest-rank rule for their percentiles, so every client's p50/p99 means the same thing).
 */

/** Nearest-rank percentile of ascending `sorted` (q in [0, 1]); undefined for an empty sample. */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  const index = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return sorted[index];
}

/** Sorts a copy (numerically) and returns the percentiles asked for, in order. */
export function percentiles(values: ArrayLike<number>, ...qs: number[]): (number | undefined)[] {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return qs.map((q) => percentileOfSorted(sorted, q));
}

/**
 * Jain's fairness index of `shares`: (Σx)² / (n · Σx²). 1 when every share is equal, 1/n when one takes all.
 * Undefined for no shares; 1 when every share is 0 (nobody got anything, equally).
 */
export function jainIndex(shares: readonly number[]): number | undefined {
  const n = shares.length;
  if (n === 0) return undefined;
  let sum = 0;
  let squares = 0;
  for (const x of shares) {
    sum += x;
    squares += x * x;
  }
  return squares === 0 ? 1 : (sum * sum) / (n * squares);
}

/** A deterministic PRNG (mulberry32), so generated payloads and fairness scenarios repeat run to run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rounds for display and JSON: 3 significant digits below 100, whole numbers above. */
export function round(value: number | undefined): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}
