/**
 * One fuzz run: a producer talks to the real broker through a HostileProxy (hostile-proxy.ts) and the run checks
 * what must hold whatever the broker sends:
 *  - no worker thread dies ('workerCrash') and nothing throws out of the event loop (the caller listens);
 *  - every send settles, by its deadline (bufferTimeoutMs + deliveryTimeoutMs after the call) plus SLACK_MS;
 *  - flush and close({ timeoutMs }) return on time (plus SLACK_MS);
 *  - no record is reported delivered without a real acknowledgement: no more records of a partition than the
 *    broker really acknowledged on it (the proxy keeps the unmutated answers), at offsets that are whole numbers;
 *  - read back from the broker by Kafka's own console consumer (not through the proxy): every record reported
 *    delivered is in the topic, and no record failed as 'not-sent' is (the promise a caller resends on).
 * The run is seeded: the same seed picks the same codec, sizes and mutations (frame arrival order, and so which
 * frame meets which mutation, still depends on timing).
 */
import { Producer } from '../../src/main/producer.js';
import type { RecordMetadata } from '../../src/main/types.js';
import type { Compression } from '../../src/main/options.js';
import { createTopic } from '../helpers/broker.js';
import { consume, endOffsets } from '../helpers/readback.js';
import { HostileProxy, prng } from './hostile-proxy.js';

export const CODECS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const BUFFER_TIMEOUT_MS = 1500;
const REQUEST_TIMEOUT_MS = 600;
const DELIVERY_TIMEOUT_MS = 2000;
const CLOSE_TIMEOUT_MS = 2000;
/** The read back gives up this long after the last record it got (it ends once it has every record). */
const READ_IDLE_MS = 20_000;
/** What a settlement may be late by: sweeps, timers and event-loop turns on a busy two-core machine. */
const SLACK_MS = 1500;

export interface RunResult {
  readonly seed: number;
  readonly codec: Compression;
  readonly records: number;
  readonly delivered: number;
  /** Delivered records whose offset no unmutated answer gave (a mutated but plausible base_offset). */
  readonly misreported: number;
  readonly frames: number;
  readonly mutated: number;
  readonly workerDeaths: number;
  readonly hangs: number;
  /** Records the console consumer read back from the topic. */
  readonly written: number;
  /** Answers mutated, by kind of mutation. */
  readonly byKind: ReadonlyMap<string, number>;
  /** Every check that failed, in words; empty when the run passed. */
  readonly violations: readonly string[];
}

export interface RunOptions {
  readonly seed: number;
  /** The broker behind the proxy, host:port. */
  readonly broker: string;
  /** Forces the codec (the short campaign covers each one); else the seed picks it. */
  readonly codec?: Compression;
}

