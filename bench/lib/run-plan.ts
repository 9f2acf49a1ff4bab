/**
 * How long `npm run bench` runs: the preset (default, `--quick`, `--full`) and the explicit options that override
 * it, turned into records, repetitions and durations. Kept apart from throughput.ts so the arithmetic is tested.
 *
 * The default is what a newcomer's `npm ci && npm run bench` should get: every client and scenario, done in about
 * ten minutes on two cores. `--quick` is a smoke run; `--full` is the million-record runs.
 */

export type Preset = 'default' | 'quick' | 'full';

export interface RunPlan {
  readonly preset: Preset;
  /** Measured records per saturation run. */
  readonly records: number;
  /** Records sent first and not measured, per saturation run of small records (runSize caps it by bytes). */
  readonly warmupRecords: number;
  /** Runs per client and saturation scenario (the median is shown). */
  readonly repeats: number;
  /** Runs per client and fixed-rate scenario. */
  readonly rateRepeats: number;
  /** Measured seconds of each fixed-rate run. */
  readonly rateSeconds: number;
  /** Warm-up seconds of each fixed-rate run, at the same rate. */
  readonly rateWarmupSeconds: number;
  /** Seconds of producing to Apache Kafka before the first measured run (broker-warmup.ts); 0: none. */
  readonly brokerWarmupSeconds: number;
}

const PRESETS: Record<Preset, Omit<RunPlan, 'preset' | 'warmupRecords'>> = {
  // A latency percentile from one run of 10 s at 2,000/s rests on 20,000 samples: one run is enough to read p99.9.
  // A fresh broker needed about 30 s of load to reach its steady rate on the bench machine (broker-warmup.ts).
  // At a fixed rate a JIT compiles slowly (code runs once per request, not per record): after 2 s of warm-up
  // ringkafka's measured 10 s still carried 2.3 µs per record of V8's compiler threads at 20,000/s and 18–20 at
  // 2,000/s, 0.6–0.8 and 5.2–5.7 after 10 s (bench/README.md). The smoke run keeps 2 s.
  default: { records: 100_000, repeats: 3, rateRepeats: 1, rateSeconds: 10, rateWarmupSeconds: 10, brokerWarmupSeconds: 30 },
  quick: { records: 50_000, repeats: 1, rateRepeats: 1, rateSeconds: 5, rateWarmupSeconds: 2, brokerWarmupSeconds: 10 },
  full: { records: 1_000_000, repeats: 3, rateRepeats: 3, rateSeconds: 60, rateWarmupSeconds: 15, brokerWarmupSeconds: 30 },
};

export interface PlanOptions {
  readonly quick?: boolean | undefined;
  readonly full?: boolean | undefined;
  readonly records?: string | undefined;
  readonly repeat?: string | undefined;
  readonly rateSeconds?: string | undefined;
  readonly rateWarmup?: string | undefined;
  readonly brokerWarmup?: string | undefined;
}

/** The warm-up of a saturation run of small records, whatever its size. */
export const WARMUP_RECORDS = 300_000;
/**
 * At most this many bytes of values are sent as warm-up, and never fewer than WARMUP_MIN_RECORDS records: a JIT
 * warms with records handled, the broker's disk fills with bytes. 300,000 records of 1 KiB per run (400 MB with
 * the measured ones, 18 runs a scenario) made the 1 KiB scenarios disk-bound on the bench machine, every client
 * slower and ringkafka most (1KiB-none 191k against 491k records/s with 100,000 of warm-up), as the kernel held
 * the broker's writes back.
 */
export const WARMUP_MAX_BYTES = 100 * 1024 * 1024;
export const WARMUP_MIN_RECORDS = 100_000;

/** `text` as an integer of at least `min`, or an error naming `option`. */
function integerOption(text: string, option: string, min: 0 | 1): number {
  const n = Number(text);
  if (!(text.trim() !== '' && Number.isInteger(n) && n >= min)) {
    throw new Error(`${option} must be a ${min === 0 ? 'non-negative' : 'positive'} integer, got ${text}`);
  }
  return n;
}

/**
 * The preset the flags name, with `--records`, `--repeat`, `--rate-seconds`, `--rate-warmup` and `--broker-warmup`
 * applied over it.
 */
export function resolvePlan(options: PlanOptions): RunPlan {
  if (options.quick === true && options.full === true) throw new Error('--quick and --full exclude each other');
  const preset: Preset = options.quick === true ? 'quick' : options.full === true ? 'full' : 'default';
  const base = PRESETS[preset];
  const records = options.records !== undefined ? integerOption(options.records, '--records', 1) : base.records;
  const repeat = options.repeat !== undefined ? integerOption(options.repeat, '--repeat', 1) : undefined;
  const rateSeconds = options.rateSeconds !== undefined ? integerOption(options.rateSeconds, '--rate-seconds', 1) : base.rateSeconds;
  return {
    preset,
    records,
    // Enough for a JIT to reach its steady state: after 10,000 records ringkafka's measured 100,000 still paid for
    // tier-up compiles and the first old-generation collections, ~1 µs of background CPU per record; after 100,000
    // its 100B-none was 896k records/s on kfake against 1.40M after 300,000, and 1,000,000 added nothing more
    // (bench/README.md).
    warmupRecords: Math.max(WARMUP_RECORDS, Math.round(records / 10)),
    repeats: repeat ?? base.repeats,
    // an explicit --repeat means every scenario
    rateRepeats: repeat ?? base.rateRepeats,
    rateSeconds,
    rateWarmupSeconds: options.rateWarmup !== undefined ? integerOption(options.rateWarmup, '--rate-warmup', 1) : base.rateWarmupSeconds,
    brokerWarmupSeconds: options.brokerWarmup !== undefined ? integerOption(options.brokerWarmup, '--broker-warmup', 0) : base.brokerWarmupSeconds,
  };
}

