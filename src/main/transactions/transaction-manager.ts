/**
 * The transaction state of a transactional producer, owned by the main thread: InitProducerId, the open
 * transaction, EndTxn, and the producer id and epoch every worker stamps its batches with (published through the
 * shared identity block, src/shared/producer-identity.ts, and only between transactions).
 *
 *   uninitialized ─init→ ready ─begin→ open ─commit/abort→ ending ─→ ready
 *                                       │ a record failed, a worker crashed, an abortable answer
 *                                       └──────────────→ abortable ─abort→ ending ─→ ready
 *   EndTxn(commit) sent, its outcome unknown (no answer in time) ─→ committing: only commit again
 *   any fenced or fatal answer ─→ fatal (only close remains)
 *
 * A transaction ends only once every send made in it has its result AND every record the workers were given has
 * been reported by its worker (delivered, failed, or dropped unsent): a caller released early (an abort, a delivery
 * timeout) does not count, since its record may still be in a batch. Then nothing of the transaction is left on any
 * worker or on the wire, EndTxn cannot commit half of it, and no batch of it can be stamped with the next epoch.
 * A record that failed makes the transaction abortable; a fenced answer makes the producer fatal
 * (docs/transactions.md).
 *
 * Transaction protocol v2 (KIP-890, finalized `transaction.version` >= 2): Produce v12+ adds partitions implicitly,
 * TxnOffsetCommit needs no AddOffsetsToTxn, and every EndTxn bumps the epoch (its answer carries the new producer
 * id and epoch; sequences restart at 0). Protocol v1: AddPartitionsToTxn before a partition's first batch in the
 * transaction, the epoch stays across commits, and after an abort in which a record failed (or a worker crashed)
 * the epoch is bumped with InitProducerId (KIP-360) before the next transaction, so no partition's sequence state is
 * left in doubt.
 */
import { AddOffsetsToTxn } from '../../protocol/apis/add-offsets-to-txn.js';
import { EndTxn } from '../../protocol/apis/end-txn.js';
import { InitProducerId } from '../../protocol/apis/init-producer-id.js';
import { TxnOffsetCommit } from '../../protocol/apis/txn-offset-commit.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { ConfigError } from '../../shared/errors.js';
import { untilAborted } from '../../shared/until-aborted.js';
import type { ProducerIdentityView } from '../../shared/producer-identity.js';
import {
  TransactionAbortableError, TransactionFatalError, TransactionRetriableError, TransactionStateError,
} from '../../shared/transaction-errors.js';
import { CoordinatorType } from '../../protocol/apis/find-coordinator.js';
import type { Coordinators } from './coordinators.js';
import { recordFailure, transactionError, type TransactionFailure } from './transaction-errors.js';
import { PartitionAdds } from './partition-adds.js';
import type { OffsetsToCommit } from './offsets.js';
import { toOffsetTopics, type OffsetTopic } from './offsets.js';

