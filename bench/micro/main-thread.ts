/**
 * What the main thread costs per record: the real Producer (built, from dist/) with its real workers, against a
 * broker in another process that acknowledges everything at once (ack-broker.ts), so the main thread's busy time
 * is the producer's own. The cost is the main thread's event-loop busy time (performance.eventLoopUtilization)
 * over the records sent — settlement included — and nothing of the workers or the broker.
 *
 *   main-thread/sendBatch-100B        sendBatch of 10,000 records of 100 B, 16 partitions, keyless
 *   main-thread/sendBatch-100B-failures  the same with `results: 'failures'` (no result object per record)
 *   main-thread/sendBatch-100B-signal    the same, each call with a `signal` (`AbortSignal.timeout`, as a service
 *                                     passes its request's deadline): what guarding records with a signal costs
 *   main-thread/sendBatch-100B-string    as `-failures`, each value a string of 100 characters (as a JSON text is)
 *   main-thread/send-100B             send() × 10,000, then await them all
 *   main-thread/sendBatch-1KiB-keyed  sendBatch of 10,000 records of 1 KiB over 1,000 keys (murmur2)
 *   main-thread/sendBatch-100B-saturated  as sendBatch-100B with maxBufferedBytes 256 KiB: most records wait for
 *                                     buffer space (the budget's slow path)
 *
 * Record objects are made before the clock starts: they are the application's, not the producer's. `--traced`
 * subscribes no-op observers to every diagnostics channel (src/main/tracing.ts), to see what tracing costs.
 */
import { spawn } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Producer } from '../../dist/src/main/index.js';

export interface MainThreadSuite {
  readonly name: string;
  /** Main-thread busy nanoseconds per record (event-loop utilisation; median of the samples). */
  readonly nsPerOp: number;
  /**
   * Main-thread CPU nanoseconds per record (Linux schedstat of the main thread; median of the samples), undefined
   * off Linux. Unlike busy time it leaves out the time the thread was runnable but another thread had the core.
   */
  readonly cpuNsPerOp: number | undefined;
  /** Records per second of wall time (median of the samples). */
  readonly opsPerSec: number;
  readonly samples: number;
}

const BATCH = 10_000;
/** The signal scenario's timeout: far beyond any call, so it only guards. */
const SIGNAL_TIMEOUT_MS = 600_000;
const PARTITIONS = 16;

interface Scenario {
  readonly name: string;
  readonly records: { topic: string; key: string | null; value: Buffer | string }[];
  readonly batch: boolean;
  /** sendBatch's `results` option. */
  readonly results?: 'failures';
  /** Each call passes a fresh `AbortSignal.timeout` (never due during the run). */
  readonly signal?: true;
  readonly maxBufferedBytes?: number;
}

function scenarios(topic: string): Scenario[] {
  const small = Buffer.alloc(100, 'v');
  const large = Buffer.alloc(1024, 'w');
  const keyless = Array.from({ length: BATCH }, () => ({ topic, key: null, value: small }));
  // Distinct strings, as an application's are: one string for every record would measure a cache, not the encoding.
  const texts = Array.from({ length: BATCH }, (_, i) => ({ topic, key: null, value: `${'t'.repeat(92)}${String(10_000_000 + i)}` }));
  const keyed = Array.from({ length: BATCH }, (_, i) => ({ topic, key: `key-${i % 1000}`, value: large }));
  return [
    { name: 'main-thread/sendBatch-100B', records: keyless, batch: true },
    { name: 'main-thread/sendBatch-100B-failures', records: keyless, batch: true, results: 'failures' },
    { name: 'main-thread/sendBatch-100B-signal', records: keyless, batch: true, results: 'failures', signal: true },
    { name: 'main-thread/sendBatch-100B-string', records: texts, batch: true, results: 'failures' },
    { name: 'main-thread/send-100B', records: keyless, batch: false },
    { name: 'main-thread/sendBatch-1KiB-keyed', records: keyed, batch: true },
    { name: 'main-thread/sendBatch-100B-saturated', records: keyless, batch: true, maxBufferedBytes: 256 * 1024 },
  ];
}

