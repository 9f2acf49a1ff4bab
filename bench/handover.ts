/**
 * `npx tsx bench/handover.ts`: what the main thread costs per record depending on how records are handed over —
 * values as Buffers or as strings, calls with or without a `signal`, `results: 'failures'` or `'all'`, the native API
 * or the KafkaJS facade — under load: against kfake (built and started here, as `--broker kfake` does), 100 B values
 * (`--value-bytes N`), 16 partitions, sendBatch calls of 10,000 records with 64 outstanding, as the throughput bench's
 * ringkafka driver keeps them. Many outstanding calls matter: what a record keeps alive until its call completes
 * outlives the young generation then, which the main-thread micro suites (one call at a time) do not show.
 *
 * Each mode runs in its own process, after 600,000 records of warm-up, and prints records/s, the main thread's busy
 * time per record (event-loop utilisation), the process's CPU per record and its peak resident set (VmHWM, Linux;
 * warm-up included). Modes alternate round by round (`--rounds N`, default 2), since this VM's speed drifts:
 *
 *   bytes      sendBatch(records, { results: 'failures' }), Buffer values
 *   all        the same with results: 'all' (a settled result per record)
 *   signal     bytes, each call with `signal: AbortSignal.timeout(60 s)`
 *   string     bytes, each value a distinct string (ASCII letters and a number)
 *   kafkajs    the KafkaJS facade: producer.send({ topic, messages }) with Buffer values
 *
 * `--dist DIR` runs another build (a worktree's dist/) for a comparison. `--modes a,b` picks modes.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startKfake } from './lib/kfake.js';
import { payloadCount } from './lib/payload.js';
import { readProc } from './lib/process-watch.js';
import { prepareKfake } from './lib/setup.js';

const MODES = ['bytes', 'all', 'signal', 'string', 'kafkajs'] as const;
type Mode = (typeof MODES)[number];

const TOPIC = 'handover';
const PARTITIONS = 16;

const { values: args } = parseArgs({
  options: {
    modes: { type: 'string', default: MODES.join(',') },
    rounds: { type: 'string', default: '2' },
    records: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '100' },
    dist: { type: 'string', default: fileURLToPath(new URL('../dist', import.meta.url)) },
    child: { type: 'string' },
    brokers: { type: 'string' },
  },
});

if (args.child !== undefined) await runMode(args.child as Mode);
else await main();

async function main(): Promise<void> {
  const modes = args.modes.split(',') as Mode[];
  for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`--modes: unknown mode ${mode} (${MODES.join(', ')})`);
  const ready = await prepareKfake();
  if (!ready.ready) throw new Error(`kfake cannot be built: ${ready.reason}`);
  const kfake = await startKfake(new Map([[TOPIC, PARTITIONS]]), PARTITIONS);
  try {
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const mode of modes) {
        const line = await child(mode, kfake.brokers.join(','));
        console.log(line);
      }
    }
  } finally {
    await kfake.close();
  }
}

function child(mode: Mode, brokers: string): Promise<string> {
  const argv = [
    '--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, '--brokers', brokers,
    '--records', args.records, '--value-bytes', args['value-bytes'], '--dist', args.dist,
  ];
  return new Promise((resolve, reject) => {
    const runner = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    runner.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    runner.once('error', reject);
    runner.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`mode ${mode} exited with ${code}`))));
  });
}

interface Call {
  (from: number, count: number): Promise<unknown>;
}

async function runMode(mode: Mode): Promise<void> {
  const { performance } = await import('node:perf_hooks');
  const dist = args.dist;
  const brokers = [args.brokers!];
  const valueBytes = Number(args['value-bytes']);
  // Distinct values, about 4 MiB of them, as many as the throughput bench's payload file holds.
  const count = payloadCount(valueBytes);
  const buffers = Array.from({ length: count }, (_, i) => Buffer.alloc(valueBytes, 65 + (i % 26)));
  const strings = Array.from({ length: count }, (_, i) => String.fromCharCode(65 + (i % 26)).repeat(Math.max(0, valueBytes - 8)) + String(10_000_000 + i));
  const settings = { lingerMs: 5, batchMaxBytes: 1 << 20, maxBufferedBytes: 64 << 20, maxBufferedRecords: 1_000_000 };
  let call: Call;
  let close: () => Promise<void>;
  if (mode === 'kafkajs') {
    const { Kafka } = (await import(`${dist}/src/kafkajs/index.js`)) as typeof import('../src/kafkajs/index.js');
    const producer = new Kafka({ brokers, clientId: 'handover', logLevel: 0 }).producer({ idempotent: true, ringkafka: settings });
    await producer.connect();
    call = (from, n) => producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: n }, (_, i) => ({ value: buffers[(from + i) % count]! })) });
    close = () => producer.disconnect();
  } else {
    const { Producer } = (await import(`${dist}/src/main/index.js`)) as typeof import('../src/main/index.js');
    const producer = new Producer({ brokers, clientId: 'handover', acks: 'all', idempotent: true, ...settings });
    await producer.connect();
    const values: readonly (Buffer | string)[] = mode === 'string' ? strings : buffers;
    call = (from, n) => {
      const records = Array.from({ length: n }, (_, i) => ({ topic: TOPIC, value: values[(from + i) % count]! }));
      if (mode === 'all') return producer.sendBatch(records);
      return producer.sendBatch(records, { results: 'failures', signal: mode === 'signal' ? AbortSignal.timeout(60_000) : undefined });
    };
    close = () => producer.close();
  }
  const run = async (records: number): Promise<void> => {
    const outstanding = new Set<Promise<unknown>>();
    for (let next = 0; next < records; ) {
      const n = Math.min(10_000, records - next);
      const done = call(next, n);
      next += n;
      outstanding.add(done);
      void done.finally(() => outstanding.delete(done));
      if (outstanding.size >= 64) await Promise.race(outstanding);
    }
    await Promise.all(outstanding);
  };
  await run(600_000);
  const records = Number(args.records);
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run(records);
  const wallMs = performance.now() - started;
  const busyMs = performance.eventLoopUtilization(elu).active;
  const used = process.cpuUsage(cpu);
  await close();
  const perRecord = (ms: number): string => `${((ms * 1e6) / records).toFixed(0)} ns`;
  console.log(
    `${mode.padEnd(8)} ${Math.round((records / wallMs) * 1000).toLocaleString('en-US').padStart(10)} records/s` +
      `   main busy ${perRecord(busyMs).padStart(7)}/record   process CPU ${perRecord((used.user + used.system) / 1000).padStart(7)}/record` +
      `   peak RSS ${String(Math.round(readProc(process.pid)?.hwmMB ?? Number.NaN)).padStart(5)} MiB`,
  );
}
