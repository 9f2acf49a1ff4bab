/**
 * The clients the throughput benchmark compares, how each one is started, and how its output becomes one row of
 * bench/results/latest.json. Every client runs in a process of its own, ringkafka included, so the CPU seconds
 * and peak RSS in a row belong to that client alone.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLASSPATH, ROOT } from '../../scripts/kafka/config.js';
import { parseReport, type ClientConfig, type ClientReport, type Scenario } from './contract.js';
import { JAVA_HEAP, javaSettings, parseSummaryLine, perfFailure, producerPerformanceArgs } from './java-perf.js';
import { cpuBetween, watch, type WatchedRun } from './process-watch.js';
import { clientBundle, type NodeDriver } from './client-bundles.js';
import { BENCH_DIR, FRANZ_GO_BIN, JAVA_DRIVER_DIR, LIBRDKAFKA_BIN, type SetupStep } from './setup.js';

/** One client × scenario. The field names up to `skipped` are the issue's; the rest are extra context. */
export interface RunRow {
  readonly client: string;
  readonly scenario: string;
  readonly recordsPerSec: number | null;
  /** Value bytes per second, in 10^6 bytes. */
  readonly mbPerSec: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Rate scenarios only: p99.9 and the largest latency. */
  readonly p999Ms?: number | null;
  readonly maxMs?: number | null;
  /** User + system CPU seconds of the client process per 10^9 value bytes. */
  readonly cpuSecPerGB: number | null;
  /** Peak resident set of the client process, MiB. */
  readonly rssMB: number | null;
  /** Node clients only. */
  readonly eventLoopDelayP99Ms: number | null;
  /**
   * Node clients on Linux: p99 of the event-loop delay less the main thread's wait for a CPU in the same interval:
   * what the client's own work held the loop (bench/lib/loop-delay-split.ts).
   */
  readonly eventLoopDelayOwnP99Ms?: number;
  /** User + system CPU of the whole client process per measured record, µs. */
  readonly cpuUsPerRecord?: number;
  /** Node clients on Linux: the main thread's event-loop utilisation over the measured run, 0..1. */
  readonly mainElu?: number;
  /**
   * Node clients on Linux: the share of the measured run the main thread was runnable but waited for a CPU, 0..1
   * (other threads and processes had the cores). Its event loop was held meanwhile: part of the event-loop delay.
   */
  readonly mainWaitShare?: number;
  /** Node clients: the main thread's longest garbage-collection pause in the measured run, and their sum, ms. */
  readonly mainGcMaxMs?: number;
  readonly mainGcTotalMs?: number;
  /**
   * Node clients: resident set before producing, and at the sampled peak of the measured run with what of it was the
   * main thread's V8 heap (reserved) and its ArrayBuffers (harness.ts, MemoryWatch), MiB.
   */
  readonly startRssMB?: number;
  readonly peakSampleRssMB?: number;
  readonly peakHeapMB?: number;
  readonly peakArrayBuffersMB?: number;
  /** Node clients on Linux: CPU µs per record of the main thread, of each worker thread, of all other threads. */
  readonly mainUsPerRecord?: number;
  readonly workerUsPerRecord?: readonly number[];
  readonly otherUsPerRecord?: number;
  /**
   * The broker's CPU µs per record over the client's whole run, warm-up included (broker-cpu.ts); set by the bench
   * around the run, for a broker process on this machine.
   */
  readonly brokerUsPerRecord?: number;
  /** The other threads' CPU µs per record by thread name (/proc comm). */
  readonly otherUsPerRecordByName?: Readonly<Record<string, number>>;
  /** ringkafka: its worker threads in this run. */
  readonly workers?: number;
  /** Why there are no numbers: the client could not run here, or its run failed. */
  readonly skipped?: string;
  readonly records?: number;
  readonly elapsedMs?: number;
  readonly latencyNote?: string;
  /** With --repeat: successful repetitions, and the spread of records/s around the median shown. */
  readonly repeats?: number;
  readonly recordsPerSecMin?: number;
  readonly recordsPerSecMax?: number;
  /** Repetitions that failed although others succeeded, and the first one's reason. */
  readonly failedRepeats?: number;
  readonly failure?: string;
}

