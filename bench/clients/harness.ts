/**
 * The common part of the Node client processes (ringkafka, KafkaJS, @platformatic/kafka): read the config, warm
 * up, run the measured records with the clock, CPU and event-loop delay around them, print one JSON report.
 *
 * Each client file supplies a Driver that sends `count` records and resolves once every one of them has its
 * result; the harness never times individual records itself, so each driver samples latency the way its client
 * exposes it (per record for ringkafka, per call for clients whose unit of sending is a call).
 */
import { monitorEventLoopDelay, performance, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import type { ClientConfig, ClientReport, GcPauses, MemoryAtPeak, ThreadCpu } from '../lib/contract.js';
import { readPayloads } from '../lib/payload.js';
import { OwnLoopDelayWatch, threadWaitReader } from '../lib/loop-delay-split.js';
import { readdirSync, readFileSync } from 'node:fs';
import { ownPeakRssMB, readThreadCpu } from '../lib/process-watch.js';
import { eluLessSleep, paced, pacerSleptMs } from '../lib/pacing.js';
import { percentiles } from '../lib/stats.js';
import { warmupCalls } from '../lib/run-plan.js';

/** Where thread-tag.mjs, when preloaded, collects the worker threads' Linux thread ids. */
const WORKER_TIDS = Symbol.for('ringkafka.bench.workerTids');

export interface RunOutcome {
  readonly errors: number;
  readonly firstError?: string | undefined;
}

/** Collects latency samples in milliseconds. */
export class LatencySamples {
  readonly #values: number[] = [];

  add(ms: number): void {
    this.#values.push(ms);
  }

  get values(): readonly number[] {
    return this.#values;
  }
}

export interface Driver {
  /** The client's settings as it spells them. */
  readonly settings: readonly string[];
  readonly latencyNote: string;
  /**
   * Sends records `from`..`from + count - 1` (record i has value i mod values.length and, where `keys` is given,
   * key i mod keys.length); resolves when all have results.
   */
  produce(from: number, count: number, data: RecordData, latency: LatencySamples | undefined): Promise<RunOutcome>;
  close(): Promise<void>;
}

export interface RecordData {
  readonly values: readonly Buffer[];
  readonly keys: readonly Buffer[] | undefined;
}

export function readConfig(): ClientConfig {
  const text = process.argv[2];
  if (text === undefined) throw new Error('usage: <client>.ts <config JSON>');
  return JSON.parse(text) as ClientConfig;
}

/**
 * Prints a report that says the client cannot run this scenario (bench/lib/contract.ts, `unsupported`) and exits:
 * for an API this build lacks, found only at run time. The bench shows the row as skipped with the reason.
 */
export function reportUnsupported(reason: string): never {
  const report: ClientReport = {
    records: 0, bytes: 0, elapsedMs: 0, p50Ms: null, p99Ms: null, cpuSec: null, rssMB: null, errors: 0, settings: [], unsupported: reason,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exit(0);
}

/** Runs warm-up and measurement with `driver`, prints the report and exits the process. */
export async function runClient(config: ClientConfig, driver: Driver): Promise<never> {
  const values = readPayloads(config.payloadFile);
  const data: RecordData = { values, keys: config.keysFile === undefined ? undefined : readPayloads(config.keysFile) };
  const threads = new ThreadWatch();
  const startRss = process.memoryUsage.rss();
  try {
    // Warm-up takes the measured run's path, latency sampling included (its samples are dropped): the ringkafka
    // driver sends its sampled records with send(), which a warm-up without sampling never ran, so the measured
    // window first compiled the producer's send path and deoptimised the settlement shared with sendBatch. And it
    // is two calls of the driver, so the measured call's closures are not the first made again (warmupCalls).
    for (const { from, count } of warmupCalls(config.warmupRecords)) {
      const warm = await driver.produce(from, count, data, new LatencySamples());
      if (warm.errors > 0) throw new Error(`${warm.errors} warm-up records failed; first: ${warm.firstError}`);
    }

    const latency = new LatencySamples();
    let bytes = 0;
    for (let i = 0; i < config.records; i++) bytes += values[(config.warmupRecords + i) % values.length]!.length;
    const loopDelay = await countingLoopDelay();
    const waitReader = threadWaitReader();
    const ownDelay = waitReader === undefined ? undefined : new OwnLoopDelayWatch(waitReader.read, LOOP_DELAY_RESOLUTION_MS);
    const gc = new GcWatch();
    const memory = new MemoryWatch(startRss);
    const threadsBefore = threads.read();
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const outcome = await driver.produce(config.warmupRecords, config.records, data, latency);
    const elapsedMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    const threadCpu = threads.since(threadsBefore, (cpu.user + cpu.system) / 1e6);
    loopDelay.disable();
    const ownDelayP99 = ownDelay?.stop();
    waitReader?.close();
    const mainGc = gc.stop();
    const memoryAtPeak = memory.stop();

    const [p50, p99, p999, max] = percentiles(latency.values, 0.5, 0.99, 0.999, 1);
    const report: ClientReport = {
      records: config.records,
      bytes,
      elapsedMs,
      p50Ms: p50 ?? null,
      p99Ms: p99 ?? null,
      ...(config.scenario.rate !== undefined && { p999Ms: p999 ?? null, maxMs: max ?? null }),
      cpuSec: (cpu.user + cpu.system) / 1e6,
      // process-wide, worker threads included; the program's own, not the bench's (process-watch.ts)
      rssMB: ownPeakRssMB(),
      eventLoopDelayP99Ms: loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : null,
      ...(ownDelayP99 !== undefined && { eventLoopDelayOwnP99Ms: ownDelayP99 }),
      mainGc,
      memory: memoryAtPeak,
      errors: outcome.errors,
      ...(outcome.firstError !== undefined && { firstError: outcome.firstError }),
      settings: driver.settings,
      latencyNote: driver.latencyNote,
      ...(threadCpu !== undefined && { threads: threadCpu }),
    };
    process.stdout.write(JSON.stringify(report) + '\n');
    await driver.close();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}

/** monitorEventLoopDelay's tick: each sample is the time between two ticks. */
const LOOP_DELAY_RESOLUTION_MS = 2;

/**
 * An event-loop delay histogram already counting. Its first tick only notes the time (a sample is the span between
 * two ticks), so one enabled in the turn the measured run began never saw that turn: a driver's first synchronous
 * stretch, 20–36 ms in ringkafka's, went uncounted. This resolves after the first tick.
 */
export async function countingLoopDelay(): Promise<IntervalHistogram> {
  const histogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  histogram.enable();
  // timers run in the order they fall due: the histogram's first tick comes before this one
  await new Promise((resolve) => setTimeout(resolve, 2 * LOOP_DELAY_RESOLUTION_MS));
  return histogram;
}

/**
 * The main thread's garbage-collection pauses while it runs: what of the event-loop delay the collector holds.
 * A PerformanceObserver sees only its own thread's heap, so a worker's collections are not counted here.
 */
export class GcWatch {
  readonly #pauses: number[] = [];
  readonly #observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.#pauses.push(entry.duration);
  });

  constructor() {
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** Stops watching; the pauses seen (entries still buffered are taken too). */
  stop(): GcPauses {
    for (const entry of this.#observer.takeRecords()) this.#pauses.push(entry.duration);
    this.#observer.disconnect();
    const pauses = this.#pauses;
    return { count: pauses.length, totalMs: pauses.reduce((sum, ms) => sum + ms, 0), maxMs: pauses.reduce((max, ms) => Math.max(max, ms), 0) };
  }
}

const MiB = 1024 * 1024;

/**
 * Samples process.memoryUsage() every 50 ms and keeps the sample with the largest resident set: how much of the peak
 * is the main thread's heap and ArrayBuffers (the ring buffers included), and how much the rest of the process.
 */
export class MemoryWatch {
  readonly #startRss: number;
  readonly #read: () => NodeJS.MemoryUsage;
  #peak: NodeJS.MemoryUsage;
  readonly #timer = setInterval(() => this.#sample(), 50).unref();

  /** `startRss`: the resident set before the client produced anything, in bytes. `read`: for tests. */
  constructor(startRss: number, read: () => NodeJS.MemoryUsage = () => process.memoryUsage()) {
    this.#startRss = startRss;
    this.#read = read;
    this.#peak = read();
  }

  #sample(): void {
    const usage = this.#read();
    if (usage.rss > this.#peak.rss) this.#peak = usage;
  }

  /** Stops sampling (one last sample first); the peak seen. */
  stop(): MemoryAtPeak {
    this.#sample();
    clearInterval(this.#timer);
    const peak = this.#peak;
    return {
      startRssMB: this.#startRss / MiB,
      rssMB: peak.rss / MiB,
      heapUsedMB: peak.heapUsed / MiB,
      heapTotalMB: peak.heapTotal / MiB,
      arrayBuffersMB: peak.arrayBuffers / MiB,
    };
  }
}

interface ThreadReading {
  readonly main: number;
  /** Seconds the main thread waited for a CPU (schedstat only). */
  readonly mainWait: number | undefined;
  readonly workers: ReadonlyMap<number, number>;
  /** Every other thread of the process: tid → its name (/proc comm) and CPU seconds. */
  readonly others: ReadonlyMap<number, { readonly name: string; readonly sec: number }>;
  readonly elu: ReturnType<typeof performance.eventLoopUtilization>;
  /** The fixed-rate pacer's sleeps so far, ms (pacing.ts): time the loop was held but did no work. */
  readonly pacerSleptMs: number;
  readonly source: 'schedstat' | 'stat';
}

/**
 * CPU by thread. The main thread's Linux thread id is the process id; worker threads announce theirs when they
 * start (thread-tag.mjs, preloaded into the Node clients; only ringkafka starts workers, which inherit the flag). Everything
 * else the process ran — libuv's pool, V8's GC and compiler threads, native add-ons' threads — is the process
 * total less those. Undefined where /proc cannot be read.
 */
class ThreadWatch {
  read(): ThreadReading | undefined {
    const main = readThreadCpu(process.pid);
    if (main === undefined) return undefined;
    const workers = new Map<number, number>();
    const tids = (globalThis as Record<symbol, unknown>)[WORKER_TIDS];
    for (const tid of Array.isArray(tids) ? (tids as number[]) : []) {
      const cpu = readThreadCpu(tid);
      if (cpu !== undefined) workers.set(tid, cpu.sec);
    }
    const others = new Map<number, { name: string; sec: number }>();
    for (const entry of readdirSync('/proc/self/task')) {
      const tid = Number(entry);
      if (tid === process.pid || workers.has(tid)) continue;
      const cpu = readThreadCpu(tid);
      if (cpu === undefined) continue;
      let name = '?';
      try {
        name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      } catch {
        // gone since the listing
      }
      others.set(tid, { name, sec: cpu.sec });
    }
    return {
      main: main.sec, mainWait: main.waitSec, workers, others, elu: performance.eventLoopUtilization(), pacerSleptMs: pacerSleptMs(), source: main.source,
    };
  }

  /** The CPU by thread since `before`; `totalSec` is the whole process's over the same span. */
  since(before: ThreadReading | undefined, totalSec: number): ThreadCpu | undefined {
    const after = this.read();
    if (before === undefined || after === undefined) return undefined;
    const mainCpuSec = after.main - before.main;
    // a worker that started or ended inside the window counts from zero, or until it was last seen
    const workerCpuSec = [...after.workers].map(([tid, sec]) => sec - (before.workers.get(tid) ?? 0));
    const named = mainCpuSec + workerCpuSec.reduce((sum, sec) => sum + sec, 0);
    const otherByName: Record<string, number> = {};
    for (const [tid, { name, sec }] of after.others) {
      const spent = sec - (before.others.get(tid)?.sec ?? 0);
      if (spent > 0) otherByName[name] = (otherByName[name] ?? 0) + spent;
    }
    return {
      mainCpuSec,
      workerCpuSec,
      otherByName,
      // two clocks (rusage, schedstat) that agree to a few ms: never below zero
      otherCpuSec: Math.max(0, totalSec - named),
      mainElu: eluLessSleep(performance.eventLoopUtilization(after.elu, before.elu), after.pacerSleptMs - before.pacerSleptMs),
      ...(after.mainWait !== undefined && before.mainWait !== undefined && { mainWaitSec: after.mainWait - before.mainWait }),
      source: after.source,
    };
  }
}

/**
 * Keeps up to `window` calls in flight: `start(i)` begins call i of `calls` and resolves when it has its result.
 * This is how an ingestion service drives a client for throughput: many requests' records outstanding at once.
 *
 * Calls begin one per turn of the event loop, as a service's requests arrive (each from its socket, in a callback
 * of its own), never many in one synchronous stretch: started together, a run's first calls (up to 64 of 1 MiB)
 * held the loop 20–36 ms in one turn (every record of a ringkafka call is checked when the call is made), and calls
 * whose predecessors resolved together began together again. A service meets that only if its requests do.
 */
export async function inWindows(calls: number, window: number, start: (call: number) => Promise<void>): Promise<void> {
  const turns = new OnePerTurn();
  let next = 0;
  const lanes = Array.from({ length: Math.min(window, calls) }, async () => {
    for (;;) {
      await turns.next();
      if (next >= calls) return;
      await start(next++);
    }
  });
  await Promise.all(lanes);
}

/** Lets its waiters go one per turn of the event loop, in the order they asked. */
export class OnePerTurn {
  /** At most one entry per lane of inWindows, so shift() is cheap. */
  readonly #waiting: (() => void)[] = [];

  /** Resolves in a turn of its own, after every earlier waiter's. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#waiting.push(resolve) === 1) setImmediate(this.#release);
    });
  }

  // An immediate scheduled while immediates run waits for the next turn: one waiter per turn, timers and I/O between.
  readonly #release = (): void => {
    const resolve = this.#waiting.shift()!;
    if (this.#waiting.length > 0) setImmediate(this.#release);
    resolve();
  };
}

/**
 * Bytes of records per call for the clients whose call is the batch (KafkaJS, @platformatic/kafka): `chunkBytes`,
 * but no more than half a batch per partition. With 16 partitions a 1 MiB call is 64 KiB per partition; on one
 * partition a 1 MiB call would be one batch over the broker's 1 MiB message limit (MESSAGE_TOO_LARGE), so there
 * the calls are 512 KiB.
 */
export function callBytes(config: ClientConfig): number {
  return Math.min(config.chunkBytes, Math.floor((config.partitions * config.batchBytes) / 2));
}

/** How many records of `valueBytes` make one call of about `chunkBytes`. */
export function recordsPerCall(chunkBytes: number, valueBytes: number): number {
  return Math.max(1, Math.floor(chunkBytes / valueBytes));
}

/**
 * A Node driver's calls flat out: `callRecords` records each (`--call-records`; not at a fixed rate, where the
 * records due make a call), else about `defaultBytes` of them, never over `maxBytes` (where a call is the batch,
 * callBytes); and as many outstanding as hold `bufferBytes`, so smaller calls leave the client as much to buffer
 * as the native clients' buffers hold.
 */
export function callPlan(config: ClientConfig, defaultBytes: number, maxBytes = Infinity): { perCall: number; window: number } {
  const valueBytes = config.scenario.valueBytes;
  const asked = config.scenario.rate === undefined ? config.callRecords : undefined;
  const perCall = Math.min(asked ?? recordsPerCall(defaultBytes, valueBytes), recordsPerCall(maxBytes, valueBytes));
  return { perCall, window: Math.max(1, Math.floor(config.bufferBytes / (perCall * valueBytes))) };
}

/**
 * Drives a client whose call is the batch (KafkaJS, @platformatic/kafka): `send(start, end)` sends records
 * start..end-1 in one call and rejects when it failed (`describe` names the failure). Flat out: calls of `perCall`
 * records, up to `window` outstanding, each call's latency its messages'. At a fixed rate: on each wake of the pacer
 * one call of the records due, at most `window` outstanding, each acknowledged record's latency from its own due time.
 */
export async function produceInCalls(
  config: ClientConfig,
  from: number,
  count: number,
  perCall: number,
  window: number,
  latency: LatencySamples | undefined,
  send: (start: number, end: number) => Promise<void>,
  describe: (error: unknown) => string,
): Promise<RunOutcome> {
  let errors = 0;
  let firstError: string | undefined;
  const call = async (start: number, end: number): Promise<boolean> => {
    try {
      await send(start, end);
      return true;
    } catch (error) {
      errors += end - start;
      firstError ??= describe(error);
      return false;
    }
  };
  const rate = config.scenario.rate;
  if (rate !== undefined) {
    await paced(count, rate, window, async (first, end, dueAt) => {
      if (!(await call(from + first, from + end)) || latency === undefined) return;
      const now = performance.now();
      for (let j = first; j < end; j++) latency.add(now - dueAt(j));
    });
  } else {
    await inWindows(Math.ceil(count / perCall), window, async (n) => {
      const start = from + n * perCall;
      const sent = performance.now();
      if (await call(start, Math.min(from + count, start + perCall))) latency?.add(performance.now() - sent);
    });
  }
  return { errors, firstError };
}
