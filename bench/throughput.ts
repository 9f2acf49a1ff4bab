/**
 * `npm run bench`: ringkafka's throughput against its peers, every client in its own process, in one run against
 * one broker. See bench/README.md for what each column means and where the clients' settings differ.
 *
 *   npm run bench                          1,000,000 records per client and scenario
 *   npm run bench -- --quick               200,000 records
 *   npm run bench -- --repeat 1            one run per client and scenario instead of the median of 3
 *   npm run bench -- --clients ringkafka,franz-go --scenarios 100B-lz4 --records 500000
 *
 * Starts the local broker unless KAFKA_BROKERS is set, creates a fresh topic per client and scenario, and writes
 * bench/results/latest.json and latest.svg. Peers that cannot run here are listed as skipped, with the reason.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { useBroker } from '../test/helpers/broker.js';
import { CLIENTS, runOne, skippedRow, type RunRow } from './lib/clients.js';
import type { ClientConfig, Scenario } from './lib/contract.js';
import { writePayloadFile } from './lib/payload.js';
import { cell, describeMachine, markdownTable, Progress, table } from './lib/report.js';
import { BENCH_DIR, prepare } from './lib/setup.js';
import { round } from './lib/stats.js';
import { groupedBarChart, shortNumber } from './lib/svg.js';
import { Topics } from './lib/topics.js';

const SCENARIOS: readonly Scenario[] = [
  { name: '100B-none', valueBytes: 100, compression: 'none' },
  { name: '100B-lz4', valueBytes: 100, compression: 'lz4' },
  { name: '1KiB-none', valueBytes: 1024, compression: 'none' },
  { name: '1KiB-lz4', valueBytes: 1024, compression: 'lz4' },
];

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
    clients: { type: 'string' },
    scenarios: { type: 'string' },
    records: { type: 'string' },
    partitions: { type: 'string', default: '16' },
    repeat: { type: 'string', default: '3' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
  },
});

function pick<T extends { name: string }>(all: readonly T[], list: string | undefined, what: string): T[] {
  if (list === undefined) return [...all];
  return list.split(',').map((name) => {
    const found = all.find((item) => item.name === name.trim());
    if (found === undefined) throw new Error(`unknown ${what} '${name}'; known: ${all.map((i) => i.name).join(', ')}`);
    return found;
  });
}

const clients = pick(CLIENTS, args.clients, 'client');
const scenarios = pick(SCENARIOS, args.scenarios, 'scenario');
const records = args.records !== undefined ? Number(args.records) : args.quick ? 200_000 : 1_000_000;
const warmupRecords = Math.max(10_000, Math.round(records / 10));
const partitions = Number(args.partitions);
const repeats = Number(args.repeat);
if (!(Number.isInteger(repeats) && repeats > 0)) throw new Error(`--repeat must be a positive integer, got ${args.repeat}`);
if (!(Number.isInteger(records) && records > 0)) throw new Error(`--records must be a positive integer, got ${args.records}`);
if (!(Number.isInteger(partitions) && partitions > 0)) throw new Error(`--partitions must be a positive integer`);

const progress = new Progress(clients.length * scenarios.length * repeats);

/**
 * The repetition with the median records/s stands for the client, with the spread beside it. Failed repetitions
 * are counted and their first reason kept; only when every one failed is the client reported as failed.
 */
function medianRow(attempts: readonly RunRow[]): RunRow {
  const ok = attempts.filter((r) => r.recordsPerSec !== null).sort((a, b) => a.recordsPerSec! - b.recordsPerSec!);
  const failed = attempts.filter((r) => r.recordsPerSec === null);
  const median = ok[Math.floor((ok.length - 1) / 2)];
  if (median === undefined) return failed[0]!;
  return {
    ...median,
    repeats: ok.length,
    recordsPerSecMin: ok[0]!.recordsPerSec!,
    recordsPerSecMax: ok.at(-1)!.recordsPerSec!,
    ...(failed.length > 0 && { failedRepeats: failed.length, failure: failed[0]!.skipped! }),
  };
}
const external = Boolean(process.env.KAFKA_BROKERS);
progress.note(external ? `brokers: ${process.env.KAFKA_BROKERS}` : 'starting the local Kafka broker (if it is not running)…');
const brokers = await useBroker();

progress.note(`preparing peers: ${[...new Set(clients.map((c) => c.setup))].filter((s) => s !== 'none').join(', ') || 'none'}…`);
const readiness = new Map(await Promise.all(clients.map(async (c) => [c.name, await prepare(c.setup)] as const)));
for (const [name, ready] of readiness) if (!ready.ready) progress.note(`${name}: skipped — ${ready.reason}`);

const work = await mkdtemp(join(tmpdir(), 'ringkafka-bench-'));
const payloads = new Map(scenarios.map((s) => [s.valueBytes, writePayloadFile(work, s.valueBytes)]));
const topics = await Topics.connect(brokers);
const runId = Date.now().toString(36);
const rows: RunRow[] = [];
const settings: Record<string, readonly string[]> = {};

