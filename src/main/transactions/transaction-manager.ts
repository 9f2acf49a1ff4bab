/**
 * The transaction state of a transactional producer, owned by the main thread: InitProducerId, the open
 * transaction, EndTxn, and the producer id and epoch every worker stamps its batches with (published through the
 * shared identity block, src/shared/producer-identity.ts, and only between transactions).
 *
 *   uninitialized ─init→ ready ─begin→ open ─commit/abort→ ending ─→ ready
 *                                       │ a record failed, or an abortable answer
 *                                       └──────────────→ abortable ─abort→ ending ─→ ready
 *   any fenced or fatal answer ─→ fatal (only close remains)
 *
 * A transaction ends only once every record sent in it has its result: the workers acknowledge a batch only after
 * the broker did, so when the last send settles nothing of the transaction is left on any worker or on the wire, and
 * EndTxn can never commit half of it. A record that failed (a worker crash, a delivery timeout, a broker error)
 * makes the transaction abortable; a fenced one makes the producer fatal (docs/transactions.md).
 *
 * Transaction protocol v2 (KIP-890, finalized `transaction.version` >= 2): Produce v12+ adds partitions implicitly,
 * TxnOffsetCommit needs no AddOffsetsToTxn, and every EndTxn bumps the epoch (its answer carries the new producer
 * id and epoch; sequences restart at 0). Protocol v1: AddPartitionsToTxn before a partition's first batch, the epoch
 * stays across commits, and after an abort in which a record failed the epoch is bumped with InitProducerId (KIP-360)
 * so no partition's sequence state is left in doubt.
 */
import { AddOffsetsToTxn } from '../../protocol/apis/add-offsets-to-txn.js';
import { EndTxn } from '../../protocol/apis/end-txn.js';
import { InitProducerId } from '../../protocol/apis/init-producer-id.js';
import { TxnOffsetCommit } from '../../protocol/apis/txn-offset-commit.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { ConfigError } from '../../shared/errors.js';
import { AbortError } from '../../shared/producer-errors.js';
import type { ProducerIdentityView } from '../../shared/producer-identity.js';
import {
  TransactionAbortableError, TransactionFatalError, TransactionRetriableError, TransactionStateError,
} from '../../shared/transaction-errors.js';
import { CoordinatorType, type Coordinators } from './coordinators.js';
import { recordFailure, transactionError } from './transaction-errors.js';
import { PartitionAdds } from './partition-adds.js';
import type { OffsetsToCommit } from './offsets.js';
import { toOffsetTopics } from './offsets.js';

export type TransactionState = 'uninitialized' | 'ready' | 'open' | 'ending' | 'abortable' | 'fatal';

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

export class TransactionManager {
  readonly #settings: TransactionSettings;
  readonly #coordinators: Coordinators;
  readonly #identity: ProducerIdentityView;
  #state: TransactionState = 'uninitialized';
  #protocol: 1 | 2 = 2;
  #producerId = -1n;
  #epoch = -1;
  /** Why the open transaction cannot commit, or why the producer is done. */
  #failure: TransactionAbortableError | TransactionFatalError | undefined;
  /** Sends of the open transaction without a result yet, and who waits for there to be none. */
  #pending = 0;
  #idle: (() => void)[] = [];
  /** Whether the open transaction wrote anything the coordinator knows of (a record, offsets). */
  #touched = false;
  /** Whether a record of the open transaction failed (protocol v1 then bumps the epoch after the abort). */
  #recordFailed = false;
  /** Aborts the open transaction's sends that have not gone out yet, when it aborts. */
  #cancel = new AbortController();
  /** Protocol v1 only: the partitions added to the open transaction. */
  #adds: PartitionAdds | undefined;

  constructor(settings: TransactionSettings, coordinators: Coordinators, identity: ProducerIdentityView) {
    this.#settings = settings;
    this.#coordinators = coordinators;
    this.#identity = identity;
  }

  get state(): TransactionState {
    return this.#state;
  }

