/** Runs the shared-copy micro benchmark alone (bench/micro/shared-copy.bench.ts) and prints ns per copy. */
import { Bench } from 'tinybench';
import { registerSharedCopyBench } from './shared-copy.bench.js';

const bench = new Bench({ time: 500, warmupTime: 100 });
registerSharedCopyBench(bench);
await bench.run();
for (const task of bench.tasks) {
  const result = task.result;
  const perCopy = result.state === 'completed' ? `${(result.latency.mean * 1e6).toFixed(1)} ns per copy` : result.state;
  console.log(`${task.name.padEnd(30)} ${perCopy}`);
}