async function round(producer: Producer, scenario: Scenario): Promise<void> {
  if (scenario.results === 'failures') {
    const signal = scenario.signal === true ? AbortSignal.timeout(SIGNAL_TIMEOUT_MS) : undefined;
    const { failures } = await producer.sendBatch(scenario.records, { results: 'failures', signal });
    if (failures.length > 0) throw new Error(`a record failed: ${String(failures[0]!.reason)}`);
    return;
  }
  if (scenario.batch) {
    const results = await producer.sendBatch(scenario.records);
    if (results[results.length - 1]!.status !== 'fulfilled') throw new Error(`a record failed: ${String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)}`);
    return;
  }
  const sends = new Array<Promise<unknown>>(scenario.records.length);
  for (let i = 0; i < scenario.records.length; i++) sends[i] = producer.send(scenario.records[i]!);
  await Promise.all(sends);
}

/** `--only`: a suite's whole name after `main-thread/` picks it alone (`sendBatch-100B`); else every suite containing it. */
function matches(name: string, only: string | undefined): boolean {
  if (only === undefined) return true;
  const exact = scenarios('').some((s) => s.name === `main-thread/${only}`);
  return exact ? name === `main-thread/${only}` : name.includes(only);
}

/** Runs each scenario for `rounds` × `samples` batches and returns the medians. */
export async function benchMainThread(options: { quick: boolean; workers?: number | undefined; only?: string | undefined }): Promise<MainThreadSuite[]> {
  const broker = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ack-broker.ts', import.meta.url)), String(PARTITIONS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(broker.stdout!, 'data')) as [Buffer];
  const address = line.toString().trim();
  const topic = 'micro';
  const samples = options.quick ? 3 : 7;
  const rounds = options.quick ? 10 : 30;
  const suites: MainThreadSuite[] = [];
  try {
    for (const scenario of scenarios(topic).filter((s) => matches(s.name, options.only))) {
      const producer = new Producer({
        brokers: [address], clientId: 'ringkafka-micro', workers: options.workers, maxBufferedBytes: scenario.maxBufferedBytes,
      });
      try {
        await producer.send({ topic, value: 'warm-up' });
        for (let i = 0; i < rounds; i++) await round(producer, scenario); // warm-up: JIT, arenas, connections
        const ns: number[] = [];
        const cpuNs: number[] = [];
        const rates: number[] = [];
        for (let s = 0; s < samples; s++) {
          const elu = performance.eventLoopUtilization();
          const cpuBefore = mainThreadCpuNs();
          const started = performance.now();
          for (let i = 0; i < rounds; i++) await round(producer, scenario);
          const wallMs = performance.now() - started;
          const cpuAfter = mainThreadCpuNs();
          const busyMs = performance.eventLoopUtilization(elu).active;
          const records = rounds * scenario.records.length;
          ns.push((busyMs * 1e6) / records);
          if (cpuBefore !== undefined && cpuAfter !== undefined) cpuNs.push((cpuAfter - cpuBefore) / records);
          rates.push(records / (wallMs / 1000));
        }
        const cpuNsPerOp = cpuNs.length === samples ? median(cpuNs) : undefined;
        suites.push({ name: scenario.name, nsPerOp: median(ns), cpuNsPerOp, opsPerSec: median(rates), samples });
      } finally {
        await producer.close({ timeoutMs: 10_000 });
      }
    }
  } finally {
    broker.stdin!.end();
    await once(broker, 'exit');
  }
  return suites;
}

/** Nanoseconds the calling (main) thread has spent on a CPU: schedstat's first field; undefined off Linux. */
function mainThreadCpuNs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
  // --traced: what the diagnostics channels cost once someone listens (no-op subscribers on every channel); without
  // it, nobody listens and they should cost nothing.
  if (process.argv.includes('--traced')) {
    const ignore = (): void => {};
    for (const name of ['send', 'sendBatch', 'flush', 'close']) {
      diagnosticsChannel.tracingChannel(`ringkafka:${name}`).subscribe({ start: ignore, end: ignore, asyncStart: ignore, asyncEnd: ignore, error: ignore });
    }
    for (const name of ['batch', 'worker']) diagnosticsChannel.subscribe(`ringkafka:${name}`, ignore);
  }
  for (const suite of await benchMainThread({ quick, only })) {
    const cpu = suite.cpuNsPerOp === undefined ? '' : `  ${suite.cpuNsPerOp.toFixed(0).padStart(6)} ns CPU`;
    console.log(`${suite.name.padEnd(36)} ${suite.nsPerOp.toFixed(0).padStart(6)} ns/record busy on the main thread${cpu}  ${(suite.opsPerSec / 1000).toFixed(0)}k records/s`);
  }
}
