/**
 * Ring micro benchmarks, registered on a tinybench `Bench` by bench/micro.ts: one thread pushing and popping, so
 * what is measured is the ring's own cost per entry (reserve, copy, publish, read, release), not thread hand-off.
 *
 *   one by one  each entry committed and released on its own: one atomic store per side per entry
 *   × 64        64 entries per commit and per release, as the producer publishes a `sendBatch` or a worker a
 *               burst of completions: the atomics are amortised
 */
import type { Bench } from 'tinybench';
import { RingReader, RingWriter, createRing } from '../../src/shared/ring.js';

/** What one iteration of a task moves, so the caller can turn ops/s into entries/s and MB/s. */
export interface RingBenchTask {
  readonly name: string;
  readonly entriesPerOp: number;
  readonly bytesPerOp: number;
}

const BATCH = 64;

export function registerRingBench(bench: Bench): RingBenchTask[] {
  const tasks: RingBenchTask[] = [];
  for (const size of [100, 1024]) {
    const label = size === 1024 ? '1 KiB' : `${size} B`;
    const payload = new Uint8Array(size).fill(7);
    // 1 MiB: like a producer's record ring; positions wrap many times during a run.
    const buffer = createRing({ capacity: 1 << 20 });
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);

    // Each iteration checks what it reads (one compare), so a broken ring fails the run instead of printing a
    // fast, wrong number.
    const single = `ring push+pop ${label} one by one`;
    bench.add(single, () => {
      writer.data.set(payload, writer.reserve(size));
      writer.commit();
      if (reader.read() !== size || reader.data[reader.offset] !== 7) throw new Error(`${single}: bad entry`);
      reader.release();
    });
    tasks.push({ name: single, entriesPerOp: 1, bytesPerOp: size });

    const batched = `ring push+pop ${label} x ${BATCH}`;
    bench.add(batched, () => {
      for (let i = 0; i < BATCH; i++) writer.data.set(payload, writer.reserve(size));
      writer.commit();
      let bytes = 0;
      for (let n; (n = reader.read()) >= 0; ) bytes += n + reader.data[reader.offset]! - 7;
      if (bytes !== BATCH * size) throw new Error(`${batched}: read ${bytes} bytes`);
      reader.release();
    });
    tasks.push({ name: batched, entriesPerOp: BATCH, bytesPerOp: BATCH * size });
  }
  return tasks;
}