export interface ClientSpec {
  readonly name: string;
  readonly setup: SetupStep;
  /** The setup a scenario needs when it is not `setup` (Java's own driver is compiled apart from ProducerPerformance). */
  readonly setupFor?: (scenario: Scenario) => SetupStep;
  /** Node clients report event-loop delay. */
  readonly node: boolean;
  readonly command: (config: ClientConfig) => { command: string; args: string[] };
  /** Why this client cannot run `scenario` (undefined: it can). */
  readonly cannot?: (scenario: Scenario) => string | undefined;
  /** ringkafka at a fixed worker count (`--workers`); unset: the producer's default. */
  readonly workers?: number;
  /** ringkafka itself behind another client's API (the KafkaJS facade): not a peer to compare ringkafka with. */
  readonly ringkafkaInside?: boolean;
  /** No linger setting: a call goes out at once (KafkaJS, @platformatic/kafka). */
  readonly noLinger?: boolean;
  /** At a fixed rate its latency runs from send(), not from each record's due time (ProducerPerformance). */
  readonly rateLatencyFromSend?: boolean;
}

/**
 * Preloaded into every Node client (`--import`): it tags worker threads so the harness can read each thread's
 * CPU time (thread-tag.mjs). ringkafka's workers inherit the flag; the other Node clients start none.
 */
const THREAD_TAG = pathToFileURL(join(BENCH_DIR, 'clients', 'thread-tag.mjs')).href;

/**
 * `BENCH_CPU_PROF=DIR`: every Node client runs under `--cpu-prof`, one .cpuprofile per thread in DIR (worker
 * threads inherit the flag), to explain a run's numbers. Node refuses the flag in NODE_OPTIONS, hence this.
 */
const profileArgs = (): string[] => {
  const dir = process.env.BENCH_CPU_PROF;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
};

const nodeClient = (name: string, driver: NodeDriver, setup: SetupStep, extra: Partial<ClientSpec> = {}, extraArgs: readonly string[] = []): ClientSpec => ({
  name,
  setup,
  node: true,
  command: (config) => ({
    command: process.execPath,
    args: [...profileArgs(), '--import', THREAD_TAG, clientBundle(driver), JSON.stringify(config), ...extraArgs],
  }),
  ...extra,
});

/** `ringkafka (2 workers)`: ringkafka with its `workers` option set, for `--workers 1,2,4`. */
export function ringkafkaWithWorkers(workers: number): ClientSpec {
  return nodeClient(`ringkafka (${workers} worker${workers === 1 ? '' : 's'})`, 'ringkafka', 'node-clients', { workers });
}

/**
 * A row's side in the standings (ringkafka's records/s as a share of the fastest peer's): ringkafka, at its default
 * or a set worker count; a peer; or neither, for ringkafka behind another API (the KafkaJS facade), which is
 * ringkafka again and no client to beat.
 */
export function standingOf(client: string): 'ours' | 'peer' | 'neither' {
  if (client === 'ringkafka' || client.startsWith('ringkafka (')) return 'ours';
  return CLIENTS.find((c) => c.name === client)?.ringkafkaInside === true ? 'neither' : 'peer';
}

/** At a fixed rate: how a client's latency is timed, and its linger in ms (null: it has none). */
export interface RateTiming {
  readonly fromDueTime: boolean;
  readonly lingerMs: number | null;
}

/** RateTiming of a row's client; `lingerMs` is the run's setting, which every client with a linger gets. */
export function rateTimingOf(client: string, lingerMs: number): RateTiming {
  const spec = CLIENTS.find((c) => c.name === client);
  return { fromDueTime: spec?.rateLatencyFromSend !== true, lingerMs: spec?.noLinger === true ? null : lingerMs };
}

/** The transactional id of a run: its topic is unique per client, scenario and repetition, and so is this. */
export const transactionalIdOf = (config: ClientConfig): string => `${config.topic}-txn`;

/** Why a client without a transactional driver in this bench skips the transactional scenario. */
const noTransactions = (why: string) => (scenario: Scenario): string | undefined =>
  scenario.transactionRecords !== undefined ? `no transactional driver in this bench: ${why}` : undefined;

