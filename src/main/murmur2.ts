/**
 * Kafka's murmur2, bit for bit: the hash Java's producer uses to place a keyed record
 * (clients/.../common/utils/Utils.java `murmur2(byte[])`). Every client that must put a key on the same partition
 * as the Java client has to reproduce it exactly, including Java's signed 32-bit overflow, so every multiplication
 * goes through `Math.imul` (a plain `*` loses the low bits once the product passes 2^53).
 */

/** Kafka's fixed seed; not configurable, or keys would land elsewhere than with Java. */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/**
 * The 32-bit murmur2 hash of `data`, as a signed 32-bit integer exactly like Java's `int`
 * (`"21"` → -973932308). Callers that need a partition must mask it with `& 0x7fffffff`, not take `Math.abs`
 * and not `>>> 0`: see `partitionForKey`.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;

  // Body: little-endian 4-byte chunks. The bytes occupy disjoint bits, so `|` assembles the Java int directly.
  const bodyEnd = length & ~3;
  for (let i = 0; i < bodyEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }

  // Tail: Java's `switch (length % 4)` falls through from case 3 to case 1; written as nested tests because
  // the project forbids switch fall-through.
  const tail = length & 3;
  if (tail !== 0) {
    if (tail === 3) h ^= data[bodyEnd + 2]! << 16;
    if (tail >= 2) h ^= data[bodyEnd + 1]! << 8;
    h ^= data[bodyEnd]!;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}
