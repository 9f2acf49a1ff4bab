/**
 * `ringkafka perf`: how fast this machine produces to a cluster, in the manner of Kafka's ProducerPerformance —
 * records of a fixed size sent as fast as the producer takes them (or at `--throughput` records/s), progress every
 * few seconds, and a summary of records/s, MB/s and send → acknowledgement latency.
 *
 * Records go out through sendBatch in groups of about 64 KiB (what an ingestion service does with a request's
 * worth of records); a record's latency is its group's, from the call to the last acknowledgement of the group, so
 * it is an upper bound for each record in it. Values are random letters, so compression ratios are realistic
 * rather than flattering.
 */
import { Producer, type ProducerOptions } from '../main/index.js';
import { resolveOptions, type ResolvedOptions } from '../main/options.js';
import { checkRecordSize } from '../main/record-size.js';
import { CODEC_NAMES } from '../shared/codecs.js';
import { choiceFlag, numberFlag, parseFlags, stringFlag, topicFlag, UsageError } from './args.js';
import { connectSaying } from './connect-notice.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, checkedProducerOptions, connectionOptions } from './connection-flags.js';
import { DELIVERY_FLAGS, DELIVERY_USAGE, deliveryOptions } from './delivery-flags.js';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';
import { InFlight } from './in-flight.js';
import { isPermanent } from './permanent-failure.js';
import type { Writer } from './output.js';
import { Progress } from './progress.js';
import { AbortError, RecordTooLargeError } from '../shared/producer-errors.js';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';

export const PERF_USAGE = `Usage: ringkafka perf --topic TOPIC [options]

Sends --records records of --record-size bytes and reports records/s, MB/s and latency (avg, p50, p95, p99,
p99.9, max), like Kafka's ProducerPerformance. Progress goes to stderr; --json prints the summary as JSON on stdout.
Ctrl-C stops at once: the records not yet acknowledged are counted as interrupted, and the exit status is 1. The
run stops early, with status 1, when none of the first group of records is acknowledged, or on a failure every later
record would meet too (a topic that does not exist or is not allowed, refused credentials). A stderr or stdout whose
reader has gone (| head) is written no more: the run goes on, with the same exit status (1 if stdout fails otherwise:
a full disk).

  --topic TOPIC             the topic (must exist, or the cluster must create topics on first use)
  --records N               records to send (default 1e6; 1e6 and 1000000 alike)
  --record-size BYTES       value size (default 100; framed in a batch, with its key, within 1 MiB)
  --keys N                  keys key-0 … key-(N-1) in turn, N at most 10,000,000 (default: no key, sticky partitioning)
  --throughput N            at most N records/s (default, or -1 as Kafka's perf tool takes it: as fast as possible)
  --compression C           none, gzip, snappy, lz4, zstd (default none)
${DELIVERY_USAGE}
  --linger-ms MS            producer lingerMs (default the producer's, 5)
  --buffer-bytes BYTES      producer maxBufferedBytes (default the producer's)
  --workers N               worker threads (default the producer's)
  --report-interval-ms MS   progress every MS, 100 to 2147483647 (default 5000; on a terminal, one line updated every second)
  --json                    print the summary as JSON on stdout
  -h, --help                this help

${CONNECTION_USAGE}`;