export interface RunSize {
  readonly records: number;
  readonly warmupRecords: number;
  readonly repeats: number;
  /** Time one record in this many: every record at a fixed rate, where the percentiles' tail is the point. */
  readonly sampleEvery: number;
  /** After this a client is stopped and its run reported as failed, not waited for. */
  readonly timeoutMs: number;
}

/**
 * One client's run of `scenario` under `plan`. A saturation scenario sends the plan's records after its warm-up
 * (at most WARMUP_MAX_BYTES of values, at least WARMUP_MIN_RECORDS records); a fixed-rate one sends
 * `rate × rateSeconds` after `rate × rateWarmupSeconds` of warm-up at the same rate.
 */
export function runSize(scenario: { readonly valueBytes: number; readonly rate?: number }, plan: RunPlan, sampleEvery: number): RunSize {
  if (scenario.rate === undefined) {
    const warmupRecords = Math.max(WARMUP_MIN_RECORDS, Math.min(plan.warmupRecords, Math.floor(WARMUP_MAX_BYTES / scenario.valueBytes)));
    return {
      records: plan.records,
      warmupRecords,
      repeats: plan.repeats,
      sampleEvery,
      // generous: at least 1 MB/s after a minute for start-up and warm-up; a stuck client fails, it does not hang
      timeoutMs: 60_000 + ((plan.records + warmupRecords) * scenario.valueBytes) / 1000,
    };
  }
  return {
    records: Math.round(scenario.rate * plan.rateSeconds),
    warmupRecords: Math.round(scenario.rate * plan.rateWarmupSeconds),
    repeats: plan.rateRepeats,
    sampleEvery: 1,
    // a paced run takes its schedule's time; twice that, plus a minute for start-up, before it counts as stuck
    timeoutMs: 60_000 + 2000 * (plan.rateSeconds + plan.rateWarmupSeconds),
  };
}

/** One call of a client driver's `produce` during the warm-up: records `from`..`from + count - 1`. */
export interface WarmupCall {
  readonly from: number;
  readonly count: number;
}

/**
 * The warm-up's records as the driver calls that send them: two calls, so the measured call is a driver's third.
 *
 * Why: a driver makes its closures in each `produce` call (the per-call callback that builds a sendBatch's records,
 * the failure counter), and V8 compiles code specialised to the one closure a site has made so far; the site's
 * second closure is compiled anew. With the whole warm-up in one call, the measured call made the second closures
 * and the measured window paid for that compile: ringkafka's driver callback inlines the synchronous part of
 * sendBatch, and `--trace-opt` showed 124 ms of optimising compilation (22 functions) inside an 87 ms window of
 * 100,000 records at 100B-none on kfake, against 17 ms (5 functions) with the warm-up split in two. On the same
 * runs ringkafka's CPU per record fell from 0.98–1.13 to 0.62–0.63 µs (V8's helper threads 0.40–0.50 → 0.11–0.14)
 * and its records/s rose from 1.39–1.53M to 2.15–2.51M (three alternated pairs); KafkaJS and @platformatic/kafka,
 * whose measured runs last 250–600 ms, moved within noise (two pairs each). bench/README.md has the method.
 */
export function warmupCalls(warmupRecords: number): WarmupCall[] {
  if (warmupRecords <= 0) return [];
  if (warmupRecords === 1) return [{ from: 0, count: 1 }];
  const first = Math.floor(warmupRecords / 2);
  return [{ from: 0, count: first }, { from: first, count: warmupRecords - first }];
}

/**
 * The order in which repetition `repeat` (counting from 0) runs the clients. Within a repetition each client runs
 * after the one before it, on a broker still busy with that one's topic (its log written back, its deletion) and a
 * machine still cooling from it; always first, or always after the same neighbour, would put the same share of that
 * on one client in every repetition. So the first repetition keeps the given order, and each later one is its own
 * shuffle, seeded by its number: the same in every run of the bench, and different from one repetition to the next.
 * (Rotating the list moved the first place but kept every client's neighbour: librdkafka always ran after franz-go.)
 */
export function runOrder<T>(clients: readonly T[], repeat: number): T[] {
  const order = [...clients];
  if (repeat === 0) return order;
  let seed = (repeat * 0x9e3779b1) >>> 0;
  for (let i = order.length - 1; i > 0; i--) {
    // xorshift32: a fixed sequence per seed, no Math.random.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
