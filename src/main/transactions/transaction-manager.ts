/**
 * The transaction of a transactional producer, owned by the main thread: InitProducerId, the open transaction and
 * EndTxn, in the order the coordinator needs them. Its states and the transitions a failure makes are in
 * transaction-state.ts, the requests it sends in transaction-requests.ts, the producer id and epoch the workers stamp
 * their batches with in producer-epoch.ts.
 *
 * A transaction ends only once nothing of it is left on any worker or on the wire (outstanding-work.ts), so EndTxn
 * cannot commit half of it and no batch of it can be stamped with the next epoch. A record that failed makes the
 * transaction abortable; a fenced answer makes the producer fatal (docs/transactions.md).
 *
 * Transaction protocol v2 (KIP-890, finalized `transaction.version` >= 2): Produce v12+ adds partitions implicitly,
 * TxnOffsetCommit needs no AddOffsetsToTxn, and every EndTxn bumps the epoch. Protocol v1: AddPartitionsToTxn before
 * a partition's first batch in the transaction, and the epoch is bumped only after an abort in which a record failed.
 */
import { CoordinatorType } from '../../protocol/apis/find-coordinator.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { ConfigError } from '../../shared/errors.js';
import type { ProducerIdentityView } from '../../shared/producer-identity.js';
import { TransactionFatalError, TransactionRetriableError, TransactionStateError } from '../../shared/transaction-errors.js';
import { AbortError, ProducerClosedError } from '../../shared/producer-errors.js';
import { untilAborted } from '../../shared/until-aborted.js';
import type { Coordinators } from './coordinators.js';
import { toOffsetTopics, type OffsetsToCommit, type OffsetTopic } from './offsets.js';
import { OutstandingWork } from './outstanding-work.js';
import { SendSignals } from './send-signals.js';
import { PartitionAdds } from './partition-adds.js';
import { ProducerEpoch } from './producer-epoch.js';
import { offsetsFailure, recordFailure, transactionError, type TransactionFailure } from './transaction-errors.js';
import { TransactionRequests, maxProduceVersion, type TransactionSettings } from './transaction-requests.js';
import { TransactionStatus, type TransactionState } from './transaction-state.js';

export type { TransactionSettings } from './transaction-requests.js';
export type { TransactionState } from './transaction-state.js';

