/**
 * `npm run bench`: ringkafka's throughput against its peers, every client in its own process, in one run against
 * one broker. See bench/README.md for what each column means and where the clients' settings differ.
 *
 *   npm run bench                          every client and scenario, about ten minutes on two cores (run-plan.ts)
 *   npm run bench -- --quick               a smoke run: fewer records, one run each
 *   npm run bench -- --full                1,000,000 records per client and scenario, median of 3
 *   npm run bench -- --repeat 1            one run per client and scenario instead of the preset's
 *   npm run bench -- --clients ringkafka,franz-go --scenarios 100B-lz4 --records 500000
 *   npm run bench -- --broker kfake        against franz-go's in-memory fake cluster instead of Apache Kafka
 *   npm run bench -- --workers 1,2,4       ringkafka once per worker count (rows `ringkafka (2 workers)` …)
 *   npm run bench -- --broker-warmup 0     no producing to Apache Kafka before the first run (default 30 s)
 *   npm run bench -- --rate-warmup 2       2 s of warm-up before each fixed-rate run's measured seconds (default 10)
 *   npm run bench -- --call-records 100    the Node drivers' calls of 100 records each instead of ~1 MiB
 *
 * Starts the local broker unless KAFKA_BROKERS is set (or --broker kfake), creates a fresh topic per client and
 * scenario, counts at the broker what each client wrote before deleting its topic, and writes
 * bench/results/latest.json and latest.svg. Peers that cannot run here, or cannot run a scenario, are listed as
 * skipped, with the reason. Ctrl-C (SIGINT) or SIGTERM stops the running client and the broker the bench started.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { status as localNodes } from '../scripts/kafka/cluster.js';
import { TLS_DIR, sslPort } from '../scripts/kafka/config.js';
import { listening, useBroker } from '../test/helpers/broker.js';
import { CLIENTS, rateTimingOf, ringkafkaWithWorkers, runOne, skippedRow, slug, type ClientSpec, type RunRow } from './lib/clients.js';
import type { ClientConfig, Scenario, TlsFiles } from './lib/contract.js';
import { startKfake, type Kfake } from './lib/kfake.js';
import { brokerUsPerRecord, processCpuSec } from './lib/broker-cpu.js';
import { killRunning } from './lib/process-watch.js';
import { warmBroker, type WarmupRound } from './lib/broker-warmup.js';
import { writeKeyFile, writePayloadFile } from './lib/payload.js';
import { cell, describeMachine, markdownTable, Progress, table } from './lib/report.js';
import { resolvePlan, runOrder, runSize, WARMUP_MAX_BYTES, type RunSize } from './lib/run-plan.js';
import { medianRow, standingLine } from './lib/rows.js';
import { BENCH_DIR, prepare, prepareKfake, type SetupStep } from './lib/setup.js';
import { round } from './lib/stats.js';
import { groupedBarChart, shortNumber } from './lib/svg.js';
import { countMismatch, Topics } from './lib/topics.js';

const SCENARIOS: readonly Scenario[] = [
  { name: '100B-none', valueBytes: 100, compression: 'none' },
  { name: '100B-lz4', valueBytes: 100, compression: 'lz4' },
  { name: '1KiB-none', valueBytes: 1024, compression: 'none' },
  { name: '1KiB-lz4', valueBytes: 1024, compression: 'lz4' },
  // One partition: one batch in the making at a time, one worker's connection (ringkafka), no spreading.
  { name: '100B-lz4-1p', valueBytes: 100, compression: 'lz4', partitions: 1 },
  // 1,000 distinct keys placed by murmur2: the partitioner's hashing on every record.
  { name: '100B-keyed', valueBytes: 100, compression: 'lz4', keys: 1000 },
  // Mutual TLS to the broker's SSL listener: encryption on every connection.
  { name: '100B-lz4-tls', valueBytes: 100, compression: 'lz4', tls: true },
  // At a fixed offered rate, as a service sees it: latency at normal load, not queueing under saturation.
  { name: 'rate-20k-100B', valueBytes: 100, compression: 'none', rate: 20_000 },
  { name: 'rate-2k-1KiB-keyed-lz4', valueBytes: 1024, compression: 'lz4', keys: 1000, rate: 2000 },
  // Transactions of 10,000 records, each committed: what the transaction protocol costs on top of 100B-lz4.
  { name: '100B-txn', valueBytes: 100, compression: 'lz4', transactionRecords: 10_000 },
];
/**
 * Run only when `--scenarios` names them: not every client has a transactional driver, and the default run's
 * length (bench/README.md) is kept.
 */
