/**
 * Apache Kafka is a JVM: freshly started, it serves Produce requests at a fraction of its later rate until its JIT
 * has compiled the request path, and the first client to run would pay for that alone. On the bench machine a
 * default run started 10 s after the broker measured every client of its first two scenarios at a third to half of
 * what the same clients did minutes later (100B-none: franz-go 680k against 1.84M records/s, ringkafka 256k against
 * 765k), and a producer sending flat out to a fresh broker took about 30 s to reach a steady rate (bench/README.md).
 *
 * So before the first measured run the bench produces to a scratch topic for a while, round by round in the shapes
 * the scenarios send (100 B uncompressed, 100 B and 1 KiB with lz4), at most 64 MiB of values a round (below), and
 * deletes the topic: every client then meets the same warm broker. The records go through ringkafka's compiled
 * package, the bench's own dependency, in the bench's own process; any client would do, as what warms is the
 * broker's side, and each client's CPU and peak RSS are still its own (read in its process, process-watch.ts).
 * kfake is compiled Go and is not warmed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer, type Compression } from '../../dist/src/main/index.js';
import { payloadValues } from './payload.js';
import type { Topics } from './topics.js';

/** A warm-up round: one shape of records, sent flat out for a while. */
export interface WarmupRound {
  readonly shape: string;
  readonly records: number;
  readonly recordsPerSec: number;
}

interface Shape {
  readonly name: string;
  readonly valueBytes: number;
  readonly compression: Compression;
}

/** The scenarios' shapes, in turn. */
const SHAPES: readonly Shape[] = [
  { name: '100B-none', valueBytes: 100, compression: 'none' },
  { name: '100B-lz4', valueBytes: 100, compression: 'lz4' },
  { name: '1KiB-lz4', valueBytes: 1024, compression: 'lz4' },
];
const ROUND_MS = 2000;
/**
 * At most this many value bytes per round, the rest of its 2 s idle: what warms a JIT is requests and records
 * handled, not bytes, and the bytes stay behind. Flat out, 30 s wrote about 7 GB to the broker's log (2.6M records/s
 * of 100 B, 470k of 1 KiB): the kernel wrote that back to disk, and deleted it a minute later
 * (`file.delete.delay.ms`), while the first scenarios ran; 100B-lz4, the second, then measured ringkafka at 283k and
 * librdkafka at 394k records/s (medians of 3), against 683k and 1.72M with the rounds capped.
 */
const ROUND_VALUE_BYTES = 64 * 1024 * 1024;
/** About one request's worth per sendBatch, as the ringkafka driver sends. */
const CALL_BYTES = 1024 * 1024;
const CALLS_IN_FLIGHT = 16;
const PARTITIONS = 16;

/**
 * Produces to `topic` (created here, deleted after) on `brokers` for about `seconds`, in rounds of `roundMs` (2 s)
 * that cycle through the shapes, each sending at most ROUND_VALUE_BYTES; returns each round's rate, which shows
 * whether the broker reached a steady one.
 */
export async function warmBroker(
  brokers: readonly string[], topics: Topics, topic: string, seconds: number, { roundMs = ROUND_MS } = {},
): Promise<WarmupRound[]> {
  await topics.create(topic, PARTITIONS);
  const producers = new Map<Compression, Producer>();
  const rounds: WarmupRound[] = [];
  try {
    for (const compression of new Set(SHAPES.map((s) => s.compression))) {
      const producer = new Producer({ brokers: [...brokers], clientId: 'ringkafka-bench-warmup', compression, lingerMs: 5 });
      producers.set(compression, producer);
      await producer.connect();
    }
    // The values the scenarios send (payload.ts), as Buffers.
    const values = new Map(SHAPES.map((shape) => [shape.valueBytes, payloadValues(shape.valueBytes).map((v) => Buffer.from(v, 'latin1'))]));
    const roundCount = Math.max(1, Math.round((seconds * 1000) / roundMs));
    for (let i = 0; i < roundCount; i++) {
      const shape = SHAPES[i % SHAPES.length]!;
      rounds.push(await round(producers.get(shape.compression)!, topic, shape, values.get(shape.valueBytes)!, roundMs));
    }
  } finally {
    await Promise.all([...producers.values()].map((p) => p.close()));
    await topics.delete(topic);
  }
  return rounds;
}

/**
 * Sends `shape` records flat out for `roundMs` or ROUND_VALUE_BYTES, whichever ends first (the calls in flight then
 * finish), and idles out the rest of `roundMs`; the rate is over the sending part. Fails if any record failed.
 */
async function round(producer: Producer, topic: string, shape: Shape, values: readonly Buffer[], roundMs: number): Promise<WarmupRound> {
  const perCall = Math.max(1, Math.floor(CALL_BYTES / shape.valueBytes));
  const batch = Array.from({ length: perCall }, (_, i) => ({ topic, value: values[i % values.length]! }));
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let records = 0;
  let failed = 0;
  let firstFailure: unknown;
  const maxRecords = Math.max(perCall, Math.floor(ROUND_VALUE_BYTES / shape.valueBytes));
  while (performance.now() - started < roundMs && records < maxRecords) {
    // Failures are counted, never thrown here: every call ends in the Promise.all below, so none is left unhandled.
    const call: Promise<void> = producer.sendBatch(batch, { results: 'failures' }).then(({ failures }) => {
      inFlight.delete(call);
      failed += failures.length;
      if (failures.length > 0) firstFailure ??= failures[0]!.reason;
    });
    inFlight.add(call);
    records += perCall;
    if (inFlight.size >= CALLS_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failed > 0) throw new Error(`broker warm-up: ${failed} of ${records} ${shape.name} records failed, the first: ${String(firstFailure)}`);
  const sendingMs = performance.now() - started;
  if (sendingMs < roundMs) await sleep(roundMs - sendingMs);
  return { shape: shape.name, records, recordsPerSec: Math.round(records / (sendingMs / 1000)) };
}