export class TransactionManager {
  readonly #settings: TransactionSettings;
  readonly #coordinators: Coordinators;
  readonly #requests: TransactionRequests;
  /** The state, and why the open transaction cannot commit or the producer is done. */
  readonly #status = new TransactionStatus();
  readonly #epoch: ProducerEpoch;
  /** Operations of the open transaction without a result yet (sends, sendOffsets), and the workers' records. */
  readonly #outstanding: OutstandingWork;
  #protocol: 1 | 2 = 2;
  /** Counts the transactions begun: a Transaction handle works only while its generation is the open one. */
  #generation = 0;
  /** When the open transaction began, to tell a refused EndTxn that it outlived transactionTimeoutMs. */
  #openedAt = 0;
  /** Whether the coordinator may know of the open transaction (so EndTxn is needed to end it). */
  #touched = false;
  /** Protocol v1: an AddPartitionsToTxn or AddOffsetsToTxn was accepted, or went out without an answer. */
  readonly #reached = (): void => {
    this.#touched = true;
  };
  /** Aborts the open transaction's sends that have not gone out yet, when it aborts. */
  #cancel = new AbortController();
  #sendSignals = new SendSignals(this.#cancel.signal);
  /** Protocol v1 only: the partitions added to the open transaction. */
  #adds: PartitionAdds | undefined;
  /** The commit or abort under way, for close to wait for. */
  #ending: Promise<void> | undefined;
  /** close() began: no transaction opens any more. */
  #closing = false;

  constructor(settings: TransactionSettings, coordinators: Coordinators, identity: ProducerIdentityView, drained: () => Promise<void>) {
    this.#settings = settings;
    this.#coordinators = coordinators;
    this.#requests = new TransactionRequests(settings, coordinators);
    this.#epoch = new ProducerEpoch(identity, this.#requests, this.#status);
    this.#outstanding = new OutstandingWork(drained);
  }

  get state(): TransactionState {
    return this.#status.state;
  }

  /** Why the producer is fatal or the open transaction abortable; undefined otherwise. */
  get failure(): TransactionFailure | undefined {
    return this.#status.failure;
  }

  /** 1 or 2: the transaction protocol in use (known after init). */
  get protocol(): 1 | 2 {
    return this.#protocol;
  }

  /** close() began: no transaction opens any more, and an open one ends with an abort. */
  get closing(): boolean {
    return this.#closing;
  }

  /** The number of the open (or last) transaction. */
  get generation(): number {
    return this.#generation;
  }

  /** The highest Produce version the workers may send. */
  get maxProduceVersion(): number {
    return maxProduceVersion(this.#protocol);
  }

  get identity(): { producerId: bigint; producerEpoch: number } {
    return this.#epoch.ids();
  }

  /** The open transaction's cancellation signal: sends made in it listen to it, so an abort drops unsent records. */
  get signal(): AbortSignal {
    return this.#cancel.signal;
  }

  /** What a send in the open transaction listens to: `caller`'s signal and the transaction's together. */
  signalFor(caller: AbortSignal | undefined): AbortSignal {
    return this.#sendSignals.for(caller);
  }

  /**
   * InitProducerId with the transactional id: fences any earlier producer with the same id and has the
   * coordinator abort the transaction it left open. Then learns the transaction protocol version.
   */
  async init(): Promise<void> {
    // A fatal InitProducerId stays the answer: connecting again must not start workers with no producer id.
    if (this.#status.state === 'fatal') throw this.#status.failure!;
    if (this.#status.state !== 'uninitialized') return;
    const { transactionalId, transactionTimeoutMs } = this.#settings;
    const answer = await this.#status.recordingFatal(this.#requests.initProducerId());
    if (answer.errorCode === ErrorCode.INVALID_TRANSACTION_TIMEOUT) {
      throw new ConfigError(`options.transactionTimeoutMs ${transactionTimeoutMs} is more than the broker's transaction.max.timeout.ms allows`);
    }
    if (answer.errorCode !== ErrorCode.NONE) this.#status.judge(answer.errorCode, 'InitProducerId');
    let connection;
    try {
      connection = await this.#coordinators.connection(CoordinatorType.TRANSACTION, transactionalId);
    } catch (error) {
      // The connection InitProducerId was answered on, gone since (or found again and refused): connecting again
      // asks afresh. Passed on as it was, it was an error of none of the documented transaction classes.
      if (error instanceof AbortError) throw error; // the producer is closing
      throw new TransactionRetriableError(-1, `the transaction coordinator of ${transactionalId} could not be reached after InitProducerId`, { cause: error });
    }
    this.#protocol = connection.finalizedFeature('transaction.version') >= 2 ? 2 : 1;
    this.#epoch.publish(answer.producerId, answer.producerEpoch);
    this.#status.state = 'ready';
  }

  /**
   * Opens a transaction; with protocol v1, first bumps the epoch if an earlier failure left sequences in doubt. A
   * commit or abort under way is waited for first (a transaction(fn) whose signal aborted leaves its abort running).
   * `signal` releases the caller; an epoch bump already sent goes on, and no transaction opens for a caller gone.
   */
  async begin(signal?: AbortSignal): Promise<void> {
    const status = this.#status;
    if (status.state === 'ending' && this.#ending !== undefined) {
      await untilAborted(this.#ending, signal, 'beginTransaction was aborted while the transaction before it ended');
    }
    this.#checkBegin();
    if (this.#epoch.bumpNeeded) {
      status.state = 'ending'; // nothing else starts while the epoch moves
      const bump = this.#epoch.bump().finally(() => {
        if (status.state === 'ending') status.state = 'ready';
      });
      this.#ending = bump.catch(() => undefined);
      await untilAborted(bump, signal, 'beginTransaction was aborted while the producer epoch was bumped');
      this.#checkBegin(); // close() may have begun meanwhile
    }
    status.open();
    this.#openedAt = Date.now();
    this.#generation++;
    this.#touched = false;
    this.#sendSignals.release();
    this.#cancel = new AbortController();
    this.#sendSignals = new SendSignals(this.#cancel.signal);
    if (this.#protocol === 1) this.#adds = new PartitionAdds(this.#coordinators, this.#settings.transactionalId, () => this.#epoch.ids(), this.#reached);
  }

  /** Throws unless a transaction may open now: none is open or ending, and the producer is not closing. */
  #checkBegin(): void {
    this.#status.check('begin a transaction', ['ready']);
    // Opened after close() had aborted the open one, it would outlive the producer, open at the coordinator.
    if (this.#closing) throw new TransactionStateError('cannot begin a transaction: the producer is closing');
  }

  /** Throws unless records may be sent now: a transaction is open and can still commit. */
  checkSend(): void {
    this.#status.checkSend();
  }

  /** Protocol v1: whether `topic`-`partition` is already part of the open transaction (then a record may go now). */
  isAdded(topic: string, partition: number): boolean {
    return this.#adds === undefined || this.#adds.has(topic, partition);
  }

  /** Protocol v1: adds the partition to the open transaction (AddPartitionsToTxn), sharing one request per tick. */
  async addPartition(topic: string, partition: number): Promise<void> {
    const adds = this.#adds;
    if (adds === undefined || adds.has(topic, partition)) return;
    // The coordinator knows the transaction only once an add was accepted or went out unanswered (PartitionAdds
    // says, #reached). Taken as known at once, an add refused (a topic not writable) made the abort that followed
    // send EndTxn to a coordinator with no transaction, whose INVALID_TXN_STATE is fatal.
    const adding = adds.add(topic, partition, Date.now() + this.#settings.blockMs);
    // Commit and abort wait for it as for a send: the request goes out a tick later and may be retried, and an
    // EndTxn that overtook it would reach a coordinator that has not heard of the transaction (INVALID_TXN_STATE,
    // fatal), while the late add opened one the producer no longer knows of.
    this.#outstanding.hold(adding.catch(() => undefined));
    try {
      await adding;
    } catch (error) {
      throw this.#status.fail(recordFailure(error));
    }
  }

  /** Follows a send of the open transaction until it has its result; a failed record makes the transaction abortable. */
  track<T>(result: Promise<T>, failures: (value: T) => unknown): void {
    // Protocol v2: the partition leader adds partitions, so any send may have told the coordinator of the
    // transaction. Protocol v1: only AddPartitionsToTxn does (addPartition), and an EndTxn for a transaction the
    // coordinator never heard of would be refused (INVALID_TXN_STATE, fatal).
    if (this.#protocol === 2) this.#touched = true;
    this.#outstanding.hold(result.then(
      (value) => {
        const failure = failures(value);
        if (failure !== undefined) this.#status.onRecordFailed(failure);
      },
      (error: unknown) => this.#status.onRecordFailed(error),
    ));
  }

  /** A worker thread died: its partitions' sequence state at this epoch is lost, and a transaction open fails. */
  workerCrashed(error: unknown): void {
    if (this.#protocol === 1) this.#epoch.bumpNeeded = true;
    this.#status.workerCrashed(error);
  }

  /**
   * Commits the open transaction once all of it is acknowledged. After a commit whose outcome stayed unknown
   * (state 'committing'), sends the same EndTxn(commit) again.
   */
  commit(signal?: AbortSignal): Promise<void> {
    // A refused call is not the ending close waits for: the commit or abort under way still is. Once close has begun,
    // an open transaction is close's to abort: a commit asked for in the same tick as close() went through, and
    // close, finding it under way, aborted nothing. Only a commit whose outcome is unknown is completed then.
    const refused = this.#closedRefusal('commit', ['committing']) ?? this.#status.refusal('commit', ['open', 'committing']);
    if (refused !== undefined) return Promise.reject(refused);
    const ending = this.#commit(signal);
    this.#ending = ending.catch(() => undefined);
    return ending;
  }

  async #commit(signal: AbortSignal | undefined): Promise<void> {
    const status = this.#status;
    if (status.state === 'committing') {
      // 'ending' while it is sent again: a second commit meanwhile is refused, or two EndTxn(commit) would be in
      // flight, and the late answer of one would end the transaction begun after the other.
      status.state = 'ending';
      return this.#end(true, signal);
    }
    status.state = 'ending';
    try {
      await this.#outstanding.settled(signal);
    } catch (error) {
      // Aborted while records were still out: commit again, or abort; only abort if one of them failed meanwhile.
      if (status.state === 'ending') status.state = status.failure === undefined ? 'open' : 'abortable';
      throw error;
    }
    if (status.failure !== undefined) {
      if (status.state === 'ending') status.state = 'abortable';
      throw status.failure;
    }
    if (!this.#touched) {
      status.state = 'ready'; // nothing reached the coordinator: there is nothing to end
      this.#sendSignals.release();
      return;
    }
    await this.#end(true, signal);
  }

  /**
   * Aborts the open transaction: records not sent yet are dropped (their sends reject 'not-sent'), those in batches
   * already are waited for, then EndTxn(abort) discards what was written.
   */
  abort(signal?: AbortSignal): Promise<void> {
    const refused = this.#closedRefusal('abort', ['open', 'abortable']) ?? this.#status.refusal('abort', ['open', 'abortable']);
    if (refused !== undefined) return Promise.reject(refused);
    // The abort runs to its end without the caller's signal, which releases only the caller (docs/transactions.md,
    // 8): its sends are cancelled at once, and it waits for the batches in flight and for EndTxn(abort)'s answer,
    // each as long as a broker stays silent. Cut short by the signal, EndTxn(abort) was left unanswered and the
    // transaction's state with it. The next begin waits for the abort (#ending); close stops it with the coordinators.
    const ending = this.#abort();
    this.#ending = ending.catch(() => undefined);
    return untilAborted(ending, signal, 'abortTransaction was aborted; the abort goes on without its caller');
  }

  async #abort(): Promise<void> {
    const status = this.#status;
    status.state = 'ending';
    this.#cancel.abort(new TransactionStateError('the transaction was aborted'));
    // Every operation and record of the transaction ends within its own timeout; with no signal this never rejects.
    await this.#outstanding.settled(undefined);
    if ((status.state as TransactionState) === 'fatal') throw status.failure!;
    if (!this.#touched) {
      status.state = 'ready';
      this.#sendSignals.release();
      return;
    }
    await this.#end(false, undefined);
  }

  /**
   * Closing, a commit or abort with no transaction left to end is told the producer closed (close() aborted the
   * transaction), not "no transaction is open": the caller of transaction(fn) whose fn resolved during close heard a
   * TransactionStateError, which code that handles ProducerClosedError does not recognise.
   */
  #closedRefusal(action: string, allowed: readonly TransactionState[]): Error | undefined {
    if (!this.#closing || allowed.includes(this.#status.state) || this.#status.state === 'fatal') return undefined;
    return new ProducerClosedError('not-sent', `cannot ${action}: the producer is closing, and close() ends the open transaction with an abort`);
  }

  /** Adds consumed offsets to the open transaction: they commit (or not) with its records. */
  sendOffsets(offsets: OffsetsToCommit, signal?: AbortSignal): Promise<void> {
    this.#status.check('send offsets', ['open']);
    // Bad input is the caller's error, before anything reaches a coordinator: the transaction stays open.
    const topics = toOffsetTopics(offsets.offsets);
    // Nothing to commit adds nothing to the transaction (as Java's sendOffsetsToTransaction): under protocol v2 an
    // EndTxn(commit) for a transaction no request reached is refused with INVALID_TXN_STATE, which is fatal.
    if (topics.length === 0) return Promise.resolve();
    // Protocol v2: TxnOffsetCommit itself adds the group to the transaction. Protocol v1: AddOffsetsToTxn does, once
    // accepted or sent unanswered (#reached).
    if (this.#protocol === 2) this.#touched = true;
    const work = this.#sendOffsets(offsets, topics, signal);
    // Commit and abort wait for it like for a send: EndTxn must not overtake the offsets of its transaction.
    this.#outstanding.hold(work.catch(() => undefined));
    // The caller is released at once when `signal` aborts, also while a request is on the wire (it waited up to
    // requestTimeoutMs): unlike EndTxn's, no outcome hangs on its answer. The request goes on, EndTxn still waits for
    // it, and the transaction can only abort now, since whether the offsets were added is not known.
    return untilAborted(work, signal, `sendOffsets for group ${offsets.groupId} was aborted`).catch((error: unknown) => {
      throw error instanceof AbortError ? this.#status.fail(offsetsFailure(error, offsets.groupId)) : error;
    });
  }

  async #sendOffsets(offsets: OffsetsToCommit, topics: OffsetTopic[], signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#requests.sendOffsets(this.#protocol, () => this.#epoch.ids(), offsets, topics, signal, this.#reached);
    } catch (error) {
      throw this.#status.fail(offsetsFailure(error, offsets.groupId));
    }
  }

  /**
   * Close: lets a commit or abort under way finish, completes a commit whose outcome stayed unknown, and aborts a
   * transaction still open (unless fatal), so its records never wait for the coordinator's timeout.
   */
  async closeOpen(signal?: AbortSignal): Promise<void> {
    this.#closing = true;
    // Until no new ending is under way: an abortTransaction() called in the same tick as close() began its EndTxn
    // after close looked, and close went on to shut the coordinators down under it.
    for (let ending = this.#ending; ; ending = this.#ending) {
      await ending;
      if (ending === this.#ending) break;
    }
    if (this.#status.state === 'committing') await this.commit(signal).catch(() => undefined);
    if (this.#status.state === 'open' || this.#status.state === 'abortable') await this.abort(signal);
  }

  /**
   * Said with a refused EndTxn when the transaction was open longer than transactionTimeoutMs: its coordinator aborts
   * such a transaction on its own (checking every 10 s by default), and answers the EndTxn that comes after with
   * INVALID_TXN_STATE or a fenced epoch, which named no timeout.
   */
  #overran(): string | undefined {
    const openMs = Date.now() - this.#openedAt;
    const { transactionTimeoutMs } = this.#settings;
    if (openMs <= transactionTimeoutMs) return undefined;
    return `the transaction was open ${openMs} ms, longer than transactionTimeoutMs (${transactionTimeoutMs} ms), after which its coordinator aborts it`;
  }

  async #end(commit: boolean, signal: AbortSignal | undefined): Promise<void> {
    const what = commit ? 'EndTxn(commit)' : 'EndTxn(abort)';
    let answer;
    const unanswered = { value: false };
    try {
      answer = await this.#requests.endTxn(this.#protocol, this.#epoch.ids(), commit, signal, unanswered);
    } catch (error) {
      this.#status.endFailed(commit, error, unanswered.value);
      if (this.#status.state === 'fatal') this.#sendSignals.release(); // no transaction follows
      // An EndTxn(commit) that went out unanswered may have been applied: cut short while waiting to retry, it is no
      // 'not-sent' abort. Cut short by the caller's signal, the commit must be sent again, which the error says; by
      // close, it never can be (every later try meets the closed coordinators at once, and a retry loop would spin).
      if (this.#status.state === 'committing' && error instanceof AbortError) {
        if (this.#closing) throw new ProducerClosedError('unknown', `the producer closed before the outcome of ${what} was known`, { cause: error });
        throw new TransactionRetriableError(-1, `${what} went out without an answer and may have been applied; its retry was cut short (${error.message}): call commitTransaction() again`, { cause: error });
      }
      throw error;
    }
    if (answer.errorCode !== ErrorCode.NONE) {
      const refused = transactionError(answer.errorCode, what, this.#overran());
      // An attempt of this commit (or of an earlier call's) went out without an answer and may have been applied: a
      // refusal of a retry does not undo it, so only commit may follow. Taken as the refusal it reads as, it let an
      // abort be sent after a commit the coordinator may have applied.
      const mayHaveApplied = commit && (unanswered.value || this.#status.commitMayHaveApplied) && !(refused instanceof TransactionFatalError);
      const error = mayHaveApplied
        ? new TransactionRetriableError(refused.errorCode, `${what} went out without an answer and may have been applied, and a retry was refused (${refused.message}): call commitTransaction() again`, { cause: refused })
        : refused;
      this.#status.endRefused(commit, error);
      if (this.#status.state === 'fatal') this.#sendSignals.release();
      throw error;
    }
    if (this.#protocol === 2 && answer.producerEpoch >= 0) this.#epoch.publish(answer.producerId, answer.producerEpoch);
    else if (!commit && this.#status.recordFailed) this.#epoch.bumpNeeded = true;
    this.#adds = undefined;
    this.#status.ended();
    this.#sendSignals.release();
    // Protocol v1: the bump is made now if it can be; begin() makes it otherwise, before any record of the next one.
    // 'ending' meanwhile: a begin called now waits for it; in 'ready' it sent a second InitProducerId at the same epoch.
    if (this.#epoch.bumpNeeded) {
      this.#status.state = 'ending';
      await this.#epoch.bump().catch(() => undefined);
      if (this.#status.state === 'ending') this.#status.state = 'ready';
    }
  }
}