const OPT_IN = new Set(['100B-txn']);
const isRate = (name: string): boolean => SCENARIOS.find((s) => s.name === name)?.rate !== undefined;

/** The same for every client that has the setting (bench/README.md lists where one differs). */
const SETTINGS = {
  lingerMs: 5,
  batchBytes: 1024 * 1024,
  bufferBytes: 64 * 1024 * 1024,
  bufferRecords: 1_000_000,
  chunkBytes: 1024 * 1024,
  sampleEvery: 64,
};

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    clients: { type: 'string' },
    scenarios: { type: 'string' },
    records: { type: 'string' },
    partitions: { type: 'string', default: '16' },
    repeat: { type: 'string' },
    'rate-seconds': { type: 'string' },
    'rate-warmup': { type: 'string' },
    'broker-warmup': { type: 'string' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
    broker: { type: 'string', default: 'kafka' },
    workers: { type: 'string' },
    'tls-dir': { type: 'string' },
    'tls-brokers': { type: 'string' },
    'call-records': { type: 'string' },
  },
});
if (args.broker !== 'kafka' && args.broker !== 'kfake') throw new Error(`--broker must be kafka or kfake, got ${args.broker}`);
const kfakeBroker = args.broker === 'kfake';

function pick<T extends { name: string }>(all: readonly T[], list: string | undefined, what: string): T[] {
  if (list === undefined) return all.filter((item) => !OPT_IN.has(item.name));
  return list.split(',').map((name) => {
    const found = all.find((item) => item.name === name.trim());
    if (found === undefined) throw new Error(`unknown ${what} '${name}'; known: ${all.map((i) => i.name).join(', ')}`);
    return found;
  });
}

/** `--workers 1,2,4`: ringkafka's row becomes one row per worker count. */
function withWorkerCounts(picked: readonly ClientSpec[], list: string | undefined): ClientSpec[] {
  if (list === undefined) return [...picked];
  const counts = list.split(',').map((n) => Number(n.trim()));
  if (!counts.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`--workers must list positive integers, got ${list}`);
  return picked.flatMap((client) => (client.name === 'ringkafka' ? counts.map(ringkafkaWithWorkers) : [client]));
}

const clients = withWorkerCounts(pick(CLIENTS, args.clients, 'client'), args.workers);
const scenarios = pick(SCENARIOS, args.scenarios, 'scenario');
const plan = resolvePlan({ ...args, rateSeconds: args['rate-seconds'], rateWarmup: args['rate-warmup'], brokerWarmup: args['broker-warmup'] });
const { records, warmupRecords, repeats } = plan;
const partitions = Number(args.partitions);
if (!(Number.isInteger(partitions) && partitions > 0)) throw new Error(`--partitions must be a positive integer`);
const callRecords = args['call-records'] === undefined ? undefined : Number(args['call-records']);
if (callRecords !== undefined && !(Number.isInteger(callRecords) && callRecords > 0)) throw new Error(`--call-records must be a positive integer`);

const sizeOf = (scenario: Scenario): RunSize => runSize(scenario, plan, SETTINGS.sampleEvery);
const progress = new Progress(clients.length * scenarios.reduce((sum, s) => sum + sizeOf(s).repeats, 0));

const runId = Date.now().toString(36);
const topicName = (client: ClientSpec, scenario: Scenario, repeat: number): string =>
  `bench-${runId}-${slug(client.name)}-${scenario.name}-${repeat}`.toLowerCase();