/** Lower-case letters, digits and dashes: a client's name as part of a topic name. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export const CLIENTS: readonly ClientSpec[] = [
  nodeClient('ringkafka', 'ringkafka', 'node-clients'),
  nodeClient('kafkajs', 'kafkajs', 'node-peers', { cannot: noTransactions('KafkaJS has transactions, not yet driven here'), noLinger: true }),
  // the KafkaJS driver unchanged over ringkafka/kafkajs; its lz4-napi codec registration needs the peers installed
  nodeClient('kafkajs-facade', 'kafkajs', 'node-peers', {
    cannot: (scenario) => scenario.transactionRecords !== undefined
      ? 'KafkaJS has transactions, not yet driven here'
      : scenario.compression === 'none'
        ? undefined
        : 'the driver asks for its codec per send() call, which the facade refuses unless the producer was set to it',
    ringkafkaInside: true,
  }, ['facade']),
  nodeClient('platformatic', 'platformatic', 'node-peers', { cannot: noTransactions('not yet written for @platformatic/kafka'), noLinger: true }),
  // the same driver over 2.x, its own install; skipped with the reason on a Node older than 2.x needs
  nodeClient('platformatic-2', 'platformatic', 'platformatic-2', { cannot: noTransactions('not yet written for @platformatic/kafka'), noLinger: true }, ['platformatic-2']),
  {
    name: 'franz-go',
    setup: 'franz-go',
    node: false,
    command: (c) => ({
      command: FRANZ_GO_BIN,
      args: [
        '-brokers', c.brokers.join(','), '-topic', c.topic, '-records', String(c.records),
        '-warmup', String(c.warmupRecords), '-payload-file', c.payloadFile, '-compression', c.scenario.compression,
        '-linger-ms', String(c.lingerMs), '-batch-bytes', String(c.batchBytes), '-buffer-bytes', String(c.bufferBytes),
        '-buffer-records', String(c.bufferRecords), '-sample-every', String(c.sampleEvery),
        ...(c.keysFile !== undefined ? ['-keys-file', c.keysFile] : []),
        ...(c.tls !== undefined ? ['-tls-ca', c.tls.ca, '-tls-cert', c.tls.cert, '-tls-key', c.tls.key] : []),
        ...(c.scenario.rate !== undefined ? ['-rate', String(c.scenario.rate)] : []),
        ...(c.scenario.transactionRecords !== undefined
          ? ['-transaction-records', String(c.scenario.transactionRecords), '-transactional-id', transactionalIdOf(c)]
          : []),
      ],
    }),
  },
  {
    name: 'librdkafka',
    setup: 'librdkafka',
    node: false,
    command: (c) => ({
      command: LIBRDKAFKA_BIN,
      args: [
        c.brokers.join(','), c.topic, String(c.records), String(c.warmupRecords), c.payloadFile, c.scenario.compression,
        String(c.lingerMs), String(c.batchBytes), String(c.bufferBytes), String(c.bufferRecords), String(c.sampleEvery),
        c.keysFile ?? '-', c.tls?.ca ?? '-', c.tls?.cert ?? '-', c.tls?.key ?? '-', String(c.scenario.rate ?? 0),
      ],
    }),
    cannot: noTransactions('the C loop does not call rd_kafka_init_transactions yet'),
  },
  {
    name: 'java',
    setup: 'java',
    // ProducerPerformance only at a fixed rate, where its own throttle paces the sends; everywhere else the bench's
    // driver, which starts its clock once the warm-up is acknowledged and stops it at the last acknowledgement, as
    // every other client does (java-perf.ts, bench/peers/java/ProducerPeer.java)
    setupFor: (scenario) => (byProducerPerformance(scenario) ? 'java' : 'java-driver'),
    node: false,
    command: (c) => ({ command: 'java', args: byProducerPerformance(c.scenario) ? producerPerformanceArgs(c) : javaDriverArgs(c) }),
    rateLatencyFromSend: true,
    cannot: (scenario) =>
      scenario.keys !== undefined && byProducerPerformance(scenario) ? 'ProducerPerformance sends no keys (it has no option for them)' : undefined,
  },
];

/** Java's rows that Kafka's ProducerPerformance runs: the fixed-rate ones. */
const byProducerPerformance = (scenario: Scenario): boolean => scenario.rate !== undefined;

/**
 * Java's own driver (bench/peers/java/ProducerPeer.java), for the saturation and transactional scenarios: the
 * producer settings ProducerPerformance gets (javaSettings), as `--property` pairs, and a JSON report like the other
 * peers'. ProducerPerformance's clock includes unacknowledged warm-up records and its close(), and it can only commit
 * by elapsed time (`--transaction-duration-ms`), not every N records.
 */
