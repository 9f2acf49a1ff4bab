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