const partitionsOf = (scenario: Scenario): number => scenario.partitions ?? partitions;

const external = kfakeBroker || Boolean(process.env.KAFKA_BROKERS);
let kfake: Kfake | undefined;
let brokers: string[];

/**
 * Interrupted (Ctrl-C, SIGTERM): Node's default would end the bench at once, running no 'exit' handler, and leave the
 * client process of the current run producing and the broker the bench started serving. So the client is killed,
 * kfake told to stop (SIGTERM, which it handles), and the bench exits with 128 + the signal's number, as a shell
 * reports it (130, 143); exiting runs the 'exit' handler that stops the local Kafka if this bench started it
 * (useBroker). All of it synchronously: awaiting anything would let the loop below start the next client meanwhile.
 */
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    progress.note(`${signal}: stopping the running client${kfake !== undefined ? ' and kfake' : ''}, then exiting`);
    killRunning();
    try {
      if (kfake?.pid !== undefined) process.kill(kfake.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    process.exit(code);
  });
}

if (kfakeBroker) {
  progress.note('building and starting kfake, the in-memory broker…');
  const built = await prepareKfake();
  if (!built.ready) throw new Error(`--broker kfake: ${built.reason}`);
  // Every topic of the run exists from the start, with its scenario's partitions (CreateTopics then finds it).
  const seeded = new Map<string, number>();
  for (const scenario of scenarios) {
    for (const client of clients) for (let r = 1; r <= sizeOf(scenario).repeats; r++) seeded.set(topicName(client, scenario, r), partitionsOf(scenario));
  }
  kfake = await startKfake(seeded, partitions);
  brokers = [...kfake.brokers];
  progress.note(`brokers: ${brokers.join(',')} (${kfake.versions})`);
} else {
  progress.note(external ? `brokers: ${process.env.KAFKA_BROKERS}` : 'starting the local Kafka broker (if it is not running)…');
  brokers = await useBroker();
}
// The local broker's log dirs, when the bench runs against it: on disk or in memory (npm run kafka -- start
// --log-dirs memory) changes the 1 KiB scenarios' numbers (scripts/kafka/log-dirs.ts), so the report says which.
const localNode = kfake === undefined ? (await localNodes()).find((n) => n.running && brokers.includes(n.address)) : undefined;
const localLogDir = localNode?.logDir;
/** The broker process on this machine whose CPU each run reports (broker-cpu.ts): kfake, or the local cluster's node. */
const brokerPid = kfake?.pid ?? localNode?.pid ?? undefined;
if (localNode?.logDirPlace === 'disk') {
  progress.note(
    `the local broker keeps its logs on disk (${localNode.logDir}): the disk's writeback may decide the 1 KiB scenarios; ` +
      '`npm run kafka -- stop`, then `npm run kafka -- start --secure --log-dirs memory` (bench/README.md, Method)',
  );
}

// Per client and scenario, since a scenario may need a setup of its own (Java's transactional driver).
const setupOf = (client: ClientSpec, scenario: Scenario): SetupStep => client.setupFor?.(scenario) ?? client.setup;
const neededSteps = [...new Set(clients.flatMap((c) => scenarios.map((s) => setupOf(c, s))))];
progress.note(`preparing peers: ${neededSteps.filter((s) => s !== 'none').join(', ') || 'none'}…`);
const readiness = new Map(await Promise.all(neededSteps.map(async (step) => [step, await prepare(step)] as const)));
for (const client of clients) {
  const reasons = new Set(scenarios.map((s) => readiness.get(setupOf(client, s))!).flatMap((r) => (r.ready ? [] : [r.reason])));
  for (const reason of reasons) progress.note(`${client.name}: skipped — ${reason}`);
}

