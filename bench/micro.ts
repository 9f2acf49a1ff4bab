/**
 * Micro benchmarks of the produce hot path: RecordBatch v2 encoding per codec, the codecs alone, CRC-32C, the
 * pieces registered from bench/micro/*.bench.ts (byte budget, rings, copies into shared memory, the worker's batch
 * encoder from its arena), and the main thread's cost per
 * record through the real Producer (bench/micro/main-thread.ts: main-thread/sendBatch-100B, send-100B,
 * sendBatch-1KiB-keyed). Every suite goes to bench/results/micro-latest.json as { suites: [{ name, nsPerOp,
 * opsPerSec, samples }] }.
 *
 *   npx tsx bench/micro.ts            full run (~1 s per task)
 *   npx tsx bench/micro.ts --quick    short run, for a smoke check
 *
 * Values are JSON-like text (realistic, compressible log lines), not random bytes: random data makes every codec
 * look like `none` plus overhead. Encoding is measured as the worker does it: records in, finished batch out.
 */
import { availableParallelism, cpus } from 'node:os';
import { Bench, type Task } from 'tinybench';
import { compressFrame } from 'lz4-napi';
import { lz4Frame } from '../src/protocol/lz4-frame.js';
import { crc32c } from '../src/protocol/crc32c.js';
import { Codec, CODEC_NAMES, compress, type CodecValue } from '../src/protocol/compression.js';
import { encodeRecordBatch, RECORD_BATCH_OVERHEAD, recordSize, type BatchRecord } from '../src/protocol/record-batch.js';
import { crc32cTable } from './micro/crc32c-table.js';
import { letterValues } from './lib/payload.js';
import { benchMainThread, type MainThreadSuite } from './micro/main-thread.js';
import { BENCH_DIR } from './lib/setup.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const quick = process.argv.includes('--quick');
const benchOptions = quick
  ? { time: 150, warmupTime: 50, iterations: 8, warmupIterations: 4 }
  : { time: 1000, warmupTime: 250, iterations: 32, warmupIterations: 16 };

const MiB = 1024 * 1024;
const encoder = new TextEncoder();
const now = Date.now();

/** Deterministic pseudo-random numbers, so runs compare. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const words = ['GET', 'POST', '/api/v1/orders', '/health', 'ok', 'timeout', 'eu-west-1', 'us-east-2', 'checkout', 'cart'];

function makeValue(size: number, random: () => number): Uint8Array {
  let text = '';
  while (text.length < size) {
    const word = words[Math.floor(random() * words.length)]!;
    text += `{"ts":${now + Math.floor(random() * 1e6)},"user":${Math.floor(random() * 1e6)},"ev":"${word}","ms":${(random() * 100).toFixed(2)}},`;
  }
  return encoder.encode(text.slice(0, size));
}

function makeRecords(count: number, valueSize: number): BatchRecord[] {
  const random = lcg(count * 31 + valueSize);
  const records: BatchRecord[] = [];
  for (let i = 0; i < count; i++) {
    records.push({
      key: encoder.encode(`user-${Math.floor(random() * 1e6)}`.padEnd(16, '0')),
      value: makeValue(valueSize, random),
      headers: [[encoder.encode('trace'), encoder.encode('0af7651916cd43dd')]],
      timestamp: now + i,
    });
  }
  return records;
}

/** Records of `valueSize` bytes until the uncompressed batch reaches `bytes`. */
function recordsForBatchBytes(bytes: number, valueSize: number): number {
  const one = recordSize(makeRecords(1, valueSize)[0]!, 0, 0);
  return Math.max(1, Math.floor((bytes - RECORD_BATCH_OVERHEAD) / one));
}

interface Row {
  name: string;
  records: number;
  inputBytes: number;
  outputBytes: number;
}

function formatRate(value: number, unit: string): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} G${unit}`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M${unit}`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k${unit}`;
  return `${value.toFixed(0)} ${unit}`;
}

function mean(task: Task): { opsPerSecond: number; rme: number } {
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}${'error' in result ? `: ${result.error}` : ''}`);
  return { opsPerSecond: 1000 / result.latency.mean, rme: result.latency.rme };
}

