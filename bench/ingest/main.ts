/**
 * `npm run bench:ingest`: the ingestion service (examples/ingest/service.ts) under HTTP load from autocannon, once
 * on each producer — ringkafka, KafkaJS, @platformatic/kafka — in one run against one broker. The HTTP handling is
 * the same code for all three; each server runs in its own process (bench/ingest/server.ts), so the CPU, peak RSS
 * and event-loop delay reported are its own. See bench/README.md for the method.
 *
 *   npm run bench:ingest                    per client: 5 s warm-up, then 30 s each idle, at full load, at 100 requests/s
 *   npm run bench:ingest -- --quick         2 s warm-up, 10 s windows
 *   npm run bench:ingest -- --clients ringkafka --connections 64 --duration 20 --rate 0   (no fixed-rate phase)
 *
 * Starts the local broker unless KAFKA_BROKERS is set; a fresh topic per client; writes
 * bench/results/ingest-latest.json and ingest-latest.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { useBroker } from '../../test/helpers/broker.js';
import { describeMachine, markdownTable, Progress, table } from '../lib/report.js';
import { BENCH_DIR, prepare, type SetupStep } from '../lib/setup.js';
import { round } from '../lib/stats.js';
import { Topics } from '../lib/topics.js';
import { cells, HEADERS, idleRow, ndjsonBody, skippedRow, summarize, type IngestRow, type ServerReport } from './summary.js';

const CLIENTS: readonly { readonly name: string; readonly setup: SetupStep }[] = [
  { name: 'ringkafka', setup: 'none' },
  { name: 'kafkajs', setup: 'node-peers' },
  { name: 'platformatic', setup: 'node-peers' },
];
const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rate: { type: 'string', default: '100' },
    connections: { type: 'string', default: '16' },
    pipelining: { type: 'string', default: '1' },
    'records-per-request': { type: 'string', default: '100' },
    'record-bytes': { type: 'string', default: '100' },
    partitions: { type: 'string', default: '16' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}
const durationSec = positive('duration', args.duration ?? (args.quick ? '10' : '30'));
// 0: no fixed-rate phase.
const rate = args.rate === '0' ? 0 : positive('rate', args.rate);
const warmupSec = positive('warmup', args.warmup ?? (args.quick ? '2' : '5'));
const connections = positive('connections', args.connections);
const pipelining = positive('pipelining', args.pipelining);
const recordsPerRequest = positive('records-per-request', args['records-per-request']);
const recordBytes = positive('record-bytes', args['record-bytes']);
const partitions = positive('partitions', args.partitions);
const clients = args.clients === undefined ? [...CLIENTS] : args.clients.split(',').map((name) => {
  const found = CLIENTS.find((c) => c.name === name.trim());
  if (found === undefined) throw new Error(`unknown client '${name}'; known: ${CLIENTS.map((c) => c.name).join(', ')}`);
  return found;
});
const body = ndjsonBody(recordsPerRequest, recordBytes);

/** The next IPC message from `child` that `accept` recognises; rejects if the child exits first. */
function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      const value = accept(message);
      if (value === undefined) return;
      child.off('message', onMessage).off('exit', onExit);
      resolve(value);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      child.off('message', onMessage);
      reject(new Error(`the server exited (${signal ?? code}) before answering`));
    };
    child.on('message', onMessage).once('exit', onExit);
  });
}

/** `duration` seconds of POSTs to `url`: every connection busy, or `overallRate` requests/s in all. */
async function load(url: string, duration: number, overallRate?: number): Promise<autocannon.Result> {
  return autocannon({
    url, method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' }, connections, pipelining, duration,
    ...(overallRate !== undefined && { overallRate }),
    // A request waits at most the producer's 2 s for buffer space: far beyond that, it is stuck.
    timeout: 30,
  });
}

/**
 * The measured windows: no load (the floor the server's event-loop delay stands on, which on a shared machine is
 * not 0), saturation, then (unless --rate 0) a rate every client can serve.
 */
const PHASES: readonly { readonly label: string; readonly rate?: number; readonly idle?: true }[] = [
  { label: 'idle', idle: true },
  { label: 'max' },
  ...(rate > 0 ? [{ label: `${rate} req/s`, rate }] : []),
];