const work = await mkdtemp(join(tmpdir(), 'ringkafka-bench-'));
const payloads = new Map(scenarios.map((s) => [s.valueBytes, writePayloadFile(work, s.valueBytes)]));
const keyFiles = new Map(scenarios.filter((s) => s.keys !== undefined).map((s) => [s.keys!, writeKeyFile(work, s.keys!)]));
const tlsSetup = scenarios.some((s) => s.tls) ? await prepareTls() : undefined;
const topics = await Topics.connect(brokers);
const rows: RunRow[] = [];
const settings: Record<string, readonly string[]> = {};

/**
 * The TLS scenario's listener and files: `--tls-brokers`, else KAFKA_SSL_BROKERS, else the local broker's SSL
 * port; `--tls-dir`, else KAFKA_TLS_DIR, else the local broker's .kafka/tls (ca.pem, client.pem, client.key).
 */
async function prepareTls(): Promise<{ brokers: string[]; files: TlsFiles } | { skip: string }> {
  if (kfakeBroker) return { skip: 'kfake: this bench starts it without a TLS listener' };
  const dir = args['tls-dir'] ?? process.env.KAFKA_TLS_DIR ?? TLS_DIR;
  const [ca, cert, key] = ['ca.pem', 'client.pem', 'client.key'].map((name) => join(dir, name)) as [string, string, string];
  const missing = [ca, cert, key].filter((path) => !existsSync(path));
  if (missing.length > 0) return { skip: `no TLS files: ${missing.join(', ')} (--tls-dir)` };
  const list = args['tls-brokers'] ?? process.env.KAFKA_SSL_BROKERS ?? `127.0.0.1:${sslPort(1)}`;
  const tlsBrokers = list.split(',').map((a) => a.trim()).filter(Boolean);
  if (!(await listening(tlsBrokers[0]!))) return { skip: `nothing listens on ${tlsBrokers[0]} (--tls-brokers)` };
  const keyAndCert = join(work, 'client-key-and-cert.pem');
  writeFileSync(keyAndCert, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'), { mode: 0o600 });
  return { brokers: tlsBrokers, files: { ca, cert, key, keyAndCert } };
}

/** Why `client` cannot run `scenario` here, or undefined. */
function cannotRun(client: ClientSpec, scenario: Scenario): string | undefined {
  const own = client.cannot?.(scenario);
  if (own !== undefined) return own;
  if (scenario.tls && tlsSetup !== undefined && 'skip' in tlsSetup) return tlsSetup.skip;
  return undefined;
}

/** The broker warm-up's rounds (broker-warmup.ts); none against kfake, or with `--broker-warmup 0`. */
let brokerWarmup: WarmupRound[] = [];

try {
  if (!kfakeBroker && plan.brokerWarmupSeconds > 0) {
    progress.note(`warming the broker up: producing for ${plan.brokerWarmupSeconds} s before the first measured run…`);
    brokerWarmup = await warmBroker(brokers, topics, `bench-${runId}-broker-warmup`, plan.brokerWarmupSeconds).catch((error: unknown) => {
      throw new Error(`the broker warm-up failed (--broker-warmup 0 skips it): ${String(error)}`, { cause: error });
    });
    progress.note(`broker warm-up, records/s by round: ${brokerWarmup.map((r) => `${r.shape} ${shortNumber(r.recordsPerSec)}`).join(', ')}`);
  }
  for (const scenario of scenarios) {
    // Repetitions go round all clients in turn, so a burst of noise on the machine hits every client alike, each in
    // its own order (runOrder), so no client always follows the same one.
    const attempts = new Map<string, RunRow[]>();
    const size = sizeOf(scenario);
    const repeats = size.repeats;
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const client of runOrder(clients, repeat - 1)) {
        progress.start(`${client.name} ${scenario.name}${repeats > 1 ? ` (${repeat}/${repeats})` : ''}`);
        const ready = readiness.get(setupOf(client, scenario))!;
        const cannot = ready.ready ? cannotRun(client, scenario) : ready.reason;
        if (cannot !== undefined) {
          if (repeat === 1) attempts.set(client.name, [skippedRow(client.name, scenario.name, cannot)]);
          progress.step();
          continue;
        }
        const topic = topicName(client, scenario, repeat);
        await topics.create(topic, partitionsOf(scenario));
        const tls = scenario.tls && tlsSetup !== undefined && !('skip' in tlsSetup) ? tlsSetup : undefined;
        const config: ClientConfig = {
          brokers: tls?.brokers ?? brokers, topic, partitions: partitionsOf(scenario), scenario, payloadFile: payloads.get(scenario.valueBytes)!, ...SETTINGS,
          records: size.records, warmupRecords: size.warmupRecords, sampleEvery: size.sampleEvery,
          ...(scenario.keys !== undefined && { keysFile: keyFiles.get(scenario.keys)! }),
          ...(tls !== undefined && { tls: tls.files }),
          ...(callRecords !== undefined && { callRecords }),
        };
        const brokerBefore = processCpuSec(brokerPid);
        const run = await runOne(client, config, size.timeoutMs);
        const brokerUs = brokerUsPerRecord(brokerBefore, processCpuSec(brokerPid), size.records + size.warmupRecords);
        let row: RunRow = run.row.skipped === undefined && brokerUs !== undefined ? { ...run.row, brokerUsPerRecord: brokerUs } : run.row;
        if (row.skipped === undefined) {
          // Every client counts its own records; the broker's count, taken before the topic goes, is what stands.
          const sent = { warmupRecords: size.warmupRecords, records: size.records, transactionRecords: scenario.transactionRecords };
          const mismatch = await topics.recordCount(topic).then(
            (found) => countMismatch(sent, found),
            (error: unknown) => `cannot count the records at the broker: ${String(error)}`,
          );
          if (mismatch !== undefined) row = skippedRow(client.name, scenario.name, `run failed: ${mismatch}`);
        }
        attempts.set(client.name, [...(attempts.get(client.name) ?? []), row]);
        if (run.settings.length > 0) settings[client.name] ??= run.settings;
        if (row.skipped !== undefined) progress.note(`${client.name} ${scenario.name}: ${row.skipped}`);
        const failure = await topics.delete(topic);
        if (failure !== undefined) progress.note(failure);
        progress.step();
      }
    }
    for (const client of clients) rows.push(medianRow(attempts.get(client.name)!, scenario.rate !== undefined));
  }
} finally {
  progress.finish();
  await topics.close();
  await kfake?.close();
  await rm(work, { recursive: true, force: true });
}