/** Every suite measured in this run, for bench/results/micro-latest.json (cpuNsPerOp: main-thread suites only). */
const suites: (Omit<MainThreadSuite, 'cpuNsPerOp'> & { cpuNsPerOp?: number | undefined })[] = [];

/** Records every task of a finished tinybench run as a suite (one op = one task call). */
function collect(bench: Bench): void {
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') continue;
    suites.push({ name: task.name, nsPerOp: result.latency.mean * 1e6, opsPerSec: 1000 / result.latency.mean, samples: result.latency.samplesCount });
  }
}

/** The main thread's cost per record through the real Producer (bench/micro/main-thread.ts). */
async function benchMainThreadSuites(): Promise<void> {
  try {
    const measured = await benchMainThread({ quick });
    suites.push(...measured);
    printTable(
      'Main thread per record, real Producer against a broker that acknowledges at once (busy time and CPU time / records)',
      ['suite', 'ns/record busy', 'ns/record CPU', 'records/s'],
      measured.map((m) => [m.name, m.nsPerOp.toFixed(0), m.cpuNsPerOp?.toFixed(0) ?? '-', formatRate(m.opsPerSec, '')]),
    );
  } catch (err) {
    console.error(`\nmain-thread benchmarks not run: ${String(err)}`);
    process.exitCode = 1;
  }
}

