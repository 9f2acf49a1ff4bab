/**
 * What bench/throughput.ts hands each client process and what it reads back. The Node clients get the config as
 * JSON in argv[2]; the Go and C peers get the same values as flags or arguments (bench/lib/clients.ts). Every
 * client prints one ClientReport as a JSON line on stdout and nothing else there; diagnostics go to stderr.
 */

export type Compression = 'none' | 'lz4';

export interface Scenario {
  /** e.g. `100B-lz4`: value size and codec, then what else differs (`-1p`, `-keyed`, `-tls`). */
  readonly name: string;
  readonly valueBytes: number;
  readonly compression: Compression;
  /** Partitions of the scenario's topic, where it fixes them (else `--partitions`). */
  readonly partitions?: number;
  /** Records carry keys: this many distinct ones, record i the key i mod n, placed by murmur2 (Java's rule). */
  readonly keys?: number;
  /** Over the TLS listener with a client certificate (mutual TLS). */
  readonly tls?: boolean;
  /**
   * A fixed offered rate, records per second: the client sends record i at `i / rate` s (bench/lib/pacing.ts)
   * instead of as fast as it can, every record's latency is timed from its due time, and the report carries
   * p99.9 and max as well. Unset: a saturation scenario.
   */
  readonly rate?: number;
  /**
   * Transactional: the client commits one transaction per this many records (the last one of a run takes what is
   * left), one transaction open at a time, warm-up included. Latency is then per transaction, begin to commit.
   */
  readonly transactionRecords?: number;
}

/** PEM files for mutual TLS, as paths; each client reads them the way its users would. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** The key, then the certificate, in one PEM file: Java's PEM keystore reads both from one file. */
  readonly keyAndCert: string;
}

export interface ClientConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Partitions of `topic`. */
  readonly partitions: number;
  readonly scenario: Scenario;
  /** Measured records. */
  readonly records: number;
  /** Sent first to the same topic and not measured: connections, metadata, JIT and pools warm up. */
  readonly warmupRecords: number;
  /** Values, one per line (JSON-like ASCII text, bench/lib/payload.ts); record i uses line i mod n. */
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
  /** `--call-records`: the Node drivers' calls carry this many records instead of about `chunkBytes` of them. */
  readonly callRecords?: number;
  /** Latency is timed for one record in this many (or one call in this many, for per-call clients); 1 at a fixed rate. */
  readonly sampleEvery: number;
  /** Keyed scenarios: keys, one per line; record i uses line i mod n. */
  readonly keysFile?: string;
  /** TLS scenarios: the client certificate and the CA; `brokers` are then the TLS listener's. */
  readonly tls?: TlsFiles;
  /** ringkafka only: its `workers` option (unset: the producer's default). */
  readonly workers?: number;
}

/**
 * Node clients: where the CPU went, by thread, during the measured run. Thread CPU times come from Linux's
 * /proc/self/task/<tid>/schedstat (nanoseconds on the CPU), or its `stat` (10 ms ticks) where schedstat is absent.
 */
export interface ThreadCpu {
  /** The main thread (the one that runs the application and the client's JavaScript API). */
  readonly mainCpuSec: number;
  /** Each worker thread the client started (ringkafka's), in the order they announced themselves. */
  readonly workerCpuSec: readonly number[];
  /** The rest of the process: libuv's thread pool, V8's GC and compiler threads, native add-on threads. */
  readonly otherCpuSec: number;
  /** The other threads' CPU seconds by thread name (/proc comm, e.g. `libuv-worker`), for the JSON only. */
  readonly otherByName?: Readonly<Record<string, number>>;
  /** performance.eventLoopUtilization() of the main thread over the measured run, 0..1. */
  readonly mainElu: number;
  /** Seconds the main thread was runnable but waited for a CPU (schedstat only): time its loop was held by others. */
  readonly mainWaitSec?: number;
  /** Where the per-thread times came from. */
  readonly source: 'schedstat' | 'stat';
}

/** Garbage-collection pauses of one thread: how many, their sum and the longest, in ms. */
export interface GcPauses {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
}

/**
 * Where a Node client's memory was when its resident set peaked during the measured run (process.memoryUsage(),
 * sampled every 50 ms), and its resident set before it produced anything: what of the peak RSS is the main thread's
 * V8 heap and its ArrayBuffers, and what is the rest (Node itself, worker threads' heaps and buffers, code).
 */
export interface MemoryAtPeak {
  /** Resident set once the client was connected, before its warm-up, MiB. */
  readonly startRssMB: number;
  /** The largest resident set sampled during the measured run, MiB (VmHWM, `rssMB`, may be higher: it is not sampled). */
  readonly rssMB: number;
  /** At that sample: the main thread's V8 heap, used and reserved, MiB. */
  readonly heapUsedMB: number;
  readonly heapTotalMB: number;
  /** At that sample: ArrayBuffers and SharedArrayBuffers the main thread allocated (Buffers included), MiB. */
  readonly arrayBuffersMB: number;
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
  /** Rate scenarios: p99.9 and the largest latency; absent or null elsewhere. */
  readonly p999Ms?: number | null;
  readonly maxMs?: number | null;
  /** User + system CPU seconds of the whole client process during the measured run. */
  readonly cpuSec: number | null;
  /** Peak resident set of the client process over its whole life, MiB. */
  readonly rssMB: number | null;
  /** Node clients: p99 of the main thread's event-loop delay during the measured run. */
  readonly eventLoopDelayP99Ms?: number | null;
  /**
   * Node clients on Linux: the same delay less the main thread's run-queue wait, tick by tick (loop-delay-split.ts):
   * what the process's own work held the loop, p99, ms.
   */
  readonly eventLoopDelayOwnP99Ms?: number;
  /** Node clients: the main thread's garbage-collection pauses during the measured run (perf_hooks 'gc' entries). */
  readonly mainGc?: GcPauses;
  /** Node clients: the memory at the sampled peak of the measured run. */
  readonly memory?: MemoryAtPeak;
  /** Records that failed; a run with failures is reported as failed, not as a throughput. */
  readonly errors: number;
  readonly firstError?: string;
  /** The client's settings as it spells them, for the README's "where clients differ". */
  readonly settings: readonly string[];
  /** How p50/p99 were measured. */
  readonly latencyNote?: string;
  /** Node clients on Linux: CPU by thread and the main thread's event-loop utilisation. */
  readonly threads?: ThreadCpu;
  /**
   * The client found, at run time, that it cannot run the scenario (an API it lacks in this build): the run sends
   * nothing and its row is skipped with this reason. The counting fields are then 0.
   */
  readonly unsupported?: string;
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
