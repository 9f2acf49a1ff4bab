/**
 * What bench/throughput.ts hands each client process and what it reads back. The Node clients get the config as
 * JSON in argv[2]; the Go and C peers get the same values as flags or arguments (bench/lib/clients.ts). Every
 * client prints one ClientReport as a JSON line on stdout and nothing else there; diagnostics go to stderr.
 */

export type Compression = 'none' | 'lz4';

export interface Scenario {
  /** e.g. `100B-lz4`: value size and codec. */
  readonly name: string;
  readonly valueBytes: number;
  readonly compression: Compression;
}

export interface ClientConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly scenario: Scenario;
  /** Measured records. */
  readonly records: number;
  /** Sent first to the same topic and not measured: connections, metadata, JIT and pools warm up. */
  readonly warmupRecords: number;
  /** Values, one per line (uppercase letters, like Kafka's ProducerPerformance); record i uses line i mod n. */
  readonly payloadFile: string;
  readonly lingerMs: number;
  /** Per-partition batch limit in bytes, where the client has one. */
  readonly batchBytes: number;
  /** The client's buffer of accepted, unacknowledged records: bytes and records. */
  readonly bufferBytes: number;
  readonly bufferRecords: number;
  /**
   * Clients without a linger/batch of their own (KafkaJS, @platformatic/kafka) are given records in calls of
   * about this many bytes; ringkafka is given them in sendBatch-sized groups of the same size.
   */
  readonly chunkBytes: number;
  /** Latency is timed for one record in this many (or one call in this many, for per-call clients). */
  readonly sampleEvery: number;
}

export interface ClientReport {
  readonly records: number;
  /** Value bytes of the measured records. */
  readonly bytes: number;
  /** From the first measured send until the last measured record was acknowledged. */
  readonly elapsedMs: number;
  /** Send-to-acknowledgement latency; null where the client does not expose it. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** User + system CPU seconds of the whole client process during the measured run. */
  readonly cpuSec: number | null;
  /** Peak resident set of the client process over its whole life, MiB. */
  readonly rssMB: number | null;
  /** Node clients: p99 of the main thread's event-loop delay during the measured run. */
  readonly eventLoopDelayP99Ms?: number | null;
  /** Records that failed; a run with failures is reported as failed, not as a throughput. */
  readonly errors: number;
  readonly firstError?: string;
  /** The client's settings as it spells them, for the README's "where clients differ". */
  readonly settings: readonly string[];
  /** How p50/p99 were measured. */
  readonly latencyNote?: string;
}

/** Parses and checks one ClientReport line; throws with the text when it is not one. */
export function parseReport(text: string): ClientReport {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (line === undefined) throw new Error(`no JSON report on stdout: ${text.slice(0, 300)}`);
  const report = JSON.parse(line) as ClientReport;
  for (const field of ['records', 'bytes', 'elapsedMs', 'errors'] as const) {
    if (typeof report[field] !== 'number') throw new Error(`report lacks ${field}: ${line.slice(0, 300)}`);
  }
  return report;
}