const FLAGS = {
  ...CONNECTION_FLAGS,
  ...DELIVERY_FLAGS,
  topic: { type: 'string' },
  records: { type: 'string' },
  'record-size': { type: 'string' },
  keys: { type: 'string' },
  throughput: { type: 'string' },
  compression: { type: 'string' },
  'linger-ms': { type: 'string' },
  'buffer-bytes': { type: 'string' },
  workers: { type: 'string' },
  'report-interval-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const GROUP_BYTES = 64 * 1024;
/**
 * Distinct random values, used in turn: at most 1,024 of them, and at most VALUES_BYTES in all (at the largest
 * --record-size, 64 MiB, 1,024 values were 64 GiB; now one).
 */
const DISTINCT_VALUES = 1024;
const VALUES_BYTES = 16 * 1024 * 1024;
/** Key names are made up front, one string each: --keys 1e10 asked for an array no process can hold. */
const MAX_KEYS = 10_000_000;
/** Pacing granularity under --throughput: a group is at most this long a slice of a second. */
const PACING_SLICES_PER_SECOND = 100;
/** Node's timers take at most 2^31 − 1 ms: a longer interval fired every millisecond instead. */
const MAX_REPORT_INTERVAL_MS = 2_147_483_647;
/**
 * What a record costs the producer beyond its value, wherever it waits, for sizing the calls in flight: the fixed
 * 32 bytes of its entry in a worker's ring and up to 7 of alignment, and its framing in a batch (up to 36 bytes at
 * the largest varints): about 70. The byte budget counts the value alone, so with --record-size 0 or 1 each record
 * counted as one byte or none, and enough calls to fill 64 MiB were 1,024 calls of 65,536 records: 67 million
 * records queued as objects of their own.
 */
const RECORD_OVERHEAD_BYTES = 70;

export interface PerfSummary {
  readonly topic: string;
  readonly records: number;
  readonly failed: number;
  /** Records released by Ctrl-C (SIGINT) or SIGTERM before their acknowledgement: not failures of the cluster. */
  readonly interrupted: number;
  readonly firstError: string | null;
  /** From the first send to the last acknowledgement (the producer's close is not counted). */
  readonly seconds: number;
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly latencyMs: LatencySummary;
}

interface PerfSettings {
  readonly topic: string;
  readonly records: number;
  readonly recordSize: number;
  readonly keys: number;
  readonly throughput: number;
  readonly json: boolean;
  readonly reportIntervalMs: number | undefined;
  readonly producer: ProducerOptions;
}

function settingsFrom(argv: readonly string[]): PerfSettings | 'help' {
  const values = parseFlags(argv, FLAGS);
  if (values.help === true) return 'help';
  const topic = topicFlag(values);
  const compression = choiceFlag(values, 'compression', CODEC_NAMES);
  const lingerMs = numberFlag(values, 'linger-ms', { min: 0, integer: true });
  const maxBufferedBytes = numberFlag(values, 'buffer-bytes', { min: 1, integer: true });
  const workers = numberFlag(values, 'workers', { min: 1, max: 256, integer: true });
  return {
    topic,
    records: numberFlag(values, 'records', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }) ?? 1_000_000,
    recordSize: numberFlag(values, 'record-size', { min: 0, max: 64 * 1024 * 1024, integer: true }) ?? 100,
    keys: numberFlag(values, 'keys', { min: 1, max: MAX_KEYS, integer: true }) ?? 0,
    throughput: values.throughput === '-1' ? Infinity : (numberFlag(values, 'throughput', { min: 1 }) ?? Infinity),
    json: values.json === true,
    reportIntervalMs: numberFlag(values, 'report-interval-ms', { min: 100, max: MAX_REPORT_INTERVAL_MS, integer: true }),
    producer: checkedProducerOptions({
      ...connectionOptions(values),
      ...(compression !== undefined && { compression }),
      ...deliveryOptions(values),
      ...(lingerMs !== undefined && { lingerMs }),
      ...(maxBufferedBytes !== undefined && { maxBufferedBytes }),
      ...(workers !== undefined && { workers }),
    }, process.env, values),
  };
}

/**
 * A UsageError naming the flag at fault when a record of `settings` can never be sent (the producer's own check, its
 * longest key included): --record-size is taken up to 64 MiB, but a record that does not fit a Produce request framed
 * in a batch of its own (maxRequestBytes, 1 MiB) failed every record of the run, after the connection and the
 * topic's metadata.
 */