try {
  for (const scenario of scenarios) {
    // Repetitions go round all clients in turn, so a burst of noise on the machine hits every client alike.
    const attempts = new Map<string, RunRow[]>();
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const client of clients) {
        progress.start(`${client.name} ${scenario.name}${repeats > 1 ? ` (${repeat}/${repeats})` : ''}`);
        const ready = readiness.get(client.name)!;
        if (!ready.ready) {
          if (repeat === 1) attempts.set(client.name, [skippedRow(client.name, scenario.name, ready.reason)]);
          progress.step();
          continue;
        }
        const topic = `bench-${runId}-${client.name}-${scenario.name}-${repeat}`.toLowerCase();
        await topics.create(topic, partitions);
        const config: ClientConfig = {
          brokers, topic, scenario, records, warmupRecords, payloadFile: payloads.get(scenario.valueBytes)!, ...SETTINGS,
        };
        // Generous: at least 1 MB/s after a minute for start-up and warm-up; a stuck client fails, it does not hang.
        const timeoutMs = 60_000 + ((records + warmupRecords) * scenario.valueBytes) / 1000;
        const { row, settings: clientSettings } = await runOne(client, config, timeoutMs);
        attempts.set(client.name, [...(attempts.get(client.name) ?? []), row]);
        if (clientSettings.length > 0) settings[client.name] ??= clientSettings;
        if (row.skipped !== undefined) progress.note(`${client.name} ${scenario.name}: ${row.skipped}`);
        const failure = await topics.delete(topic);
        if (failure !== undefined) progress.note(failure);
        progress.step();
      }
    }
    for (const client of clients) rows.push(medianRow(attempts.get(client.name)!));
  }
} finally {
  progress.finish();
  await topics.close();
  await rm(work, { recursive: true, force: true });
}

// ── output ─────────────────────────────────────────────────────────────────────────────────────────────────────

const machine = describeMachine(external);
const headers = ['client', 'scenario', 'records/s', 'range', 'MB/s', 'p50 ms', 'p99 ms', 'CPU s/GB', 'RSS MB', 'ELD p99 ms', 'note'];
const cells = rows.map((r) => [
  r.client, r.scenario, cell(r.recordsPerSec),
  r.recordsPerSecMin !== undefined && (r.repeats ?? 1) > 1 ? `${shortNumber(r.recordsPerSecMin)}–${shortNumber(r.recordsPerSecMax!)}` : '',
  cell(r.mbPerSec), cell(r.p50Ms), cell(r.p99Ms), cell(r.cpuSecPerGB), cell(r.rssMB), cell(r.eventLoopDelayP99Ms),
  (r.skipped !== undefined ? `skipped: ${r.skipped}` : r.failedRepeats !== undefined ? `${r.failedRepeats} repeat(s) failed: ${r.failure}` : '').slice(0, 120),
]);

/** Per scenario: ringkafka's records/s as a share of the fastest peer's. */
const standings = scenarios.map((scenario) => {
  const inScenario = rows.filter((r) => r.scenario === scenario.name && r.recordsPerSec !== null);
  const ours = inScenario.find((r) => r.client === 'ringkafka');
  const best = inScenario.filter((r) => r.client !== 'ringkafka').sort((a, b) => b.recordsPerSec! - a.recordsPerSec!)[0];
  if (ours === undefined || best === undefined) return `${scenario.name}: no comparison`;
  return `${scenario.name}: ringkafka ${cell(ours.recordsPerSec)} records/s = ${cell((100 * ours.recordsPerSec!) / best.recordsPerSec!)}% of the fastest peer (${best.client}, ${cell(best.recordsPerSec)})`;
});

const config = { records, warmupRecords, partitions, repeats, scenarios: scenarios.map((s) => s.name), ...SETTINGS };
await mkdir(args.out, { recursive: true });
const runs = rows.map((row) =>
  Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'number' ? (round(value) ?? null) : value])),
);
await writeFile(join(args.out, 'latest.json'), JSON.stringify({ machine, date: new Date().toISOString(), config, runs, settings }, null, 2) + '\n');
await writeFile(join(args.out, 'latest.md'), `${markdownTable(headers, cells)}\n`);
await writeFile(
  join(args.out, 'latest.svg'),
  groupedBarChart(
    `records/s by client and scenario (${records.toLocaleString('en-US')} records each)`,
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGB} GB; Node ${machine.node}; ${machine.kafka}; acks=all, idempotent`,
    scenarios.map((scenario) => ({
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
    `median of ${repeats} run(s) per client and scenario (range: slowest–fastest records/s); ${records.toLocaleString('en-US')} measured records per run after ${warmupRecords.toLocaleString('en-US')} warm-up; ${partitions} partitions; acks=all, idempotent`,
    '',
    table(headers, cells),
    '',
    ...standings,
    '',
    `wrote ${join(args.out, 'latest.json')}, latest.svg and latest.md`,
    '',
  ].join('\n'),
);
process.exit(0);
