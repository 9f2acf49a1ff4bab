/**
 * Kafka's own Java ProducerPerformance (kafka-producer-perf-test), from the jars in .kafka/libs. It warms up
 * itself (`--warmup-records`, KIP-1052) and then prints two summary lines; the second, "steady state", covers
 * only the measured records and is the one used:
 *
 *   200000 steady state records sent, 46264.168402 records/sec (4.41 MB/sec), 57.16 ms avg latency,
 *   194.00 ms max latency, 42 ms 50th, 141 ms 95th, 187 ms 99th, 194 ms 99.9th.
 *
 * Its latency is per record, from send() to the callback. Values come from the shared payload file, picked at
 * random per record (the tool's only mode besides one value for the whole run).
 *
 * The bench runs it for the fixed-rate scenarios only, where its own throttle paces the sends: for saturation its
 * clock starts while warm-up records may still be unacknowledged and stops after close(), so those rows use the
 * bench's own driver (bench/peers/java/ProducerPeer.java), timed as every other client is.
 */
import { CLASSPATH, TOOLS } from '../../scripts/kafka/config.js';
import type { ClientConfig } from './contract.js';

/** The tool runs with the heap its launcher script gives it (kafka-producer-perf-test.sh: -Xmx512M). */
export const JAVA_HEAP = '-Xmx512M';

export function producerPerformanceArgs(config: ClientConfig): string[] {
  return [
    JAVA_HEAP,
    '-cp', CLASSPATH,
    TOOLS.producerPerformance,
    '--bootstrap-server', config.brokers.join(','),
    '--topic', config.topic,
    '--num-records', String(config.warmupRecords + config.records),
    '--warmup-records', String(config.warmupRecords),
    '--payload-file', config.payloadFile,
    // -1: as fast as it can; a rate: its own throttle, which sleeps whenever it is ahead of that rate
    '--throughput', String(config.scenario.rate ?? -1),
    // --command-property is the current name of the deprecated --producer-props (same meaning).
    '--command-property', ...javaSettings(config),
  ];
}

export function javaSettings(config: ClientConfig): string[] {
  return [
    'acks=all',
    'enable.idempotence=true',
    `linger.ms=${config.lingerMs}`,
    `batch.size=${config.batchBytes}`,
    `compression.type=${config.scenario.compression}`,
    `buffer.memory=${config.bufferBytes}`,
    ...(config.tls === undefined
      ? []
      : [
          'security.protocol=SSL',
          'ssl.truststore.type=PEM',
          `ssl.truststore.location=${config.tls.ca}`,
          'ssl.keystore.type=PEM',
          `ssl.keystore.location=${config.tls.keyAndCert}`,
        ]),
  ];
}

export interface PerfSummary {
  readonly records: number;
  readonly recordsPerSec: number;
  readonly avgMs: number;
  readonly maxMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

const SUMMARY =
  /^(\d+) (steady state )?records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\./;

/**
 * The first line of `stderr` that reports an exception: what ProducerPerformance's callback prints for a record
 * whose send failed (`exception.printStackTrace()`, its first line the exception's class and message), or an
 * uncaught one (`Exception in thread …`). Log4j's status lines and the JVM's warnings are not failures.
 */
export function stderrFailure(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^Exception in thread |^[a-z][\w$]*(\.[\w$]+)+(Exception|Error)(:|$)/.test(line));
}

/**
 * Why a ProducerPerformance run cannot be taken as it printed it, or undefined. Its summary lines count only the
 * records whose send succeeded (a failed one is left out and its exception printed on stderr), so a run with failed
 * sends read as a valid, lower count: the whole-run line must count every record sent, warm-up included, the
 * steady-state line every measured one, and stderr must report no exception.
 */
export function perfFailure(lines: readonly string[], stderr: string, config: Pick<ClientConfig, 'records' | 'warmupRecords'>): string | undefined {
  const failed = stderrFailure(stderr);
  if (failed !== undefined) return `a send failed: ${failed.slice(0, 300)}`;
  const summaries = lines.map(parseSummaryLine).filter((s) => s !== undefined);
  const total = summaries.find((s) => !s.steady);
  const steady = summaries.find((s) => s.steady);
  if (total === undefined || steady === undefined) return `no ${total === undefined ? 'whole-run' : 'steady-state'} summary line`;
  const sent = config.warmupRecords + config.records;
  if (total.records !== sent) return `ProducerPerformance acknowledged ${total.records} of the ${sent} records sent`;
  if (steady.records !== config.records) return `ProducerPerformance acknowledged ${steady.records} of the ${config.records} measured records`;
  return undefined;
}

/** Parses one summary line; `steady` tells which of the two it was. Undefined for any other line. */
export function parseSummaryLine(line: string): (PerfSummary & { readonly steady: boolean }) | undefined {
  const m = SUMMARY.exec(line.trim());
  if (m === null) return undefined;
  return {
    steady: m[2] !== undefined,
    records: Number(m[1]),
    recordsPerSec: Number(m[3]),
    avgMs: Number(m[4]),
    maxMs: Number(m[5]),
    p50Ms: Number(m[6]),
    p95Ms: Number(m[7]),
    p99Ms: Number(m[8]),
    p999Ms: Number(m[9]),
  };
}