export type TransactionState = 'uninitialized' | 'ready' | 'open' | 'ending' | 'committing' | 'abortable' | 'fatal';

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
  /** Resolves once every record given to the workers has been reported by them (Deliveries.whenEmpty). */
  readonly #drained: () => Promise<void>;
  #state: TransactionState = 'uninitialized';
  #protocol: 1 | 2 = 2;
  #producerId = -1n;
  #epoch = -1;
  /** Counts the transactions begun: a Transaction handle works only while its generation is the open one. */
  #generation = 0;
  /** Why the open transaction cannot commit, or why the producer is done. */
  #failure: TransactionFailure | undefined;
  /** Operations of the open transaction without a result yet (sends, sendOffsets), and who waits for none. */
  #pending = 0;
  #idle: (() => void)[] = [];
  /** Whether the coordinator may know of the open transaction (so EndTxn is needed to end it). */
  #touched = false;
  /** Whether a record of the open transaction failed (protocol v1 then bumps the epoch after the abort). */
  #recordFailed = false;
  /** Protocol v1: sequences may be in doubt at this epoch; InitProducerId bumps it before the next transaction. */
  #bumpNeeded = false;
  /** Aborts the open transaction's sends that have not gone out yet, when it aborts. */
  #cancel = new AbortController();
  /** Protocol v1 only: the partitions added to the open transaction. */
  #adds: PartitionAdds | undefined;
  /** The commit or abort under way, for close to wait for. */
  #ending: Promise<void> | undefined;
  /** An EndTxn(commit) of the open transaction went out and got no answer: the coordinator may have applied it. */
  #commitMayHaveApplied = false;
  /** close() began: no transaction opens any more. */
  #closing = false;

  constructor(settings: TransactionSettings, coordinators: Coordinators, identity: ProducerIdentityView, drained: () => Promise<void>) {
    this.#settings = settings;
    this.#coordinators = coordinators;
    this.#identity = identity;
    this.#drained = drained;
  }

  get state(): TransactionState {
    return this.#state;
  }

  /** Why the producer is fatal or the open transaction abortable; undefined otherwise. */
  get failure(): TransactionFailure | undefined {
    return this.#failure;
  }

  /** 1 or 2: the transaction protocol in use (known after init). */
  get protocol(): 1 | 2 {
    return this.#protocol;
  }

  /** The number of the open (or last) transaction. */
  get generation(): number {
    return this.#generation;
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
   * coordinator abort the transaction it left open. Then learns the transaction protocol version.
   */
  async init(): Promise<void> {
    // A fatal InitProducerId stays the answer: connecting again must not start workers with no producer id.
    if (this.#state === 'fatal') throw this.#failure!;
    if (this.#state !== 'uninitialized') return;
    const { transactionalId, transactionTimeoutMs } = this.#settings;
    // InitProducerId is the same in both protocols; its retries also ride out a coordinator not ready yet (a fresh
    // cluster creates its transaction state topic on first use).
    const answer = await this.#coordinators.call(CoordinatorType.TRANSACTION, transactionalId, InitProducerId,
      { transactionalId, transactionTimeoutMs }, { deadline: Date.now() + this.#settings.blockMs, errorOf: (r) => r.errorCode });
    if (answer.errorCode === ErrorCode.INVALID_TRANSACTION_TIMEOUT) {
      throw new ConfigError(`options.transactionTimeoutMs ${transactionTimeoutMs} is more than the broker's transaction.max.timeout.ms allows`);
    }
    if (answer.errorCode !== ErrorCode.NONE) this.#judge(answer.errorCode, 'InitProducerId');
    const connection = await this.#coordinators.connection(CoordinatorType.TRANSACTION, transactionalId);
    this.#protocol = connection.finalizedFeature('transaction.version') >= 2 ? 2 : 1;
    this.#publish(answer.producerId, answer.producerEpoch);
    this.#state = 'ready';
  }

  /** Opens a transaction; with protocol v1, first bumps the epoch if an earlier failure left sequences in doubt. */
  async begin(): Promise<void> {
    this.#checkBegin();
    if (this.#bumpNeeded) {
      this.#state = 'ending'; // nothing else starts while the epoch moves
      try {
        await this.#bump();
      } finally {
        if (this.#state === 'ending') this.#state = 'ready';
      }
      this.#checkBegin(); // close() may have begun meanwhile
    }
    this.#state = 'open';
    this.#generation++;
    this.#failure = undefined;
    this.#touched = false;
    this.#recordFailed = false;
    this.#cancel = new AbortController();
    if (this.#protocol === 1) this.#adds = new PartitionAdds(this.#coordinators, this.#settings.transactionalId, () => this.#ids());
  }

  /** Throws unless a transaction may open now: none is open or ending, and the producer is not closing. */
  #checkBegin(): void {
    this.#check('begin a transaction', ['ready']);
    // Opened after close() had aborted the open one, it would outlive the producer, open at the coordinator.
    if (this.#closing) throw new TransactionStateError('cannot begin a transaction: the producer is closing');
  }

  /** Throws unless records may be sent now: a transaction is open and can still commit. */
  checkSend(): void {
    if (this.#state === 'open') return;
    if (this.#state === 'abortable' || this.#state === 'fatal') throw this.#failure!;
    throw new TransactionStateError(
      this.#state === 'ending' || this.#state === 'committing'
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
    this.#touched = true; // the request may reach the coordinator whatever its answer
    const adding = adds.add(topic, partition, Date.now() + this.#settings.blockMs);
    // Commit and abort wait for it as for a send: the request goes out a tick later and may be retried, and an
    // EndTxn that overtook it would reach a coordinator that has not heard of the transaction (INVALID_TXN_STATE,
    // fatal), while the late add opened one the producer no longer knows of.
    this.#hold(adding.catch(() => undefined));
    try {
      await adding;
    } catch (error) {
      throw this.#fail(recordFailure(error));
    }
  }

  /** Follows a send of the open transaction until it has its result; a failed record makes the transaction abortable. */
  track<T>(result: Promise<T>, failures: (value: T) => unknown): void {
    // Protocol v2: the partition leader adds partitions, so any send may have told the coordinator of the
    // transaction. Protocol v1: only AddPartitionsToTxn does (addPartition), and an EndTxn for a transaction the
    // coordinator never heard of would be refused (INVALID_TXN_STATE, fatal).
    if (this.#protocol === 2) this.#touched = true;
    this.#hold(result.then(
      (value) => {
        const failure = failures(value);
        if (failure !== undefined) this.#onRecordFailed(failure);
      },
      (error: unknown) => this.#onRecordFailed(error),
    ));
  }

  /** A worker thread died: its partitions' sequence state at this epoch is lost, and a transaction open fails. */
  workerCrashed(error: unknown): void {
    if (this.#protocol === 1) this.#bumpNeeded = true;
    if (this.#state === 'open' || this.#state === 'ending' || this.#state === 'abortable') {
      this.#recordFailed = true;
      this.#fail(new TransactionAbortableError(-1, 'a worker thread crashed during the transaction, so it must abort', { cause: error }));
    }
  }

  #onRecordFailed(error: unknown): void {
    this.#recordFailed = true;
    this.#fail(recordFailure(error));
  }

  /**
   * Commits the open transaction once all of it is acknowledged. After a commit whose outcome stayed unknown
   * (state 'committing'), sends the same EndTxn(commit) again.
   */
  commit(signal?: AbortSignal): Promise<void> {
    // A refused call is not the ending close waits for: the commit or abort under way still is.
    const refused = this.#refusal('commit', ['open', 'committing']);
    if (refused !== undefined) return Promise.reject(refused);
    const ending = this.#commit(signal);
    this.#ending = ending.catch(() => undefined);
    return ending;
  }

  async #commit(signal: AbortSignal | undefined): Promise<void> {
    if (this.#state === 'committing') {
      // 'ending' while it is sent again: a second commit meanwhile is refused, or two EndTxn(commit) would be in
      // flight, and the late answer of one would end the transaction begun after the other.
      this.#state = 'ending';
      return this.#end(true, signal);
    }
    this.#state = 'ending';
    try {
      await this.#settled(signal);
    } catch (error) {
      // Aborted while records were still out: commit again, or abort; only abort if one of them failed meanwhile.
      if (this.#state === 'ending') this.#state = this.#failure === undefined ? 'open' : 'abortable';
      throw error;
    }
    if (this.#failure !== undefined) {
      if (this.#state === 'ending') this.#state = 'abortable';
      throw this.#failure;
    }
    if (!this.#touched) {
      this.#state = 'ready'; // nothing reached the coordinator: there is nothing to end
      return;
    }
    await this.#end(true, signal);
  }

  /**
   * Aborts the open transaction: records not sent yet are dropped (their sends reject 'not-sent'), those in batches
   * already are waited for, then EndTxn(abort) discards what was written.
   */
  abort(signal?: AbortSignal): Promise<void> {
    const refused = this.#refusal('abort', ['open', 'abortable']);
    if (refused !== undefined) return Promise.reject(refused);
    const ending = this.#abort(signal);
    this.#ending = ending.catch(() => undefined);
    return ending;
  }

  async #abort(signal: AbortSignal | undefined): Promise<void> {
    this.#state = 'ending';
    this.#cancel.abort(new TransactionStateError('the transaction was aborted'));
    try {
      await this.#settled(signal);
    } catch (error) {
      if (this.#state === 'ending') this.#toAbortable(error);
      throw error;
    }
    if ((this.#state as TransactionState) === 'fatal') throw this.#failure!;
    if (!this.#touched) {
      this.#state = 'ready';
      return;
    }
    await this.#end(false, signal);
  }

  /** Adds consumed offsets to the open transaction: they commit (or not) with its records. */
  sendOffsets(offsets: OffsetsToCommit, signal?: AbortSignal): Promise<void> {
    this.#check('send offsets', ['open']);
    // Bad input is the caller's error, before anything reaches a coordinator: the transaction stays open.
    const topics = toOffsetTopics(offsets.offsets);
    this.#touched = true;
    const work = this.#sendOffsets(offsets, topics, signal);
    // Commit and abort wait for it like for a send: EndTxn must not overtake the offsets of its transaction.
    this.#hold(work.catch(() => undefined));
    return work;
  }

  async #sendOffsets(offsets: OffsetsToCommit, topics: OffsetTopic[], signal: AbortSignal | undefined): Promise<void> {
    const { transactionalId } = this.#settings;
    const deadline = Date.now() + this.#settings.blockMs;
    try {
      if (this.#protocol === 1) {
        const added = await this.#coordinators.call(CoordinatorType.TRANSACTION, transactionalId, AddOffsetsToTxn,
          { transactionalId, ...this.#ids(), groupId: offsets.groupId }, { deadline, signal, errorOf: (r) => r.errorCode });
        if (added.errorCode !== ErrorCode.NONE) throw transactionError(added.errorCode, `AddOffsetsToTxn for group ${offsets.groupId}`);
      }
      const answer = await this.#coordinators.call(CoordinatorType.GROUP, offsets.groupId, TxnOffsetCommit, {
        transactionalId,
        groupId: offsets.groupId,
        ...this.#ids(),
        generationId: offsets.generationId ?? -1,
        memberId: offsets.memberId ?? '',
        groupInstanceId: offsets.groupInstanceId ?? null,
        topics,
      }, {
        deadline, signal, errorOf: firstPartitionError,
        ...(this.#protocol === 1 && { maxVersion: V1_MAX_TXN_OFFSET_COMMIT }),
      });
      const code = firstPartitionError(answer);
      if (code !== ErrorCode.NONE) throw transactionError(code, `TxnOffsetCommit for group ${offsets.groupId}`);
    } catch (error) {
      // Whatever the reason, offsets the caller asked for are not in the transaction for sure: it cannot commit.
      throw this.#fail(error instanceof TransactionAbortableError || error instanceof TransactionFatalError
        ? error
        : new TransactionAbortableError(-1, `sendOffsets for group ${offsets.groupId} did not complete, so the transaction must abort`, { cause: error }));
    }
  }

  /**
   * Close: lets a commit or abort under way finish, completes a commit whose outcome stayed unknown, and aborts a
   * transaction still open (unless fatal), so its records never wait for the coordinator's timeout.
   */
  async closeOpen(signal?: AbortSignal): Promise<void> {
    this.#closing = true;
    await this.#ending;
    if (this.#state === 'committing') await this.commit(signal).catch(() => undefined);
    if (this.#state === 'open' || this.#state === 'abortable') await this.abort(signal);
  }

  async #end(commit: boolean, signal: AbortSignal | undefined): Promise<void> {
    const { transactionalId } = this.#settings;
    const what = commit ? 'EndTxn(commit)' : 'EndTxn(abort)';
    let answer;
    const unanswered = { value: false };
    try {
      answer = await this.#coordinators.call(CoordinatorType.TRANSACTION, transactionalId, EndTxn,
        { transactionalId, ...this.#ids(), committed: commit },
        { deadline: Date.now() + this.#settings.blockMs, signal, unanswered, errorOf: (r) => r.errorCode, ...(this.#protocol === 1 && { maxVersion: V1_MAX_END_TXN }) });
    } catch (error) {
      if (!commit) {
        this.#toAbortable(error); // an abort can always be sent again
        throw error;
      }
      // An EndTxn(commit) sent without an answer may have been applied: only commit can follow (an abort could meet
      // a commit already applied). One never sent (cancelled, or no coordinator found before the deadline) leaves
      // the transaction as it was: commit again, or abort. Taken for 'committing', it made close() commit a
      // transaction its caller had cancelled.
      this.#commitMayHaveApplied ||= unanswered.value;
      this.#state = this.#commitMayHaveApplied ? 'committing' : this.#failure === undefined ? 'open' : 'abortable';
      throw error;
    }
    if (answer.errorCode !== ErrorCode.NONE) {
      const error = transactionError(answer.errorCode, what);
      if (error instanceof TransactionFatalError) throw this.#fail(error);
      if (commit && error instanceof TransactionRetriableError) {
        this.#commitMayHaveApplied = true;
        this.#state = 'committing';
      } else {
        this.#state = 'abortable';
        if (error instanceof TransactionAbortableError) this.#failure ??= error;
        else this.#toAbortable(error);
      }
      throw error;
    }
    if (this.#protocol === 2 && answer.producerEpoch >= 0) this.#publish(answer.producerId, answer.producerEpoch);
    else if (!commit && this.#recordFailed) this.#bumpNeeded = true;
    this.#adds = undefined;
    this.#commitMayHaveApplied = false;
    this.#state = 'ready';
    // Protocol v1: the bump is made now if it can be; begin() makes it otherwise, before any record of the next one.
    if (this.#bumpNeeded) await this.#bump().catch(() => undefined);
  }

  /** Protocol v1: InitProducerId with the current id and epoch (KIP-360) moves to the next epoch. */
  async #bump(): Promise<void> {
    const { transactionalId, transactionTimeoutMs } = this.#settings;
    const bumped = await this.#coordinators.call(CoordinatorType.TRANSACTION, transactionalId, InitProducerId,
      { transactionalId, transactionTimeoutMs, ...this.#ids() },
      { deadline: Date.now() + this.#settings.blockMs, errorOf: (r) => r.errorCode });
    if (bumped.errorCode !== ErrorCode.NONE) this.#judge(bumped.errorCode, 'InitProducerId (epoch bump)');
    this.#publish(bumped.producerId, bumped.producerEpoch);
    this.#bumpNeeded = false;
  }

  /** An abort that did not complete: only abort remains, and the reason is what later calls are told. */
  #toAbortable(cause: unknown): void {
    this.#state = 'abortable';
    this.#failure ??= new TransactionAbortableError(-1, 'the abort did not complete: call abortTransaction() again', { cause });
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
  #fail<E extends TransactionFailure>(failure: E): E {
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
    const refused = this.#refusal(action, allowed);
    if (refused !== undefined) throw refused;
  }

  /** Why `action` is refused in the current state; undefined when it is allowed. */
  #refusal(action: string, allowed: readonly TransactionState[]): Error | undefined {
    if (allowed.includes(this.#state)) return undefined;
    if (this.#state === 'fatal' || this.#state === 'abortable') return this.#failure!;
    const why: Record<TransactionState, string> = {
      uninitialized: 'the producer is not connected yet',
      ready: 'no transaction is open',
      open: 'a transaction is already open',
      ending: 'the transaction is already ending',
      committing: 'a commit whose outcome is unknown is pending: call commitTransaction() again',
      abortable: '',
      fatal: '',
    };
    return new TransactionStateError(`cannot ${action}: ${why[this.#state]}`);
  }

  /** Counts `work` as an operation of the open transaction until it settles (it must not reject). */
  #hold(work: Promise<void>): void {
    this.#pending++;
    void work.finally(() => {
      if (--this.#pending > 0) return;
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    });
  }

  /** Resolves once every operation of the transaction has its result and every record its worker's report. */
  async #settled(signal: AbortSignal | undefined): Promise<void> {
    const what = "aborted while the transaction's records were still out";
    if (this.#pending > 0) await untilAborted(new Promise<void>((resolve) => this.#idle.push(resolve)), signal, what);
    await untilAborted(this.#drained(), signal, what);
  }
}

function firstPartitionError(answer: { readonly topics: ReadonlyArray<{ readonly partitions: ReadonlyArray<{ readonly errorCode: number }> }> }): number {
  for (const topic of answer.topics) for (const p of topic.partitions) if (p.errorCode !== ErrorCode.NONE) return p.errorCode;
  return ErrorCode.NONE;
}
