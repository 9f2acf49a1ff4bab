/**
 * From the runs of the throughput bench to what its report says: the row that stands for a client's repetitions,
 * and the standings line that ends the report, one per scenario.
 */
import { standingOf, type RateTiming, type RunRow } from './clients.js';
import { cell } from './report.js';

/**
 * The repetition with the median records/s (at a fixed rate, where records/s is the rate: the median p99) stands
 * for the client, with the slowest and fastest records/s of its repetitions beside it. Failed repetitions are
 * counted and their first reason kept; only when every one failed is the client reported as failed.
 */
export function medianRow(attempts: readonly RunRow[], rate: boolean): RunRow {
  const rank = (r: RunRow): number => (rate ? -(r.p99Ms ?? Infinity) : r.recordsPerSec!);
  const ok = attempts.filter((r) => r.recordsPerSec !== null).sort((a, b) => rank(a) - rank(b));
  const failed = attempts.filter((r) => r.recordsPerSec === null);
  const median = ok[Math.floor((ok.length - 1) / 2)];
  if (median === undefined) return failed[0]!;
  // at a fixed rate the order is by p99, so the ends of it are not the slowest and fastest
  const recordsPerSec = ok.map((r) => r.recordsPerSec!);
  return {
    ...median,
    repeats: ok.length,
    recordsPerSecMin: Math.min(...recordsPerSec),
    recordsPerSecMax: Math.max(...recordsPerSec),
    ...(failed.length > 0 && { failedRepeats: failed.length, failure: failed[0]!.skipped! }),
  };
}

const lingerText = (timing: RateTiming): string => (timing.lingerMs === null ? 'no linger' : `linger ${timing.lingerMs} ms`);

/**
 * Per scenario: ringkafka's records/s as a share of the fastest peer's. At a fixed rate, its p99 beside the lowest
 * p99 of the peers timed as it is, from each record's due time (`timingOf`): ProducerPerformance times from send()
 * in whole ms and is left out. The peer's linger is named, and where it differs from ringkafka's (KafkaJS and
 * @platformatic/kafka send at once, the others wait up to 5 ms for a batch), the lowest peer with ringkafka's linger too.
 */
export function standingLine(
  scenario: { readonly name: string; readonly rate?: number }, rows: readonly RunRow[], timingOf: (client: string) => RateTiming,
): string {
  const inScenario = rows.filter((r) => r.scenario === scenario.name && r.recordsPerSec !== null);
  const ours = inScenario.filter((r) => standingOf(r.client) === 'ours');
  const peers = inScenario.filter((r) => standingOf(r.client) === 'peer');
  if (scenario.rate === undefined) {
    const fastest = (list: RunRow[]): RunRow | undefined => [...list].sort((a, b) => b.recordsPerSec! - a.recordsPerSec!)[0];
    const [us, best] = [fastest(ours), fastest(peers)];
    if (us === undefined || best === undefined) return `${scenario.name}: no comparison`;
    return `${scenario.name}: ${us.client} ${cell(us.recordsPerSec)} records/s = ${cell((100 * us.recordsPerSec!) / best.recordsPerSec!)}% of the fastest peer (${best.client}, ${cell(best.recordsPerSec)})`;
  }
  const lowest = (list: RunRow[]): RunRow | undefined =>
    list.filter((r) => r.p99Ms !== null).sort((a, b) => a.p99Ms! - b.p99Ms!)[0];
  const us = lowest(ours);
  const comparable = peers.filter((r) => timingOf(r.client).fromDueTime);
  const best = lowest(comparable);
  const apart = peers.filter((r) => !timingOf(r.client).fromDueTime).map((r) => r.client);
  const leftOut = apart.length > 0 ? `; not compared: ${apart.join(', ')} (latency from send())` : '';
  if (us === undefined || best === undefined) return `${scenario.name}: no comparison${leftOut}`;
  const ourTiming = timingOf(us.client);
  const peerText = (r: RunRow): string => `${cell(r.p99Ms)} ms (${r.client}, ${lingerText(timingOf(r.client))})`;
  const sameLinger = lowest(comparable.filter((r) => timingOf(r.client).lingerMs === ourTiming.lingerMs));
  const alsoSame = sameLinger !== undefined && sameLinger !== best ? `; with its linger: ${peerText(sameLinger)}` : '';
  return (
    `${scenario.name}: ${us.client} p99 ${cell(us.p99Ms)} ms, p99.9 ${cell(us.p999Ms)} ms (${lingerText(ourTiming)}); ` +
    `lowest p99 of the peers timed from the due time ${peerText(best)}${alsoSame}${leftOut}`
  );
}