async function writeResults(): Promise<void> {
  const out = join(BENCH_DIR, 'results', 'micro-latest.json');
  await mkdir(dirname(out), { recursive: true });
  const machine = { cpu: cpus()[0]?.model ?? 'unknown CPU', cores: availableParallelism(), node: process.version };
  await writeFile(out, JSON.stringify({ machine, date: new Date().toISOString(), quick, suites }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}

function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

async function benchEncoding(): Promise<void> {
  const bench = new Bench({ name: 'encode', ...benchOptions });
  const rows = new Map<string, Row>();
  const shapes = [
    { label: '100 B x 1000', valueSize: 100, count: 1000 },
    { label: '100 B x 1 MiB', valueSize: 100, count: recordsForBatchBytes(MiB, 100) },
    { label: '1 KiB x 1000', valueSize: 1024, count: 1000 },
    { label: '1 KiB x 16 KiB', valueSize: 1024, count: recordsForBatchBytes(16 * 1024, 1024) },
  ];
  for (const shape of shapes) {
    const records = makeRecords(shape.count, shape.valueSize);
    for (const codec of [0, 1, 2, 3, 4] as CodecValue[]) {
      const header = { producerId: 1234n, producerEpoch: 0, baseSequence: 0, codec };
      const name = `${shape.label} ${CODEC_NAMES[codec]}`;
      const sample = await encodeRecordBatch(records, header);
      const uncompressed = await encodeRecordBatch(records, { ...header, codec: Codec.none });
      rows.set(name, { name, records: shape.count, inputBytes: uncompressed.length, outputBytes: sample.length });
      bench.add(name, () => encodeRecordBatch(records, header));
    }
  }
  await bench.run();
  collect(bench);
  printTable(
    'RecordBatch v2 encode (records in, finished batch out; key 16 B, one header)',
    ['batch', 'records', 'batch KiB', 'ratio', 'batches/s', 'records/s', 'input MB/s', '±%'],
    bench.tasks.map((task) => {
      const row = rows.get(task.name)!;
      const { opsPerSecond, rme } = mean(task);
      return [
        row.name,
        String(row.records),
        (row.inputBytes / 1024).toFixed(1),
        (row.inputBytes / row.outputBytes).toFixed(2),
        formatRate(opsPerSecond, ''),
        formatRate(opsPerSecond * row.records, ''),
        ((opsPerSecond * row.inputBytes) / 1e6).toFixed(0),
        rme.toFixed(1),
      ];
    }),
  );
}

/**
 * About 1 MiB of records whose values are random uppercase letters (payload.ts, letterValues; the throughput
 * bench's values until 2026-12-07): LZ4 finds little to match in them.
 */
function letterRecords(valueSize: number): BatchRecord[] {
  const values = letterValues(valueSize).map((value) => Buffer.from(value, 'latin1'));
  const records: BatchRecord[] = [];
  for (let bytes = 0; bytes < MiB - valueSize; bytes += valueSize + 8) {
    records.push({ key: null, value: values[records.length % values.length]!, headers: [], timestamp: now + (records.length >> 6) });
  }
  return records;
}

/** The records section a worker would compress for these records: the uncompressed batch without its header. */
async function sectionOf(records: BatchRecord[]): Promise<Buffer> {
  const batch = await encodeRecordBatch(records, { producerId: 1234n, producerEpoch: 0, baseSequence: 0, codec: Codec.none });
  return batch.subarray(RECORD_BATCH_OVERHEAD);
}

async function benchCodecs(): Promise<void> {
  const bench = new Bench({ name: 'codecs', ...benchOptions });
  const sizes = [64 * 1024, MiB];
  const inputs = new Map<string, number>();
  for (const size of sizes) {
    const section = makeValue(size, lcg(size));
    for (const codec of [1, 2, 3, 4] as CodecValue[]) {
      const name = `${CODEC_NAMES[codec]} ${size / 1024} KiB`;
      inputs.set(name, size);
      bench.add(name, () => compress(codec, section));
    }
  }
  // lz4 as src/protocol/lz4-frame.ts frames it, against the binding's own frame encoder (64 KiB blocks) that it
  // replaced, on 1 MiB records sections of JSON-like and of random-letter values.
  const sections: Array<[string, Buffer]> = [
    ['JSON-like 100 B values', await sectionOf(makeRecords(recordsForBatchBytes(MiB, 100), 100))],
    ['JSON-like 1 KiB values', await sectionOf(makeRecords(recordsForBatchBytes(MiB, 1024), 1024))],
    ['random-letter 100 B values', await sectionOf(letterRecords(100))],
    ['random-letter 1 KiB values', await sectionOf(letterRecords(1024))],
  ];
  // Each output lands in a reused batch buffer, as in a worker (a fresh mebibyte would add its page faults).
  const batchBuffer = Buffer.allocUnsafeSlow(2 * MiB).fill(0);
  for (const [label, section] of sections) {
    inputs.set(`lz4 1 MiB section, ${label}`, section.length);
    bench.add(`lz4 1 MiB section, ${label}`, async () => {
      (await lz4Frame(section)).writeTo(batchBuffer, RECORD_BATCH_OVERHEAD);
    });
    inputs.set(`lz4 1 MiB section, ${label}, binding's frame encoder`, section.length);
    bench.add(`lz4 1 MiB section, ${label}, binding's frame encoder`, async () => {
      batchBuffer.set(await compressFrame(section), RECORD_BATCH_OVERHEAD);
    });
  }
  await bench.run();
  collect(bench);
  printTable(
    'Codecs alone (compress one records section)',
    ['codec', 'MB/s', '±%'],
    bench.tasks.map((task) => {
      const { opsPerSecond, rme } = mean(task);
      return [task.name, ((opsPerSecond * inputs.get(task.name)!) / 1e6).toFixed(0), rme.toFixed(1)];
    }),
  );
}

async function benchCrc(): Promise<void> {
  const bench = new Bench({ name: 'crc32c', ...benchOptions });
  const sizes = [512, MiB];
  const inputs = new Map<string, number>();
  for (const size of sizes) {
    const bytes = makeValue(size + 21, lcg(size));
    const label = size >= MiB ? `${size / MiB} MiB` : `${size} B`;
    let sink = 0;
    inputs.set(`native ${label}`, size);
    inputs.set(`table ${label}`, size);
    // Same shape as the encoder's call: a range starting at byte 21.
    bench.add(`native ${label}`, () => {
      sink ^= crc32c(bytes, 21, bytes.length);
    });
    bench.add(`table ${label}`, () => {
      sink ^= crc32cTable(bytes, 21, bytes.length);
    });
    if (crc32c(bytes, 21, bytes.length) !== crc32cTable(bytes, 21, bytes.length)) throw new Error('CRC mismatch');
  }
  await bench.run();
  collect(bench);
  printTable(
    'CRC-32C (native @node-rs/crc32 vs slicing-by-8 TypeScript table)',
    ['input', 'GB/s', 'ns/call', '±%'],
    bench.tasks.map((task) => {
      const { opsPerSecond, rme } = mean(task);
      return [
        task.name,
        ((opsPerSecond * inputs.get(task.name)!) / 1e9).toFixed(2),
        (1e9 / opsPerSecond).toFixed(0),
        rme.toFixed(1),
      ];
    }),
  );
}

/**
 * Sections living beside the code they measure. Loaded dynamically so that one that fails to load is reported
 * (and fails the run) without hiding the other numbers.
 */
async function benchRegistered(): Promise<void> {
  const bench = new Bench({ name: 'registered', ...benchOptions });
  const rows: Array<{ name: string; unitsPerOp: number; unit: string; bytesPerOp: number }> = [];
  try {
    const { registerBudgetBench } = await import('./micro/budget.bench.js');
    for (const t of registerBudgetBench(bench)) rows.push({ name: t.name, unitsPerOp: t.recordsPerOp, unit: 'records', bytesPerOp: 0 });
  } catch (err) {
    console.error(`\nbyte budget benchmarks not run: ${String(err)}`);
    process.exitCode = 1;
  }
  try {
    const { registerRingBench } = await import('./micro/ring.bench.js');
    for (const t of registerRingBench(bench)) rows.push({ name: t.name, unitsPerOp: t.entriesPerOp, unit: 'entries', bytesPerOp: t.bytesPerOp });
  } catch (err) {
    console.error(`\nring benchmarks not run: ${String(err)}`);
    process.exitCode = 1;
  }
  try {
    const { registerSharedCopyBench } = await import('./micro/shared-copy.bench.js');
    for (const t of registerSharedCopyBench(bench)) rows.push({ name: t.name, unitsPerOp: 1, unit: 'copies', bytesPerOp: t.bytesPerOp });
  } catch (err) {
    console.error(`\nshared-copy benchmarks not run: ${String(err)}`);
    process.exitCode = 1;
  }
  try {
    const { registerEntryEncoderBench } = await import('./micro/entry-encoder.bench.js');
    for (const t of registerEntryEncoderBench(bench)) rows.push({ name: t.name, unitsPerOp: t.recordsPerOp, unit: 'records', bytesPerOp: t.bytesPerOp });
  } catch (err) {
    console.error(`\nentry-encoder benchmarks not run: ${String(err)}`);
    process.exitCode = 1;
  }
  if (rows.length === 0) return;
  await bench.run();
  collect(bench);
  printTable(
    "Byte budget, rings, copies into shared memory and the worker's batch encoder (one thread)",
    ['task', 'ops/s', 'per second', 'MB/s', '±%'],
    rows.map((row) => {
      const { opsPerSecond, rme } = mean(bench.getTask(row.name)!);
      return [
        row.name,
        formatRate(opsPerSecond, ''),
        `${formatRate(opsPerSecond * row.unitsPerOp, '')} ${row.unit}`,
        row.bytesPerOp > 0 ? ((opsPerSecond * row.bytesPerOp) / 1e6).toFixed(0) : '-',
        rme.toFixed(1),
      ];
    }),
  );
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`ringkafka micro benchmarks — node ${process.version}, ${cpu}, ${availableParallelism()} CPUs${quick ? ' (--quick)' : ''}`);
await benchCrc();
await benchEncoding();
await benchCodecs();
await benchRegistered();
await benchMainThreadSuites();
await writeResults();