export async function fuzzRun({ seed, broker, codec: forced }: RunOptions): Promise<RunResult> {
  const random = prng(seed ^ 0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const codec = forced ?? pick(CODECS);
  const partitions = 1 + Math.floor(random() * 3);
  const records = 10 + Math.floor(random() * 40);
  const rate = pick([0.05, 0.15, 0.3]);
  const workers = 1 + Math.floor(random() * 2);
  const topic = `fuzz-${seed.toString(16)}-${Date.now().toString(36)}`;
  const [host, port] = broker.split(':');
  let proxy: HostileProxy;
  try {
    await createTopic(topic, partitions);
    proxy = await HostileProxy.start({ upstreamHost: host!, upstreamPort: Number(port), seed, rate });
  } catch (error) {
    throw new FuzzSetupError(`run ${seed} not started: ${String(error)}`, { cause: error });
  }
  const violations: string[] = [];
  let workerDeaths = 0;
  let hangs = 0;
  const producer = new Producer({
    brokers: [proxy.address],
    workers,
    compression: codec,
    lingerMs: pick([0, 2, 10]),
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
    bufferTimeoutMs: BUFFER_TIMEOUT_MS,
    connectTimeoutMs: 1000,
    retryBackoffMs: 20,
    retryBackoffMaxMs: 200,
    // As short as the retries': with the defaults (50 ms doubling to 1 s) a connection cut by a bad answer or two
    // used up the sends' 1.5 s before the producer connected again, and no run delivered anything.
    reconnectBackoffMs: 20,
    reconnectBackoffMaxMs: 200,
  });
  producer.on('workerCrash', (error: unknown, index: number) => {
    workerDeaths++;
    violations.push(`worker ${index} died: ${String(error)}`);
  });

  const bound = BUFFER_TIMEOUT_MS + DELIVERY_TIMEOUT_MS + SLACK_MS;
  const settlements: Promise<{ index: number; result: PromiseSettledResult<RecordMetadata> }>[] = [];
  for (let i = 0; i < records; i++) {
    const record = { topic, key: `k${Math.floor(random() * 8)}`, value: `v${i}-${'x'.repeat(Math.floor(random() * 300))}` };
    const calledAt = Date.now();
    settlements.push(
      producer.send(record).then(
        (value) => ({ index: i, result: { status: 'fulfilled' as const, value } }),
        (reason: unknown) => ({ index: i, result: { status: 'rejected' as const, reason } }),
      ).then((settled) => {
        const took = Date.now() - calledAt;
        if (took > bound) violations.push(`send ${i} settled after ${took} ms, past its deadline + slack (${bound} ms)`);
        return settled;
      }),
    );
    if (random() < 0.2) await new Promise((resolve) => setImmediate(resolve));
  }

  // Hang detector: well past every send's own bound.
  const all = await withinOr(Promise.all(settlements), bound + SLACK_MS);
  if (all === undefined) {
    hangs++;
    violations.push(`sends still unsettled ${bound + SLACK_MS} ms after the last call`);
  }
  const flushed = await withinOr(producer.flush().then(() => true), bound + SLACK_MS);
  if (flushed === undefined) {
    hangs++;
    violations.push('flush did not return');
  }
  const closeStarted = Date.now();
  const closed = await withinOr(producer.close({ timeoutMs: CLOSE_TIMEOUT_MS }).then(() => true, () => true), CLOSE_TIMEOUT_MS + SLACK_MS * 2);
  if (closed === undefined) {
    hangs++;
    violations.push(`close({ timeoutMs: ${CLOSE_TIMEOUT_MS} }) did not return`);
  } else if (Date.now() - closeStarted > CLOSE_TIMEOUT_MS + SLACK_MS) {
    violations.push(`close({ timeoutMs: ${CLOSE_TIMEOUT_MS} }) took ${Date.now() - closeStarted} ms`);
  }
  await proxy.close();

  // Acknowledgements: on each partition, no more records reported delivered than the broker really acknowledged
  // (error 0, unmutated answers), and every offset one the broker could have given. The exact offset is compared
  // too, but only counted: a flipped bit inside a plausible base_offset cannot be told from the truth by any
  // client (Kafka answers carry no checksum), so a misreported offset is noted, not failed.
  let delivered = 0;
  let misreported = 0;
  const perPartition = new Map<number, number>();
  for (const { index, result } of all ?? []) {
    if (result.status !== 'fulfilled') continue;
    delivered++;
    const { partition, offset } = result.value;
    perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      violations.push(`record ${index} reported at impossible offset ${partition}:${offset}`);
      continue;
    }
    const acks = proxy.acked.get(partition) ?? [];
    if (!acks.some(({ baseOffset, count }) => baseOffset <= BigInt(offset) && BigInt(offset) < baseOffset + BigInt(count))) misreported++;
  }
  for (const [partition, count] of perPartition) {
    const acked = (proxy.acked.get(partition) ?? []).reduce((sum, ack) => sum + ack.count, 0);
    if (count > acked) violations.push(`${count} records reported delivered on partition ${partition}, the broker acknowledged ${acked}`);
  }
  for (const error of proxy.errors) violations.push(`proxy: ${error}`);

  // What the broker holds, read by Kafka's own tools straight from the broker: a record reported delivered that is
  // missing was lost; a record failed 'not-sent' that is there would be written twice by a caller that resends it,
  // as the error invites. How many there are comes first (GetOffsetShell), so the console consumer stops at the last
  // of them: an idle limit alone had to be short to keep the campaign quick, and a consumer slow to join on a busy
  // machine could then read nothing.
  const held = [...(await endOffsets([broker], topic)).values()].reduce((sum, end) => sum + end, 0);
  const read = held === 0 ? [] : await consume([broker], topic, held, READ_IDLE_MS);
  if (read.length !== held) violations.push(`the console consumer read ${read.length} of the ${held} records the topic holds`);
  const inTopic = new Set(read.map((record) => record.value.slice(0, record.value.indexOf('-'))));
  for (const { index, result } of all ?? []) {
    const there = inTopic.has(`v${index}`);
    if (result.status === 'fulfilled' && !there) violations.push(`record ${index} reported delivered is not in the topic`);
    if (result.status === 'rejected' && (result.reason as { delivery?: string }).delivery === 'not-sent' && there) {
      violations.push(`record ${index} failed as not-sent is in the topic: ${String(result.reason)}`);
    }
  }
  return { seed, codec, records, delivered, misreported, frames: proxy.frames, mutated: proxy.mutated, workerDeaths, hangs, written: read.length, byKind: proxy.byKind, violations };
}

/** Setting a run up (its topic, the proxy) failed: the real broker was away, which is not a finding. */
export class FuzzSetupError extends Error {
  override readonly name = 'FuzzSetupError';
}

/** `promise`'s value, or undefined if it has not settled within `ms` (the timer is always cleared). */
async function withinOr<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line for a run, enough to replay it. */
export function describeRun(run: RunResult): string {
  return `seed=${run.seed} codec=${run.codec} records=${run.records} delivered=${run.delivered} written=${run.written} misreported=${run.misreported} frames=${run.frames} mutated=${run.mutated}` +
    (run.violations.length === 0 ? ' ok' : `\n  ${run.violations.join('\n  ')}`);
}