// ── output ─────────────────────────────────────────────────────────────────────────────────────────────────────

const machine = describeMachine(
  external, kfake !== undefined ? `${kfake.versions}, in memory on this machine (--broker kfake)` : undefined, localLogDir,
);
const headers = [
  'client', 'scenario', 'records/s', 'range', 'MB/s', 'p50 ms', 'p99 ms', 'CPU s/GB', 'CPU µs/rec', 'broker µs/rec', 'main µs/rec',
  'workers µs/rec', 'other µs/rec', 'main ELU', 'RSS MiB', 'ELD p99 ms', 'ELD p99 own ms', 'main waited', 'GC max ms', 'note',
];
const note = (r: RunRow): string =>
  (r.skipped !== undefined ? `skipped: ${r.skipped}` : r.failedRepeats !== undefined ? `${r.failedRepeats} repeat(s) failed: ${r.failure}` : '').slice(0, 120);
const saturationRows = rows.filter((r) => !isRate(r.scenario));
const rateRows = rows.filter((r) => isRate(r.scenario));
const cells = saturationRows.map((r) => [
  r.client, r.scenario, cell(r.recordsPerSec),
  r.recordsPerSecMin !== undefined && (r.repeats ?? 1) > 1 ? `${shortNumber(r.recordsPerSecMin)}–${shortNumber(r.recordsPerSecMax!)}` : '',
  cell(r.mbPerSec), cell(r.p50Ms), cell(r.p99Ms), cell(r.cpuSecPerGB), cell(r.cpuUsPerRecord), cell(r.brokerUsPerRecord), cell(r.mainUsPerRecord),
  // each worker's own, joined with '+' (their sum is the workers' share)
  r.workerUsPerRecord === undefined || r.workerUsPerRecord.length === 0 ? '—' : r.workerUsPerRecord.map((us) => cell(us)).join('+'),
  // ELD p99 own: the delay less the main thread's wait for a core, tick by tick; main waited: that wait's share of
  // the run (what of the event-loop delay was not the client's own doing)
  cell(r.otherUsPerRecord), percent(r.mainElu), cell(r.rssMB), cell(r.eventLoopDelayP99Ms), cell(r.eventLoopDelayOwnP99Ms), percent(r.mainWaitShare),
  cell(r.mainGcMaxMs), note(r),
]);
/** A share from 0 to 1 as a whole percentage; '—' where the client has none. */
function percent(share: number | undefined): string {
  return share === undefined ? '—' : `${Math.round(share * 100)}%`;
}
// Rate scenarios get their own table: records/s there is the offered rate met or not, the latency tail is the point.
const rateHeaders = [
  'client', 'scenario', 'offered/s', 'records/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'CPU µs/rec', 'broker µs/rec', 'main ELU', 'RSS MiB', 'ELD p99 ms',
  'ELD p99 own ms', 'main waited', 'GC max ms', 'note',
];
const rateCells = rateRows.map((r) => [
  r.client, r.scenario, cell(SCENARIOS.find((s) => s.name === r.scenario)!.rate), cell(r.recordsPerSec), cell(r.p50Ms), cell(r.p99Ms),
  cell(r.p999Ms), cell(r.maxMs), cell(r.cpuUsPerRecord), cell(r.brokerUsPerRecord), percent(r.mainElu), cell(r.rssMB), cell(r.eventLoopDelayP99Ms),
  cell(r.eventLoopDelayOwnP99Ms), percent(r.mainWaitShare), cell(r.mainGcMaxMs), note(r),
]);

