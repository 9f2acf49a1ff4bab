/**
 * The producer id and epoch of a transactional producer, shared by every worker (src/main/transactions/).
 *
 * One writer, the main thread's transaction manager, and it writes only between transactions: after InitProducerId
 * and after each EndTxn, when every record of the previous transaction has been reported by its worker (not only
 * answered to its caller) and the next transaction has not begun, so no worker holds a batch that could be stamped
 * with either value. Workers read both fields each time
 * they stamp a batch. The values reach a worker before the first record of the next transaction does: the main
 * thread publishes them before it accepts that record, and the record travels through the worker's ring, whose
 * Atomics store/load pair orders everything written before it (docs/shared-memory.md). Stores and loads are atomic
 * all the same, so a reader never sees a torn 64-bit id.
 *
 * A worker compares the producer id and epoch it stamped last with those published: a new epoch (KIP-890's bump at
 * every EndTxn, or an abort's bump with transaction protocol v1) restarts the partition's sequence numbers at 0, the
 * broker's rule, and so does a new producer id (the coordinator's answer once the epoch runs out), even at an epoch
 * the partition last used under the old id.
 */

const PRODUCER_ID = 0;
const EPOCH = 2; // in int32 slots: after the int64 id
const BYTES = 16;

/** What a worker of a producer without transactions reads instead: no epoch to adopt. */
export const NOT_TRANSACTIONAL = { producerId: -1n, epoch: -1 } as const;

export function createProducerIdentity(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(BYTES);
  const view = new ProducerIdentityView(buffer);
  view.publish(-1n, -1);
  return buffer;
}

export class ProducerIdentityView {
  readonly #ids: BigInt64Array;
  readonly #ints: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#ids = new BigInt64Array(buffer, 0, 1);
    this.#ints = new Int32Array(buffer);
  }

  /** Main thread only, between transactions. */
  publish(producerId: bigint, epoch: number): void {
    Atomics.store(this.#ids, PRODUCER_ID, producerId);
    Atomics.store(this.#ints, EPOCH, epoch);
  }

  get producerId(): bigint {
    return Atomics.load(this.#ids, PRODUCER_ID);
  }

  get epoch(): number {
    return Atomics.load(this.#ints, EPOCH);
  }
}
