/**
 * mulberry32: a small seeded generator, the same sequence on every platform for a seed, so a test (or a fuzz run)
 * that draws from it can be replayed from the seed it prints. Returns numbers in [0, 1). The bench's own, which
 * makes its payloads and fairness scenarios repeat run to run.
 */
export { seededRandom as mulberry32 } from '../../bench/lib/stats.js';