  /** 1 or 2: the transaction protocol in use (known after init). */
  get protocol(): 1 | 2 {
    return this.#protocol;
  }

  /** The highest Produce version the workers may send. */
  get maxProduceVersion(): number {
    return this.#protocol === 1 ? V1_MAX_PRODUCE : Number.MAX_SAFE_INTEGER;
  }

  get identity(): { producerId: bigint; producerEpoch: number } {
    return { producerId: this.#producerId, producerEpoch: this.#epoch };
  }

  /** The open transaction's cancellation signal: sends made in it listen to it, so an abort drops unsent records. */
  get signal(): AbortSignal {
    return this.#cancel.signal;
  }

  /**
   * InitProducerId with the transactional id: fences any earlier producer with the same id and has the
   * coordinator abort the transaction it left open. Learns the transaction protocol version first.
   */
  async init(): Promise<void> {
    if (this.#state !== 'uninitialized') return;
    const { transactionalId, transactionTimeoutMs } = this.#settings;
    // InitProducerId is the same in both protocols; its retries also ride out a coordinator not ready yet (a fresh
    // cluster creates its transaction state topic on first use).
    const answer = await this.#coordinators.call(CoordinatorType.transaction, transactionalId, InitProducerId,
      { transactionalId, transactionTimeoutMs }, { deadline: Date.now() + this.#settings.blockMs, errorOf: (r) => r.errorCode });
    const connection = await this.#coordinators.connection(CoordinatorType.transaction, transactionalId);
    this.#protocol = connection.finalizedFeature('transaction.version') >= 2 ? 2 : 1;
    if (answer.errorCode === ErrorCode.INVALID_TRANSACTION_TIMEOUT) {
      throw new ConfigError(`options.transactionTimeoutMs ${transactionTimeoutMs} is more than the broker's transaction.max.timeout.ms allows`);
    }
    if (answer.errorCode !== ErrorCode.NONE) this.#judge(answer.errorCode, 'InitProducerId');
    this.#publish(answer.producerId, answer.producerEpoch);
    this.#state = 'ready';
  }

  begin(): void {
    this.#check('begin a transaction', ['ready']);
    this.#state = 'open';
    this.#failure = undefined;
    this.#touched = false;
    this.#recordFailed = false;
    this.#cancel = new AbortController();
    if (this.#protocol === 1) this.#adds = new PartitionAdds(this.#coordinators, this.#settings.transactionalId, () => this.#ids());
  }

  /** Throws unless records may be sent now: a transaction is open and can still commit. */
  checkSend(): void {
    if (this.#state === 'open') return;
    if (this.#state === 'abortable' || this.#state === 'fatal') throw this.#failure!;
    throw new TransactionStateError(
      this.#state === 'ending'
        ? 'the transaction is ending: records cannot be sent until the next one begins'
        : 'a transactional producer sends records inside a transaction: call transaction() or beginTransaction() first',
    );
  }

  /** Protocol v1: whether `topic`-`partition` is already part of the open transaction (then a record may go now). */
  isAdded(topic: string, partition: number): boolean {
    return this.#adds === undefined || this.#adds.has(topic, partition);
  }

  /** Protocol v1: adds the partition to the open transaction (AddPartitionsToTxn), sharing one request per tick. */
  async addPartition(topic: string, partition: number): Promise<void> {
    const adds = this.#adds;
    if (adds === undefined || adds.has(topic, partition)) return;
    this.#touched = true;
    try {
      await adds.add(topic, partition, Date.now() + this.#settings.blockMs);
    } catch (error) {
      throw this.#fail(recordFailure(error));
    }
  }

  /** Follows a send of the open transaction until it has its result; a failed record makes the transaction abortable. */
  track<T>(result: Promise<T>, failures: (value: T) => unknown): void {
    this.#pending++;
    this.#touched = true;
    result.then(
      (value) => {
        const failure = failures(value);
        if (failure !== undefined) this.#onRecordFailed(failure);
      },
      (error: unknown) => this.#onRecordFailed(error),
    ).finally(() => {
      if (--this.#pending > 0) return;
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    });
  }

  #onRecordFailed(error: unknown): void {
    this.#recordFailed = true;
    this.#fail(recordFailure(error));
  }

  /** Commits the open transaction once every record sent in it is acknowledged. */
  async commit(signal?: AbortSignal): Promise<void> {
    this.#check('commit', ['open']);
    this.#state = 'ending';
    try {
      await this.#settled(signal);
    } catch (error) {
      this.#state = 'open'; // aborted while records were still out: the caller may commit again, or abort
      throw error;
    }
    if (this.#failure !== undefined) {
      this.#state = 'abortable';
      throw this.#failure;
    }
    if (!this.#touched) {
      this.#state = 'ready'; // nothing reached the coordinator: there is nothing to end
      return;
    }
    await this.#end(true, signal);
  }

  /**
   * Aborts the open transaction: records not sent yet are dropped (their sends reject 'not-sent'), those in flight
   * are waited for, then EndTxn(abort) discards what was written.
   */
  async abort(signal?: AbortSignal): Promise<void> {
    this.#check('abort', ['open', 'abortable']);
    const before = this.#state;
    this.#state = 'ending';
    this.#cancel.abort(new TransactionStateError('the transaction was aborted'));
    try {
      await this.#settled(signal);
    } catch (error) {
      this.#state = before;
      throw error;
    }
    if (!this.#touched) {
      this.#state = 'ready';
      return;
    }
    await this.#end(false, signal);
  }

  /** Adds consumed offsets to the open transaction: they commit (or not) with its records. */
  async sendOffsets(offsets: OffsetsToCommit, signal?: AbortSignal): Promise<void> {
    this.#check('send offsets', ['open']);
    const { transactionalId } = this.#settings;
    const deadline = Date.now() + this.#settings.blockMs;
    this.#touched = true;
    try {
      if (this.#protocol === 1) {
        const added = await this.#coordinators.call(CoordinatorType.transaction, transactionalId, AddOffsetsToTxn,
          { transactionalId, ...this.#ids(), groupId: offsets.groupId }, { deadline, signal, errorOf: (r) => r.errorCode });
        if (added.errorCode !== ErrorCode.NONE) throw transactionError(added.errorCode, `AddOffsetsToTxn for group ${offsets.groupId}`);
      }
      const answer = await this.#coordinators.call(CoordinatorType.group, offsets.groupId, TxnOffsetCommit, {
        transactionalId,
        groupId: offsets.groupId,
        ...this.#ids(),
        generationId: offsets.generationId ?? -1,
        memberId: offsets.memberId ?? '',
        groupInstanceId: offsets.groupInstanceId ?? null,
        topics: toOffsetTopics(offsets.offsets),
      }, {
        deadline, signal, errorOf: firstPartitionError,
        ...(this.#protocol === 1 && { maxVersion: V1_MAX_TXN_OFFSET_COMMIT }),
      });
      const code = firstPartitionError(answer);
      if (code !== ErrorCode.NONE) throw transactionError(code, `TxnOffsetCommit for group ${offsets.groupId}`);
    } catch (error) {
      if (error instanceof TransactionAbortableError || error instanceof TransactionFatalError) throw this.#fail(error);
      throw error;
    }
  }

  /** Close with a transaction open: abort it (unless fatal), so its records never become visible before the timeout. */
  async closeOpen(signal?: AbortSignal): Promise<void> {
    if (this.#state === 'open' || this.#state === 'abortable') await this.abort(signal);
  }

  async #end(commit: boolean, signal: AbortSignal | undefined): Promise<void> {
    const { transactionalId, transactionTimeoutMs } = this.#settings;
    const deadline = Date.now() + this.#settings.blockMs;
    const what = commit ? 'EndTxn(commit)' : 'EndTxn(abort)';
    let answer;
    try {
      answer = await this.#coordinators.call(CoordinatorType.transaction, transactionalId, EndTxn,
        { transactionalId, ...this.#ids(), committed: commit },
        { deadline, signal, errorOf: (r) => r.errorCode, ...(this.#protocol === 1 && { maxVersion: V1_MAX_END_TXN }) });
    } catch (error) {
      // Not ended in time, or the caller gave up: the transaction is still ours to commit or abort.
      this.#state = commit ? 'open' : 'abortable';
      this.#failure ??= commit ? undefined : new TransactionAbortableError(-1, 'the abort did not complete; abort again');
      throw error;
    }
    if (answer.errorCode !== ErrorCode.NONE) {
      const error = transactionError(answer.errorCode, what);
      // Still ours to end: a retriable answer leaves it as it was, an abortable one leaves only abort.
      if (!(error instanceof TransactionFatalError)) this.#state = commit && error instanceof TransactionRetriableError ? 'open' : 'abortable';
      if (error instanceof TransactionRetriableError) throw error;
      throw this.#fail(error);
    }
    if (this.#protocol === 2 && answer.producerEpoch >= 0) {
      this.#publish(answer.producerId, answer.producerEpoch);
    } else if (!commit && this.#recordFailed) {
      // Protocol v1: a failed record may have left a partition's sequence state in doubt; a new epoch clears it.
      const bumped = await this.#coordinators.call(CoordinatorType.transaction, transactionalId, InitProducerId,
        { transactionalId, transactionTimeoutMs, ...this.#ids() }, { deadline, signal, errorOf: (r) => r.errorCode });
      if (bumped.errorCode !== ErrorCode.NONE) {
        this.#state = 'abortable';
        this.#judge(bumped.errorCode, 'InitProducerId (epoch bump)');
      }
      this.#publish(bumped.producerId, bumped.producerEpoch);
    }
    this.#adds = undefined;
    this.#state = 'ready';
  }

  /** Throws the error `code` means, recorded first when it is abortable or fatal. */
  #judge(code: number, what: string): never {
    const error = transactionError(code, what);
    if (error instanceof TransactionRetriableError) throw error;
    throw this.#fail(error);
  }

  #ids(): { producerId: bigint; producerEpoch: number } {
    return { producerId: this.#producerId, producerEpoch: this.#epoch };
  }

  #publish(producerId: bigint, epoch: number): void {
    this.#producerId = producerId;
    this.#epoch = epoch;
    this.#identity.publish(producerId, epoch);
  }

  /** Records the failure: fatal ones end the producer, abortable ones the open transaction. Returns it. */
  #fail<E extends TransactionAbortableError | TransactionFatalError>(failure: E): E {
    if (failure instanceof TransactionFatalError) {
      this.#state = 'fatal';
      this.#failure = failure;
    } else if (this.#state !== 'fatal') {
      if (this.#state === 'open') this.#state = 'abortable';
      this.#failure ??= failure;
    }
    return failure;
  }

  #check(action: string, allowed: readonly TransactionState[]): void {
    if (allowed.includes(this.#state)) return;
    if (this.#state === 'fatal') throw this.#failure!;
    if (this.#state === 'abortable') throw this.#failure!;
    const why: Record<TransactionState, string> = {
      uninitialized: 'the producer is not connected yet',
      ready: 'no transaction is open',
      open: 'a transaction is already open',
      ending: 'the transaction is already ending',
      abortable: '',
      fatal: '',
    };
    throw new TransactionStateError(`cannot ${action}: ${why[this.#state]}`);
  }

  /** Resolves once every send of the transaction has its result. */
  #settled(signal: AbortSignal | undefined): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.#idle = this.#idle.filter((waiter) => waiter !== done);
        reject(new AbortError('not-sent', 'aborted while the transaction\'s records were still out', { cause: signal?.reason }));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#idle.push(done);
    });
  }
}

function firstPartitionError(answer: { readonly topics: ReadonlyArray<{ readonly partitions: ReadonlyArray<{ readonly errorCode: number }> }> }): number {
  for (const topic of answer.topics) for (const p of topic.partitions) if (p.errorCode !== ErrorCode.NONE) return p.errorCode;
  return ErrorCode.NONE;
}