async function runClient(client: string, brokers: readonly string[], topic: string): Promise<IngestRow[]> {
  const server = fork(SERVER, [client], {
    env: { ...process.env, KAFKA_BROKERS: brokers.join(',') },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const port = await nextMessage(server, (m) => (typeof m === 'object' && m !== null && 'port' in m ? (m as { port: number }).port : undefined));
    const url = `http://127.0.0.1:${port}/topics/${topic}`;
    // Warm-up: connections open, topic metadata loaded, the JIT done with the hot paths.
    await load(url, warmupSec);
    const rows: IngestRow[] = [];
    for (const phase of PHASES) {
      const reset = nextMessage(server, (m) => (m === 'reset' ? true : undefined));
      server.send('reset');
      await reset;
      const result = phase.idle ? await sleep(durationSec * 1000) : await load(url, durationSec, phase.rate);
      const reported = nextMessage(server, (m) => (typeof m === 'object' && m !== null && 'cpuSec' in m ? (m as ServerReport) : undefined));
      server.send('report');
      const report = await reported;
      rows.push(result === undefined ? idleRow(client, report) : summarize(client, phase.label, result, recordsPerRequest, report));
    }
    return rows;
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      server.send('stop');
      const killer = setTimeout(() => server.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
  }
}

const progress = new Progress(clients.length);
progress.note(process.env.KAFKA_BROKERS ? `brokers: ${process.env.KAFKA_BROKERS}` : 'starting the local Kafka broker (if it is not running)…');
const brokers = await useBroker();
const readiness = new Map(await Promise.all(clients.map(async (c) => [c.name, await prepare(c.setup)] as const)));
const topics = await Topics.connect(brokers);
const runId = Date.now().toString(36);
const rows: IngestRow[] = [];
try {
  for (const client of clients) {
    progress.start(client.name);
    const ready = readiness.get(client.name)!;
    if (!ready.ready) {
      progress.note(`${client.name}: skipped — ${ready.reason}`);
      rows.push(skippedRow(client.name, '—', ready.reason));
      progress.step();
      continue;
    }
    const topic = `ingest-${runId}-${client.name}`;
    await topics.create(topic, partitions);
    try {
      rows.push(...(await runClient(client.name, brokers, topic)));
    } catch (error) {
      const reason = `run failed: ${error instanceof Error ? error.message : String(error)}`;
      progress.note(`${client.name}: ${reason}`);
      rows.push(skippedRow(client.name, '—', reason));
    }
    const failure = await topics.delete(topic);
    if (failure !== undefined) progress.note(failure);
    progress.step();
  }
} finally {
  progress.finish();
  await topics.close();
}

const machine = describeMachine(Boolean(process.env.KAFKA_BROKERS));
const config = { durationSec, warmupSec, rate, connections, pipelining, recordsPerRequest, recordBytes, partitions, requestBytes: Buffer.byteLength(body) };
const method = `${connections} connections × ${pipelining} pipelined, POST of ${recordsPerRequest} NDJSON records of ${recordBytes} B, acknowledged (200 once acks=all); ${warmupSec} s warm-up, then ${durationSec} s per window (idle: no requests; max: every connection busy${rate > 0 ? `; ${rate} req/s: that rate offered in all` : ''}); ${partitions} partitions, LZ4, idempotent`;
const runs = rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'number' ? (round(value) ?? null) : value])));
await mkdir(args.out, { recursive: true });
await writeFile(join(args.out, 'ingest-latest.json'), `${JSON.stringify({ machine, date: new Date().toISOString(), config, runs }, null, 2)}\n`);
await writeFile(join(args.out, 'ingest-latest.md'), `${method}\n\n${markdownTable(HEADERS, rows.map(cells))}\n`);
process.stdout.write(
  [
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGB} GB, ${machine.os}; node ${machine.node}; ${machine.kafka}`,
    method,
    '',
    table(HEADERS, rows.map(cells)),
    '',
    `wrote ${join(args.out, 'ingest-latest.json')} and ingest-latest.md`,
    '',
  ].join('\n'),
);
process.exit(0);