export function javaDriverArgs(c: ClientConfig): string[] {
  const transactional = c.scenario.transactionRecords !== undefined;
  const properties = [...javaSettings(c), ...(transactional ? [`transactional.id=${transactionalIdOf(c)}`] : [])];
  return [
    JAVA_HEAP, '-cp', `${JAVA_DRIVER_DIR}:${CLASSPATH}`, 'ProducerPeer',
    '--brokers', c.brokers.join(','), '--topic', c.topic, '--records', String(c.records), '--warmup', String(c.warmupRecords),
    '--payload-file', c.payloadFile, '--sample-every', String(c.sampleEvery),
    ...(c.keysFile !== undefined ? ['--keys-file', c.keysFile] : []),
    ...(transactional ? ['--transaction-records', String(c.scenario.transactionRecords)] : []),
    ...properties.flatMap((property) => ['--property', property]),
  ];
}

export function skippedRow(client: string, scenario: string, reason: string): RunRow {
  return {
    client, scenario, recordsPerSec: null, mbPerSec: null, p50Ms: null, p99Ms: null, cpuSecPerGB: null, rssMB: null,
    eventLoopDelayP99Ms: null, skipped: reason,
  };
}

export interface ClientRun {
  readonly row: RunRow;
  /** The client's settings as it spells them (empty when it did not run). */
  readonly settings: readonly string[];
}

/** Runs one client on one scenario and turns what it printed into a row. */
export async function runOne(spec: ClientSpec, config: ClientConfig, timeoutMs: number): Promise<ClientRun> {
  if (spec.workers !== undefined) config = { ...config, workers: spec.workers };
  const { command, args } = spec.command(config);
  const run = await watch(command, args, { cwd: ROOT, timeoutMs });
  const scenario = config.scenario.name;
  if (run.timedOut) return { row: skippedRow(spec.name, scenario, `run failed: no result within ${Math.round(timeoutMs / 1000)} s`), settings: [] };
  if (run.code !== 0) return { row: skippedRow(spec.name, scenario, `run failed (exit ${run.code ?? run.signal}): ${firstLine(run.stderr)}`), settings: [] };
  try {
    // ProducerPerformance prints its own summary; the Java driver prints a report like the others.
    const summaryLines = spec.name === 'java' && byProducerPerformance(config.scenario);
    return summaryLines ? javaRow(config, run) : reportRow(spec, config, parseReport(run.stdout), run);
  } catch (error) {
    return { row: skippedRow(spec.name, scenario, `run failed: ${String(error)}`), settings: [] };
  }
}

function reportRow(spec: ClientSpec, config: ClientConfig, report: ClientReport, run: WatchedRun): ClientRun {
  const scenario = config.scenario.name;
  if (report.unsupported !== undefined) return { row: skippedRow(spec.name, scenario, `unsupported: ${report.unsupported}`), settings: [] };
  if (report.errors > 0) {
    const reason = `run failed: ${report.errors} of ${report.records} records failed (${report.firstError ?? 'no message'})`;
    return { row: skippedRow(spec.name, scenario, reason), settings: report.settings };
  }
  const seconds = report.elapsedMs / 1000;
  return {
    row: {
      client: spec.name,
      scenario,
      recordsPerSec: report.records / seconds,
      mbPerSec: report.bytes / 1e6 / seconds,
      p50Ms: report.p50Ms,
      p99Ms: report.p99Ms,
      ...(config.scenario.rate !== undefined && { p999Ms: report.p999Ms ?? null, maxMs: report.maxMs ?? null }),
      cpuSecPerGB: report.cpuSec === null ? null : report.cpuSec / (report.bytes / 1e9),
      // the client's own figure where it has one; /proc's VmHWM otherwise
      rssMB: report.rssMB ?? run.peakRssMB ?? null,
      eventLoopDelayP99Ms: spec.node ? (report.eventLoopDelayP99Ms ?? null) : null,
      ...(spec.node && report.eventLoopDelayOwnP99Ms !== undefined && { eventLoopDelayOwnP99Ms: report.eventLoopDelayOwnP99Ms }),
      ...(report.cpuSec !== null && { cpuUsPerRecord: (report.cpuSec * 1e6) / report.records }),
      ...(report.mainGc !== undefined && { mainGcMaxMs: report.mainGc.maxMs, mainGcTotalMs: report.mainGc.totalMs }),
      ...(report.memory !== undefined && {
        startRssMB: report.memory.startRssMB,
        peakSampleRssMB: report.memory.rssMB,
        peakHeapMB: report.memory.heapTotalMB,
        peakArrayBuffersMB: report.memory.arrayBuffersMB,
      }),
      ...(report.threads?.mainWaitSec !== undefined && report.elapsedMs > 0 && { mainWaitShare: (report.threads.mainWaitSec * 1000) / report.elapsedMs }),
      ...(report.threads !== undefined && {
        mainElu: report.threads.mainElu,
        mainUsPerRecord: (report.threads.mainCpuSec * 1e6) / report.records,
        workerUsPerRecord: report.threads.workerCpuSec.map((sec) => (sec * 1e6) / report.records),
        otherUsPerRecord: (report.threads.otherCpuSec * 1e6) / report.records,
        ...(report.threads.otherByName !== undefined && {
          otherUsPerRecordByName: Object.fromEntries(
            Object.entries(report.threads.otherByName).map(([name, sec]) => [name, Math.round((sec * 1e7) / report.records) / 10]),
          ),
        }),
      }),
      ...(spec.workers !== undefined && { workers: spec.workers }),
      records: report.records,
      elapsedMs: report.elapsedMs,
      ...(report.latencyNote !== undefined && { latencyNote: report.latencyNote }),
    },
    settings: report.settings,
  };
}

