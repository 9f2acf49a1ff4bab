/**
 * The producer id and epoch a transactional producer's workers stamp their batches with, and how the epoch moves.
 * Transaction protocol v2 (KIP-890): every EndTxn bumps it, and its answer carries the new id and epoch. Protocol v1:
 * the epoch stays across commits, but after an abort in which a record failed (or a worker crashed) it is bumped
 * with InitProducerId and the current id and epoch (KIP-360) before the next transaction, so no partition's sequence
 * state is left in doubt. Either way the workers see it through the shared identity block
 * (src/shared/producer-identity.ts), published only between transactions, and restart sequences at 0 on a new one.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ProducerIdentityView } from '../../shared/producer-identity.js';
import type { ProducerIds, TransactionRequests } from './transaction-requests.js';
import type { TransactionStatus } from './transaction-state.js';

export class ProducerEpoch {
  readonly #identity: ProducerIdentityView;
  readonly #requests: TransactionRequests;
  readonly #status: TransactionStatus;
  #producerId = -1n;
  #epoch = -1;
  /** Protocol v1: sequences may be in doubt at this epoch; InitProducerId bumps it before the next transaction. */
  bumpNeeded = false;

  constructor(identity: ProducerIdentityView, requests: TransactionRequests, status: TransactionStatus) {
    this.#identity = identity;
    this.#requests = requests;
    this.#status = status;
  }

  ids(): ProducerIds {
    return { producerId: this.#producerId, producerEpoch: this.#epoch };
  }

  publish(producerId: bigint, epoch: number): void {
    this.#producerId = producerId;
    this.#epoch = epoch;
    this.#identity.publish(producerId, epoch);
  }

  /** Protocol v1: InitProducerId with the current id and epoch (KIP-360) moves to the next epoch. */
  async bump(): Promise<void> {
    const bumped = await this.#status.recordingFatal(this.#requests.initProducerId(this.ids()));
    if (bumped.errorCode !== ErrorCode.NONE) this.#status.judge(bumped.errorCode, 'InitProducerId (epoch bump)');
    this.publish(bumped.producerId, bumped.producerEpoch);
    this.bumpNeeded = false;
  }
}