function checkSize(settings: PerfSettings, resolved: ResolvedOptions): void {
  const keyBytes = settings.keys > 0 ? Buffer.byteLength(`key-${settings.keys - 1}`) : 0;
  try {
    checkRecordSize({ size: settings.recordSize + keyBytes, headers: [] }, resolved);
  } catch (error) {
    if (!(error instanceof RecordTooLargeError)) throw error;
    const key = keyBytes > 0 ? ` with its key of ${keyBytes} bytes` : '';
    // The limit exceeded may be one the user set: `--buffer-bytes 10` was reported as "--record-size 100 is too
    // large", the default size blamed for a flag it was never given. (--batch-bytes is no limit on a record: one
    // larger than a batch goes in a batch of its own.)
    const buffer = settings.producer.maxBufferedBytes;
    if (buffer !== undefined && settings.recordSize + keyBytes > buffer) {
      throw new UsageError(`--buffer-bytes ${buffer} is too small for a record of --record-size ${settings.recordSize}${key}: ${error.message}`);
    }
    throw new UsageError(`--record-size ${settings.recordSize} is too large${key}: ${error.message}`);
  }
}

/** Random lowercase letters: compressible about as much as text, unlike a repeated byte. */
function randomValues(size: number): Buffer[] {
  const count = Math.max(1, Math.min(DISTINCT_VALUES, Math.floor(VALUES_BYTES / Math.max(1, size))));
  return Array.from({ length: count }, () => {
    const value = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) value[i] = 97 + Math.floor(Math.random() * 26);
    return value;
  });
}