/**
 * ProducerPerformance cannot report its own CPU: the steady-state window ends when its steady-state line is
 * printed and began `records / rate` seconds before; the CPU spent in that window is read off the /proc samples.
 */
function javaRow(config: ClientConfig, run: WatchedRun): ClientRun {
  const scenario = config.scenario.name;
  const settings = [...javaSettings(config).filter((s) => !s.startsWith('compression.type=')), 'max.request.size=1048576 (default)', 'partitioner=default (sticky for null keys)', `heap -Xmx512M`];
  // Its summaries count only the sends that succeeded: fewer than asked, or an exception on stderr, is a failed run.
  const failure = perfFailure(run.lineTimes.map((l) => l.line), run.stderr, config);
  if (failure !== undefined) return { row: skippedRow('java', scenario, `run failed: ${failure}`), settings };
  for (const { at, line } of run.lineTimes) {
    const summary = parseSummaryLine(line);
    if (summary === undefined || !summary.steady) continue;
    const seconds = summary.records / summary.recordsPerSec;
    const bytes = summary.records * config.scenario.valueBytes;
    const cpu = cpuBetween(run.cpu, at - seconds * 1000, at);
    return {
      row: {
        client: 'java',
        scenario,
        recordsPerSec: summary.recordsPerSec,
        mbPerSec: bytes / 1e6 / seconds,
        p50Ms: summary.p50Ms,
        p99Ms: summary.p99Ms,
        ...(config.scenario.rate !== undefined && { p999Ms: summary.p999Ms, maxMs: summary.maxMs }),
        cpuSecPerGB: cpu === undefined ? null : cpu / (bytes / 1e9),
        ...(cpu !== undefined && { cpuUsPerRecord: (cpu * 1e6) / summary.records }),
        rssMB: run.peakRssMB ?? null,
        eventLoopDelayP99Ms: null,
        records: summary.records,
        elapsedMs: seconds * 1000,
        latencyNote:
          config.scenario.rate !== undefined
            ? 'ProducerPerformance --throughput: send() to callback, every record, whole ms (its throttle sleeps until a send is due)'
            : 'ProducerPerformance: send() to callback, every record, whole ms',
      },
      settings,
    };
  }
  return { row: skippedRow('java', scenario, `run failed: no steady-state summary line: ${lastLines(run.stdout + run.stderr)}`), settings };
}

/** The first line of a failure: the error's message, not the bottom of its stack trace. */
function firstLine(text: string): string {
  return (text.trim().split('\n').find((line) => line.trim().length > 0) ?? '').slice(0, 600);
}

function lastLines(text: string, lines = 3): string {
  return text.trim().split('\n').filter(Boolean).slice(-lines).join(' | ').slice(0, 600);
}
