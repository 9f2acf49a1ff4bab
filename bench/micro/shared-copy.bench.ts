/**
 * Copying bytes into a SharedArrayBuffer, registered on a tinybench `Bench` by bench/micro.ts (also runnable alone:
 * `npx tsx bench/micro/shared-copy.ts`). V8 copies into or out of shared memory with relaxed atomic stores, word by
 * word only when source and target have the same address modulo 8 and byte by byte otherwise; into ordinary memory
 * it is a plain memcpy either way. Why a record entry pads its value to its source's alignment
 * (src/shared/record-entry.ts) and a worker's arena keeps the ring's (src/workers/partition-state.ts).
 *
 *   shared-copy/<size>/aligned     source and target at the same address modulo 8
 *   shared-copy/<size>/misaligned  target 4 bytes off (ring entries are 4-aligned: what an unpadded value gets)
 *   shared-copy/<size>/ordinary    the same misaligned copy into an ArrayBuffer, for scale
 *
 * Each figure includes tinybench's cost of one task call (about 100 ns here): compare the rows, not the zero.
 */
import type { Bench } from 'tinybench';

const REGION = 1 << 20;

/** What one iteration copies, so the caller can print MB/s. */
export interface SharedCopyTask {
  readonly name: string;
  readonly bytesPerOp: number;
}

export function registerSharedCopyBench(bench: Bench): SharedCopyTask[] {
  const tasks: SharedCopyTask[] = [];
  const shared = new Uint8Array(new SharedArrayBuffer(REGION + 4096));
  const ordinary = new Uint8Array(new ArrayBuffer(REGION + 4096));
  for (const size of [100, 1024]) {
    const source = new Uint8Array(size).fill(7);
    // Entry starts step through the region as a ring's do; `shift` puts the target off the source's alignment.
    const task = (target: Uint8Array, shift: number) => {
      let at = 0;
      return () => {
        target.set(source, at + shift);
        at += (size + 40) & ~7;
        if (at > REGION - 2048) at = 0;
      };
    };
    for (const [kind, target, shift] of [['aligned', shared, 0], ['misaligned', shared, 4], ['ordinary', ordinary, 4]] as const) {
      const name = `shared-copy/${size}/${kind}`;
      bench.add(name, task(target, shift));
      tasks.push({ name, bytesPerOp: size });
    }
  }
  return tasks;
}