// Where a Node client's peak resident set was (harness.ts, MemoryWatch): the main thread's heap (reserved, garbage
// not yet collected included) and ArrayBuffers (ringkafka's rings and tables among them; their allocated size, of
// which only the pages touched are resident), and the rest of the process (Node itself, worker threads' heaps and
// buffers, code): at least the difference. Saturation scenarios only: at a fixed rate memory is not the point.
const memoryHeaders = [
  'client', 'scenario', 'RSS at start MiB', 'peak RSS (sampled) MiB', 'main heap MiB', 'main ArrayBuffers (allocated) MiB', 'rest (at least) MiB', 'peak RSS (VmHWM) MiB',
];
const memoryCells = saturationRows
  .filter((r) => r.peakSampleRssMB !== undefined && r.peakHeapMB !== undefined && r.peakArrayBuffersMB !== undefined)
  .map((r) => [
    r.client, r.scenario, cell(r.startRssMB), cell(r.peakSampleRssMB), cell(r.peakHeapMB), cell(r.peakArrayBuffersMB),
    cell(r.peakSampleRssMB! - r.peakHeapMB! - r.peakArrayBuffersMB!), cell(r.rssMB),
  ]);
const memoryTables = (render: typeof table): string[] => (memoryCells.length > 0 ? ['', render(memoryHeaders, memoryCells)] : []);

/** Per scenario: ringkafka's records/s as a share of the fastest peer's; at a fixed rate, its p99 beside comparable peers' (rows.ts). */
const standings = scenarios.map((scenario) => standingLine(scenario, rows, (client) => rateTimingOf(client, SETTINGS.lingerMs)));
/** What one call of a Node driver carries flat out (harness.ts, callPlan): large calls are the drivers' best case. */
const callNote = callRecords !== undefined
  ? `${callRecords.toLocaleString('en-US')} records (--call-records)`
  : `~1 MiB of records (${[...new Set(scenarios.map((s) => s.valueBytes))].map((v) => `${Math.floor(SETTINGS.chunkBytes / v).toLocaleString('en-US')} of ${v} B`).join(', ')}; --call-records N for others)`;

