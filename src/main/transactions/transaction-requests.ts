/**
 * The requests a transactional producer sends its coordinators, capped at the versions its transaction protocol
 * allows: InitProducerId (at init, and to bump the epoch under protocol v1), EndTxn, and sendOffsets's
 * AddOffsetsToTxn and TxnOffsetCommit. Kept apart from the manager, which decides when each goes out and what its
 * answer does to the transaction, so that the version caps that keep a v1 producer speaking v1 (KIP-890) are in one
 * place. Each returns the coordinator call's own promise where it can, so no await is added on the manager's way.
 */
import { AddOffsetsToTxn } from '../../protocol/apis/add-offsets-to-txn.js';
import { EndTxn, type EndTxnResponse } from '../../protocol/apis/end-txn.js';
import { CoordinatorType } from '../../protocol/apis/find-coordinator.js';
import { InitProducerId, type InitProducerIdResponse } from '../../protocol/apis/init-producer-id.js';
import type { TopicPartitionErrorsResponse } from '../../protocol/apis/fields.js';
import { TxnOffsetCommit } from '../../protocol/apis/txn-offset-commit.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { Coordinators } from './coordinators.js';
import type { OffsetsToCommit, OffsetTopic } from './offsets.js';
import { transactionError } from './transaction-errors.js';

/** Produce v12 and EndTxn/TxnOffsetCommit v5 are what tell the broker the client speaks transaction protocol v2. */
const V1_MAX_PRODUCE = 11;
const V1_MAX_END_TXN = 4;
const V1_MAX_TXN_OFFSET_COMMIT = 4;

export interface TransactionSettings {
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  /** How long init, commit, abort and sendOffsets may keep retrying (the producer's bufferTimeoutMs). */
  readonly blockMs: number;
}

export interface ProducerIds {
  producerId: bigint;
  producerEpoch: number;
}

/** The highest Produce version the workers may send under transaction protocol `protocol`. */
export function maxProduceVersion(protocol: 1 | 2): number {
  return protocol === 1 ? V1_MAX_PRODUCE : Number.MAX_SAFE_INTEGER;
}

export class TransactionRequests {
  readonly #settings: TransactionSettings;
  readonly #coordinators: Coordinators;

  constructor(settings: TransactionSettings, coordinators: Coordinators) {
    this.#settings = settings;
    this.#coordinators = coordinators;
  }

  /**
   * InitProducerId, the same in both protocols. Without `current` it fences any earlier producer with the same
   * transactional id; with it (protocol v1, KIP-360) it moves the producer to the next epoch. Its retries also ride
   * out a coordinator not ready yet (a fresh cluster creates its transaction state topic on first use).
   */
  initProducerId(current?: ProducerIds): Promise<InitProducerIdResponse> {
    const { transactionalId, transactionTimeoutMs } = this.#settings;
    return this.#coordinators.call(CoordinatorType.TRANSACTION, transactionalId, InitProducerId,
      { transactionalId, transactionTimeoutMs, ...current },
      { deadline: Date.now() + this.#settings.blockMs, errorOf: (r) => r.errorCode });
  }

  /** EndTxn; `unanswered` is set when a request of it went out and got no answer (Coordinators.call). */
  endTxn(
    protocol: 1 | 2, ids: ProducerIds, commit: boolean, signal: AbortSignal | undefined, unanswered: { value: boolean },
  ): Promise<EndTxnResponse> {
    const { transactionalId } = this.#settings;
    return this.#coordinators.call(CoordinatorType.TRANSACTION, transactionalId, EndTxn,
      { transactionalId, ...ids, committed: commit },
      { deadline: Date.now() + this.#settings.blockMs, signal, unanswered, errorOf: (r) => r.errorCode, ...(protocol === 1 && { maxVersion: V1_MAX_END_TXN }) });
  }

  /**
   * Adds consumed offsets to the open transaction: protocol v1 first tells the transaction coordinator of the group
   * (AddOffsetsToTxn), then TxnOffsetCommit goes to the group coordinator. Throws the transaction error an answer's
   * code means.
   */
  async sendOffsets(
    protocol: 1 | 2, ids: () => ProducerIds, offsets: OffsetsToCommit, topics: OffsetTopic[], signal: AbortSignal | undefined,
    reached: () => void,
  ): Promise<void> {
    const { transactionalId } = this.#settings;
    const deadline = Date.now() + this.#settings.blockMs;
    if (protocol === 1) {
      // `reached` once the coordinator may know the transaction: AddOffsetsToTxn accepted, or sent unanswered.
      const unanswered = { value: false };
      let added;
      try {
        added = await this.#coordinators.call(CoordinatorType.TRANSACTION, transactionalId, AddOffsetsToTxn,
          { transactionalId, ...ids(), groupId: offsets.groupId }, { deadline, signal, unanswered, errorOf: (r) => r.errorCode });
      } finally {
        if (unanswered.value) reached();
      }
      if (added.errorCode !== ErrorCode.NONE) throw transactionError(added.errorCode, `AddOffsetsToTxn for group ${offsets.groupId}`);
      reached();
    }
    const answer = await this.#coordinators.call(CoordinatorType.GROUP, offsets.groupId, TxnOffsetCommit, {
      transactionalId,
      groupId: offsets.groupId,
      ...ids(),
      generationId: offsets.generationId ?? -1,
      memberId: offsets.memberId ?? '',
      groupInstanceId: offsets.groupInstanceId ?? null,
      topics,
    }, {
      deadline, signal,
      errorOf: (commit) => firstFailedPartition(commit)?.errorCode ?? ErrorCode.NONE,
      where: (commit) => {
        const failed = firstFailedPartition(commit);
        return failed === undefined ? undefined : `partition ${failed.topic}-${failed.partition}`;
      },
      ...(protocol === 1 && { maxVersion: V1_MAX_TXN_OFFSET_COMMIT }),
    });
    const failed = firstFailedPartition(answer);
    // Named, as a retried code is when the call gives up (`where`): a commit of several partitions failed with a code
    // alone, and UNKNOWN_TOPIC_OR_PARTITION after a minute's retries left its caller to find which does not exist.
    if (failed !== undefined) throw transactionError(failed.errorCode, `TxnOffsetCommit for group ${offsets.groupId}, partition ${failed.topic}-${failed.partition}`);
  }
}

function firstFailedPartition(answer: TopicPartitionErrorsResponse): { topic: string; partition: number; errorCode: number } | undefined {
  for (const topic of answer.topics) {
    for (const p of topic.partitions) if (p.errorCode !== ErrorCode.NONE) return { topic: topic.name, partition: p.partitionIndex, errorCode: p.errorCode };
  }
  return undefined;
}
