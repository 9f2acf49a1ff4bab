/**
 * `npm run bench:fairness`: does the byte budget wake every waiter, in order, fairly and promptly?
 *
 *   npm run bench:fairness                 full sizes
 *   npm run bench:fairness -- --quick      smaller rounds (about 15 s)
 *   npm run bench:fairness -- --synthetic-only
 *
 * The byte-budget scenarios run twice: against the ByteBudget with a synthetic in-process drain (numbers that do
 * not depend on the broker) and through the real Producer against the broker. Two more guard the wake-up
 * protocols: a completion-signal stress (worker threads, no broker) and flush latency with a 10-minute linger
 * (the real Producer). Writes bench/results/fairness-latest.json and prints a table; bench/README.md explains the
 * columns.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { useBroker } from '../test/helpers/broker.js';
import { floodBehindHugeBroker, lostWakeUpBroker, manySendersBroker } from './fairness/broker.js';
import type { FairnessRow } from './fairness/measure.js';
import { makePlan } from './fairness/plan.js';
import { floodBehindHuge, lostWakeUp, manySenders } from './fairness/synthetic.js';
import { completionSignalStress } from './fairness/completion-stress.js';
import { flushLatencyBroker } from './fairness/flush-latency.js';
import { cell, describeMachine, markdownTable, Progress, table } from './lib/report.js';
import { BENCH_DIR } from './lib/setup.js';
import { round } from './lib/stats.js';
import { Topics } from './lib/topics.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'synthetic-only': { type: 'boolean', default: false },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
  },
});
const plan = makePlan(args.quick);
const withBroker = !args['synthetic-only'];

const synthetic = [
  ['lost-wake-up', lostWakeUp],
  ['64 senders', manySenders],
  ['flood behind a huge record', floodBehindHuge],
  ['completion-signal stress', completionSignalStress],
] as const;
const onBroker = [
  ['lost-wake-up', lostWakeUpBroker],
  ['64 senders', manySendersBroker],
  ['flood behind a huge record', floodBehindHugeBroker],
  ['flush latency, lingerMs 10 min', flushLatencyBroker],
] as const;
const progress = new Progress(synthetic.length + (withBroker ? onBroker.length : 0));
const rows: FairnessRow[] = [];

for (const [label, scenario] of synthetic) {
  progress.start(`${label} (synthetic drain)`);
  rows.push(await scenario(plan));
  progress.step();
}

if (withBroker) {
  progress.note(process.env.KAFKA_BROKERS ? `brokers: ${process.env.KAFKA_BROKERS}` : 'starting the local Kafka broker (if it is not running)…');
  const brokers = await useBroker();
  const topics = await Topics.connect(brokers);
  try {
    for (const [label, scenario] of onBroker) {
      progress.start(`${label} (producer against the broker)`);
      rows.push(await scenario(brokers, topics, plan));
      progress.step();
    }
  } finally {
    await topics.close();
  }
}
progress.finish();

const rounded = rows.map((row) =>
  Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'number' ? (round(value) ?? null) : value])),
);
const machine = describeMachine(Boolean(process.env.KAFKA_BROKERS));
await mkdir(args.out, { recursive: true });
await writeFile(
  join(args.out, 'fairness-latest.json'),
  JSON.stringify({ machine, date: new Date().toISOString(), quick: args.quick, scenarios: rounded }, null, 2) + '\n',
);

const headers = ['scenario', 'completed', 'expected', 'lost wake-ups', 'FIFO violations', 'Jain', 'wait p50 ms', 'wait p99 ms', 'wait max ms', 'wake p50 µs', 'wake p99 µs', 'ms'];
const cells = rows.map((r) => [
  r.name, String(r.completed), String(r.expected), String(r.lostWakeups), String(r.fifoViolations), cell(r.jainIndex),
  cell(r.waitP50Ms), cell(r.waitP99Ms), cell(r.waitMaxMs), cell(r.wakeLatencyP50Us), cell(r.wakeLatencyP99Us), cell(r.durationMs),
]);
await writeFile(join(args.out, 'fairness-latest.md'), `${markdownTable(headers, cells)}\n`);

process.stdout.write(
  [
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGB} GB; node ${machine.node}${withBroker ? `; ${machine.kafka}` : ''}`,
    '',
    table(headers, cells),
    '',
    ...rows.map((r) => `${r.name}: ${r.note}`),
    '',
    `wrote ${join(args.out, 'fairness-latest.json')} and fairness-latest.md`,
    '',
  ].join('\n'),
);
process.exit(0);