/** Waits `ms`, or until `signal` aborts: at --throughput 1 a group waits a second, and Ctrl-C must not. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal }).catch(() => undefined);

export async function runPerf(argv: readonly string[], out: Writer = process.stdout, err: Writer = process.stderr): Promise<number> {
  const settings = settingsFrom(argv);
  if (settings === 'help') {
    out.write(`${PERF_USAGE}\n`);
    return 0;
  }
  const { topic, records, recordSize, keys, throughput } = settings;
  const resolved = resolveOptions(settings.producer);
  checkSize(settings, resolved);
  const values = randomValues(recordSize);
  const keyNames = Array.from({ length: keys }, (_, i) => `key-${i}`);
  let group = Math.max(1, Math.min(records, Math.floor(GROUP_BYTES / Math.max(1, recordSize))));
  if (throughput !== Infinity) group = Math.max(1, Math.min(group, Math.floor(throughput / PACING_SLICES_PER_SECOND)));

  const producer = new Producer(settings.producer);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const latency = new LatencyHistogram();
  const progress = new Progress(err, settings.reportIntervalMs);
  let failed = 0;
  let interrupted = 0;
  let firstError: string | null = null;
  /** Why the run stopped before sending every record, other than a signal. */
  let stoppedEarly: string | undefined;
  let sent = 0;
  let started = 0;
  let ended = 0;
  // Enough groups in flight to fill the producer's buffer, so its budget (bytes, and records) is what pushes back.
  const { maxBufferedBytes, maxBufferedRecords } = resolved;
  const byBytes = Math.ceil(maxBufferedBytes / (group * (recordSize + RECORD_OVERHEAD_BYTES)));
  const inFlight = new InFlight(Math.max(2, Math.min(byBytes, Math.ceil(maxBufferedRecords / group))));
  try {
    // A signal ends the wait for the connection, and every wait after it: the sends under way are aborted.
    await connectSaying(producer, settings.producer.brokers, resolved.bufferTimeoutMs, stop.signal, (line) => err.write(`${line}\n`));
    started = performance.now();
    progress.start(() => `${latency.records.toLocaleString('en')} records acknowledged, ${failed.toLocaleString('en')} failed`);
    while (sent < records && !stop.signal.aborted && stoppedEarly === undefined) {
      if (throughput !== Infinity) {
        const due = started + (sent / throughput) * 1000;
        const ahead = due - performance.now();
        if (ahead > 1) await sleep(ahead, stop.signal);
        if (stop.signal.aborted) break;
      }
      const count = Math.min(group, records - sent);
      const batch = new Array<{ topic: string; key: string | null; value: Buffer }>(count);
      for (let i = 0; i < count; i++) {
        const n = sent + i;
        batch[i] = { topic, key: keys > 0 ? keyNames[n % keys]! : null, value: values[n % values.length]! };
      }
      sent += count;
      const calledAt = performance.now();
      // Only failures are counted, so no result object is made per delivered record. The callback keeps the count,
      // not `batch`: the records of every call in flight (up to a buffer's worth) would stay alive until it ran.
      const done = producer.sendBatch(batch, { results: 'failures', signal: stop.signal }).then(({ failures }) => {
        const ms = performance.now() - calledAt;
        const ok = count - failures.length;
        for (const { reason } of failures) {
          if (reason instanceof AbortError && stop.signal.aborted) interrupted++;
          else {
            failed++;
            firstError ??= `${reason.name}: ${reason.message}`;
            // Sending on only repeated it, each group after its own wait (a topic that does not exist: 60 s).
            if (stoppedEarly === undefined && !stop.signal.aborted && isPermanent(reason)) {
              stoppedEarly = `${reason.name} (${reason.message}) would fail every later record the same way`;
            }
          }
        }
        latency.add(ms, ok);
        progress.tick(ok * recordSize, ok, ms);
      });
      // The first group alone, until it is settled: it brings the topic's metadata. The records of calls made before
      // that wait for it one object each (about 500 bytes a record, where a record waiting for buffer space is
      // 64): with a 64 MiB buffer of 100 B records, 350 MB of heap in the first quarter second, and a third less
      // throughput for the whole run.
      if (sent === count) {
        await done;
        // Nothing of the first group acknowledged: the run would measure only how long each group takes to fail the
        // same way (a topic that does not exist made each wait 60 s for its metadata, 655 records at a time).
        if (latency.records === 0 && failed > 0) stoppedEarly ??= `none of the first ${count.toLocaleString('en')} records was acknowledged`;
      } else await inFlight.add(done);
      // One call per turn of the event loop, as a service's requests come: the producer settles acknowledgements in
      // turns of their own, and a loop of calls that only awaited microtasks held them back until its set was full
      // (1.15–1.18M → 1.23–1.31M records/s, 410 → 350–370 MB peak RSS: 100 B records, local Kafka, alternated runs).
      await nextTurn();
    }
    // Stopped early, the calls still under way would fail the same way, each after its own wait: close (below)
    // fails them at once.
    if (stoppedEarly === undefined) await inFlight.settled();
    ended = performance.now();
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Interrupted or stopped early, nothing is left worth waiting for: the records still held fail at once.
    await producer.close({ timeoutMs: stop.signal.aborted || stoppedEarly !== undefined ? 0 : 30_000 });
  }
  // Close settled what was still under way: the summary counts it.
  if (stoppedEarly !== undefined) await inFlight.settled().catch(() => undefined);
  const seconds = (ended - started) / 1000;
  const acknowledged = latency.records;
  const summary: PerfSummary = {
    topic,
    records: acknowledged,
    failed,
    interrupted,
    firstError,
    seconds,
    recordsPerSec: acknowledged / seconds,
    mbPerSec: (acknowledged * recordSize) / seconds / (1024 * 1024),
    latencyMs: latency.summary(),
  };
  if (settings.json) out.write(`${JSON.stringify(summary)}\n`);
  else out.write(`${describe(summary)}\n`);
  if (firstError !== null) err.write(`${failed.toLocaleString('en')} records failed; the first: ${firstError}\n`);
  if (interrupted > 0) err.write(`${interrupted.toLocaleString('en')} records were not acknowledged: interrupted\n`);
  if (stoppedEarly !== undefined) err.write(`stopped after ${sent.toLocaleString('en')} of ${records.toLocaleString('en')} records: ${stoppedEarly}\n`);
  return failed > 0 || stop.signal.aborted || stoppedEarly !== undefined ? 1 : 0;
}

export function describe(s: PerfSummary): string {
  const l = s.latencyMs;
  const ms = (v: number): string => v.toFixed(1);
  return `${s.records.toLocaleString('en')} records sent, ${Math.round(s.recordsPerSec).toLocaleString('en')} records/sec ` +
    `(${s.mbPerSec.toFixed(2)} MB/sec), ${ms(l.avg)} ms avg latency, ${ms(l.max)} ms max latency, ` +
    `${ms(l.p50)} ms 50th, ${ms(l.p95)} ms 95th, ${ms(l.p99)} ms 99th, ${ms(l.p999)} ms 99.9th.`;
}