const config = {
  preset: plan.preset, records, warmupRecords, warmupMaxBytes: WARMUP_MAX_BYTES, partitions, repeats, rateSeconds: plan.rateSeconds, rateWarmupSeconds: plan.rateWarmupSeconds,
  rateRepeats: plan.rateRepeats, scenarios: scenarios.map((s) => s.name), broker: args.broker,
  brokerWarmupSeconds: kfakeBroker ? 0 : plan.brokerWarmupSeconds, brokerWarmup,
  ...(args.workers !== undefined && { workers: args.workers }), ...(callRecords !== undefined && { callRecords }), ...SETTINGS,
};
await mkdir(args.out, { recursive: true });
const runs = rows.map((row) =>
  Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      typeof value === 'number' ? (round(value) ?? null) : Array.isArray(value) ? value.map((v: number) => round(v) ?? null) : value,
    ]),
  ),
);
await writeFile(join(args.out, 'latest.json'), JSON.stringify({ machine, date: new Date().toISOString(), config, runs, settings }, null, 2) + '\n');
const rateTables = (render: typeof table): string[] => (rateCells.length > 0 ? ['', render(rateHeaders, rateCells)] : []);
await writeFile(join(args.out, 'latest.md'), `${[markdownTable(headers, cells), ...rateTables(markdownTable), ...memoryTables(markdownTable)].join('\n')}\n`);
await writeFile(
  join(args.out, 'latest.svg'),
  groupedBarChart(
    `records/s by client and scenario (${records.toLocaleString('en-US')} records each)`,
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGB} GB; Node ${machine.node}; ${machine.kafka}; acks=all, idempotent`,
    scenarios.filter((scenario) => scenario.rate === undefined).map((scenario) => ({
      label: scenario.name,
      bars: rows
        .filter((r) => r.scenario === scenario.name)
        .map((r) => ({ client: r.client, value: r.recordsPerSec, ...(r.skipped !== undefined && { note: r.skipped.startsWith('run failed') ? 'failed' : 'skipped' }) })),
    })),
  ),
);

process.stdout.write(
  [
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGB} GB, ${machine.os}`,
    `node ${machine.node}; ${machine.java ?? 'no java'}; ${machine.go ?? 'no go'}; ${machine.kafka}`,
    `${cells.length > 0 ? `median of ${repeats} run(s) per client and scenario (range: slowest–fastest records/s); ${records.toLocaleString('en-US')} measured records per run after ${warmupRecords.toLocaleString('en-US')} warm-up (at most ${WARMUP_MAX_BYTES / 1024 / 1024} MiB of values); ` : ''}${partitions} partitions; acks=all, idempotent${brokerWarmup.length > 0 ? `; the broker warmed up first (${plan.brokerWarmupSeconds} s of producing)` : ''}`,
    ...(cells.length > 0 ? [`Node drivers flat out: ${callNote} per call of ringkafka's sendBatch, KafkaJS's and @platformatic/kafka's send (at most half a batch per partition for these two)`] : []),
    '',
    ...(cells.length > 0 ? [table(headers, cells)] : []),
    ...(rateCells.length > 0
      ? [`\nat a fixed offered rate (${plan.rateSeconds} s after ${plan.rateWarmupSeconds} s of warm-up, ${plan.rateRepeats} run(s); latency from each record's due time to its acknowledgement, every record):`]
      : []),
    ...rateTables(table),
    ...(memoryCells.length > 0 ? ['\nmemory of the Node clients, MiB: at start (connected, before warm-up), and where the sampled peak of the measured run was:'] : []),
    ...memoryTables(table),
    '',
    ...standings,
    '',
    `wrote ${join(args.out, 'latest.json')}, latest.svg and latest.md`,
    '',
  ].join('\n'),
);
process.exit(0);
