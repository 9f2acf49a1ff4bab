/**
 * Transaction protocol v1 only: the partitions added to the open transaction with AddPartitionsToTxn. A record may
 * reach a partition's batch only once the coordinator has the partition (otherwise the broker refuses the batch,
 * or worse, the partition would get no transaction marker). Adds requested in the same tick share one request.
 */
import { AddPartitionsToTxn } from '../../protocol/apis/add-partitions-to-txn.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { CoordinatorType } from '../../protocol/apis/find-coordinator.js';
import type { Coordinators } from './coordinators.js';
import { transactionError } from './transaction-errors.js';

interface PendingAdd {
  readonly partitions: Map<string, Set<number>>;
  readonly promise: Promise<void>;
}

export class PartitionAdds {
  readonly #coordinators: Coordinators;
  readonly #transactionalId: string;
  readonly #ids: () => { producerId: bigint; producerEpoch: number };
  /** Called once an add was accepted, or went out without an answer: the coordinator may know the transaction. */
  readonly #reached: () => void;
  readonly #added = new Set<string>();
  #next: PendingAdd | undefined;
  #deadline = 0;

  constructor(
    coordinators: Coordinators, transactionalId: string, ids: () => { producerId: bigint; producerEpoch: number }, reached: () => void,
  ) {
    this.#coordinators = coordinators;
    this.#transactionalId = transactionalId;
    this.#ids = ids;
    this.#reached = reached;
  }

  has(topic: string, partition: number): boolean {
    return this.#added.has(`${topic}\u0000${partition}`);
  }

  add(topic: string, partition: number, deadline: number): Promise<void> {
    this.#deadline = Math.max(this.#deadline, deadline);
    let next = this.#next;
    if (next === undefined) {
      const partitions = new Map<string, Set<number>>();
      // The request goes once this tick's adds are in.
      const promise = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#send(partitions));
      next = this.#next = { partitions, promise };
    }
    let set = next.partitions.get(topic);
    if (set === undefined) next.partitions.set(topic, (set = new Set()));
    set.add(partition);
    return next.promise;
  }

  async #send(partitions: Map<string, Set<number>>): Promise<void> {
    this.#next = undefined;
    const topics = [...partitions].map(([name, set]) => ({ name, partitions: [...set] }));
    const unanswered = { value: false };
    let answer;
    try {
      answer = await this.#coordinators.call(CoordinatorType.TRANSACTION, this.#transactionalId, AddPartitionsToTxn,
        { transactionalId: this.#transactionalId, ...this.#ids(), topics },
        { deadline: this.#deadline, errorOf: (a) => firstError(a).code, unanswered });
    } finally {
      if (unanswered.value) this.#reached();
    }
    // Refused (a topic not writable, say), the add left the coordinator as it was: the broker refuses the whole
    // request, each other partition OPERATION_NOT_ATTEMPTED.
    const { code, where } = firstError(answer);
    if (code !== ErrorCode.NONE) throw transactionError(code, `AddPartitionsToTxn for ${where}`);
    this.#reached();
    for (const { name, partitions: list } of topics) for (const p of list) this.#added.add(`${name}\u0000${p}`);
  }
}

/**
 * The first real failure, and the partition it names (`topic-partition`): OPERATION_NOT_ATTEMPTED only says another
 * partition of the request failed.
 */
function firstError(answer: {
  readonly topics: ReadonlyArray<{ readonly name: string; readonly partitions: ReadonlyArray<{ readonly partitionIndex: number; readonly errorCode: number }> }>;
}): { code: number; where: string } {
  let fallback: { code: number; where: string } = { code: ErrorCode.NONE, where: '' };
  for (const topic of answer.topics) {
    for (const p of topic.partitions) {
      if (p.errorCode === ErrorCode.NONE) continue;
      const where = `${topic.name}-${p.partitionIndex}`;
      if (p.errorCode !== ErrorCode.OPERATION_NOT_ATTEMPTED) return { code: p.errorCode, where };
      fallback = { code: p.errorCode, where };
    }
  }
  return fallback;
}
