/**
 * The Producer, the public façade: its options, its lifecycle (connect, flush, close), transactions, metrics. A
 * record goes in through the intake (record-intake.ts), which checks and serialises it, picks its partition,
 * accounts for its bytes and admits it in call order. From acceptance on, it belongs to the delivery settlement
 * (deliveries.ts), which hands it to its worker's handle (worker-handle.ts) and settles its caller from the
 * workers' completions; the workers' threads belong to the worker group (worker-group.ts). The order in which
 * close releases all of it is producer-shutdown.ts's; what the KafkaJS layer reaches beyond the public API,
 * producer-internals.ts's.
 *
 * Every path settles every promise (invariant 2, docs/invariants.md): a send ends resolved, or rejected with an error whose
 * `delivery` says whether the record may still reach the broker; flush and close always end; a crashed worker's
 * records are failed and the worker is replaced.
 */
import { AddressOrder } from '../net/address-order.js';
import { ProducerEventEmitter } from './producer-events.js';
import { ByteBudget } from './byte-budget.js';
import { Deliveries } from './deliveries.js';
import { BatchSettler, DetachedSettler, FailureSettler, SendSettler } from './settlers.js';
import { SendTracker } from './send-tracker.js';
import { RecordIntake } from './record-intake.js';
import { resolveOptions, type ProducerOptions } from './options.js';
import { InvalidRecordError, type ProducerRecord } from './serialize.js';
import { TopicRegistry } from './topic-registry.js';
import { WorkerGroup } from './worker-group.js';
import { WorkerHandle } from './worker-handle.js';
import type { CloseOptions, ConnectOptions, ProducerMetrics, RecordMetadata, SendBatchFailures, SendBatchOptions, SendBatchResult, SendOptions } from './types.js';
import { allocateProducerMemory } from './shared-memory.js';
import { closeLimitsFor, hurryClose, shutdownProducer } from './producer-shutdown.js';
import type { CloseLimits } from './close-limits.js';
import { provideProducerInternals } from './producer-internals.js';
import { badSignal, callOptionsError, checkCallOptions, closeOptionsError, describe, isSignal, NO_OPTIONS } from './call-options.js';
import type { ControlBlock } from '../shared/control-block.js';
import { workerSettings } from './worker-settings.js';
import { untilAborted } from '../shared/until-aborted.js';
import { withReason } from './deadlines.js';
import { sumWorkerStats } from '../shared/worker-stats.js';
import { AbortError, AuthenticationError, ProducerClosedError, WorkerStartError } from '../shared/producer-errors.js';
import { ConfigError } from '../shared/errors.js';
import { notSent } from './outcomes.js';
import { OAuthTokens } from './oauth-tokens.js';
import type { SaslCredentials } from '../net/sasl.js';
import { channels, type SendBatchContext, type SendContext } from './tracing.js';
import { RecordWritable, type WritableOptions } from './record-writable.js';
import { ProducerIdentityView } from '../shared/producer-identity.js';
import { TransactionStateError } from '../shared/transaction-errors.js';
import { Coordinators } from './transactions/coordinators.js';
import { TransactionManager } from './transactions/transaction-manager.js';
import { checkOffsetsRequest, type OffsetsToCommit } from './transactions/offsets.js';
import type { Transaction, TransactionOptions } from './transactions/transaction.js';
import { firstRejection, inTransaction, runTransaction } from './transactions/run-transaction.js';

export class Producer extends ProducerEventEmitter {
  readonly #control: ControlBlock;
  readonly #budget: ByteBudget;
  readonly #deliveries: Deliveries;
  readonly #workers: WorkerGroup;
  readonly #registry: TopicRegistry;
  readonly #intake: RecordIntake;
  readonly #detached = new DetachedSettler((error) => this.emit('deliveryError', error));
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Close's times and signals, from the first close on: a later one brings them forward. */
  #closeLimits: CloseLimits | undefined;
  readonly #stopLoop = new AbortController();
  /** Aborted by close once nothing waits for the connection (ShutdownParts.stopConnecting). */
  readonly #stopConnecting = new AbortController();
  readonly #sends = new SendTracker();
  /** OAUTHBEARER only: the token cache both the metadata connection and the workers draw from. */
  readonly #tokens: OAuthTokens | undefined;
  /** A transactional producer's transaction state (docs/transactions.md); undefined otherwise. */
  readonly #transactions: TransactionManager | undefined;
  readonly #coordinators: Coordinators | undefined;
  readonly #requestTimeoutMs: number;
  readonly #deliveryTimeoutMs: number;

  constructor(options?: ProducerOptions) {
    super();
    const resolved = resolveOptions(options);
    const { maxBufferedBytes, maxBufferedRecords, sasl, transactionalId } = resolved;
    this.#requestTimeoutMs = resolved.requestTimeoutMs;
    this.#deliveryTimeoutMs = resolved.deliveryTimeoutMs;
    const { control, recordStates, identity } = allocateProducerMemory(maxBufferedRecords, transactionalId !== null);
    this.#control = control;
    this.#budget = new ByteBudget(control, {
      maxBytes: maxBufferedBytes,
      maxRecords: maxBufferedRecords,
      // Workers stop lingering while anyone waits; one asleep in a long linger must be woken to notice.
      onWaiting: () => this.#workers.wake(),
    });
    let credentials: SaslCredentials | null;
    if (sasl?.mechanism === 'oauthbearer') {
      const tokens = (this.#tokens = new OAuthTokens(sasl.token, resolved.requestTimeoutMs));
      credentials = { mechanism: 'oauthbearer', extensions: sasl.extensions, token: () => tokens.get() };
    } else credentials = sasl;
    const bootstrapOrder = new AddressOrder();
    const registry = (this.#registry = new TopicRegistry({ ...resolved, sasl: credentials, bootstrapOrder }));
    if (transactionalId !== null && identity !== null) {
      const coordinators = (this.#coordinators = new Coordinators(registry, resolved));
      this.#transactions = new TransactionManager(
        { transactionalId, transactionTimeoutMs: resolved.transactionTimeoutMs, blockMs: resolved.bufferTimeoutMs },
        coordinators, new ProducerIdentityView(identity), () => this.#sealingUntil(this.#deliveries.whenEmpty()),
      );
    }
    // One handle per worker for the producer's whole life; the settlement and the group both hold them.
    const handles = Array.from({ length: resolved.workers }, (_, index) => new WorkerHandle(index));
    const deliveries = (this.#deliveries = new Deliveries({
      budget: this.#budget, registry, sends: this.#sends, deliveryTimeoutMs: resolved.deliveryTimeoutMs, recordStates, handles,
      // In a later tick, as 'deliveryError' (DetachedSettler): a listener that throws would otherwise end the settle
      // loop, and no completion would be read again.
      emit: (event, payload) => process.nextTick(() => this.emit(event, payload)),
    }));
    this.#workers = new WorkerGroup({
      handles, deliveries, registry, options: resolved, tokens: this.#tokens, transactions: this.#transactions, bootstrapOrder,
      wakeSettlement: () => control.wakeMain(),
      launch: { workerCount: resolved.workers, control: control.buffer, recordStates, identity, settings: workerSettings(resolved) },
      emit: (event, error, index) => this.emit(event, error, index),
    });
    this.#intake = new RecordIntake({
      options: resolved, budget: this.#budget, deliveries, registry, workers: this.#workers, sends: this.#sends,
      transactions: this.#transactions, connect: () => this.#connect(),
    });
  }

  /**
   * Connects to the cluster, obtains a producer id (idempotence) and starts the workers. `send` calls it too. With
   * `signal`, the caller's wait ends when it aborts (AbortError); the attempt goes on for the sends that wait for it,
   * as the attempt is one for every caller.
   */
  connect(options: ConnectOptions = {}): Promise<void> {
    const badOptions = callOptionsError('connect', options);
    if (badOptions !== undefined) return Promise.reject(badOptions);
    // Not by #connect's check, which lets the attempt under way serve sends made before close: a connected producer's
    // connect() after close() resolved with that attempt's promise.
    if (this.#closing !== undefined) return Promise.reject(new ProducerClosedError('not-sent', 'the producer is closed'));
    const { signal } = options;
    if (signal === undefined) return this.#connect();
    if (signal.aborted) return Promise.reject(new AbortError('not-sent', 'connect aborted', { cause: signal.reason }));
    // With why the attempt has not connected yet: a caller whose deadline aborts it (AbortSignal.timeout) learnt only
    // that it was aborted, while the producer knew that every attempt was refused.
    return untilAborted(this.#connect(), signal, () => withReason(
      'connect aborted; the connection attempt goes on for the sends that wait for it', this.#registry.reconnectReason()));
  }

  /** The one connection attempt, shared by every caller and every send that waits for it. */
  #connect(): Promise<void> {
    // While closing, sends made before close may still need the connection that is under way; nothing new starts.
    if (this.#intake.closed && this.#connecting === undefined) return Promise.reject(new ProducerClosedError('not-sent', 'the producer is closed'));
    this.#connecting ??= this.#start().catch((error: unknown) => {
      this.#connecting = undefined; // a later call may try again
      // Every send waiting now waited for this attempt: it fails with it, rather than each start its own.
      if (error instanceof WorkerStartError || error instanceof AuthenticationError) this.#intake.failWaiting(error);
      throw error;
    });
    return this.#connecting;
  }

  /** Starts the workers (the group is usable only once every worker loop runs), then settles their reports. */
  async #start(): Promise<void> {
    const closing = this.#stopConnecting.signal;
    try {
      await this.#workers.start(closing);
    } catch (error) {
      if (closing.aborted) throw new ProducerClosedError('not-sent', 'the producer closed while it was connecting', { cause: error });
      throw error;
    }
    void this.#deliveries.settleLoop(this.#control, this.#stopLoop.signal);
  }

  /** Sends one record; resolves with where it landed. */
  send(record: ProducerRecord, options: SendOptions = NO_OPTIONS): Promise<RecordMetadata> {
    // Checked here, before any closure or context exists: tracing costs nothing while nobody listens.
    if (channels.send.hasSubscribers) {
      const traced: SendContext = { record };
      return channels.send.tracePromise(() => this.#send(traced.record, options), traced);
    }
    return this.#send(record, options);
  }

  #send(record: ProducerRecord, options: SendOptions): Promise<RecordMetadata> {
    const badOptions = callOptionsError('send', options);
    if (badOptions !== undefined) return this.#refused(1, badOptions);
    const settler = new SendSettler();
    const transactions = this.#transactions;
    if (transactions === undefined) {
      this.#intake.submitOne(record, options.signal, settler, 0);
      return settler.promise;
    }
    try {
      transactions.checkSend();
    } catch (error) {
      return this.#refused(1, error as Error);
    }
    this.#intake.submitOne(record, inTransaction(options.signal, transactions), settler, 0);
    transactions.track(settler.promise, () => undefined);
    return settler.promise;
  }

  /**
   * Sends many records; one settled result per record, in order, or with `results: 'failures'` only the failed
   * records (SendBatchOptions). Costs one promise, not one per record. Every record is checked and serialised
   * during the call; beyond the first 2,048 they are placed in later turns of the event loop, a slice per turn, so a
   * large call does not hold the loop (later calls keep their place behind it).
   */
  sendBatch(records: readonly ProducerRecord[], options: SendBatchOptions & { readonly results: 'failures' }): Promise<SendBatchFailures>;
  sendBatch(records: readonly ProducerRecord[], options?: SendBatchOptions & { readonly results?: 'all' | undefined }): Promise<PromiseSettledResult<RecordMetadata>[]>;
  sendBatch(records: readonly ProducerRecord[], options?: SendBatchOptions): Promise<SendBatchResult>;
  sendBatch(records: readonly ProducerRecord[], options: SendBatchOptions = NO_OPTIONS): Promise<SendBatchResult> {
    return this.#tracedBatch(records, options, undefined);
  }

  static {
    provideProducerInternals({
      reach: async (producer, signal) => void (await producer.#registry.connection(signal)),
      batchThrough: (producer, records, settlerFor, signal) =>
        producer.#tracedBatch(records, { results: 'failures', signal }, settlerFor) as Promise<SendBatchFailures>,
      stateOfTransactions: (producer) => producer.#transactions?.state,
      connectFailure: (producer) => producer.#registry.reconnectReason(),
    });
  }

  /** A call refused whole (its options, a send outside a transaction): its records count as failed sends. */
  #refused<T>(records: number, error: Error): Promise<T> {
    this.#deliveries.recordsFailed += records;
    return Promise.reject(notSent(error));
  }

  /** sendBatch, settled through the settler `settlerFor` makes when given (sendBatchThrough), else through the one `options` asks for. */
  #tracedBatch(records: readonly ProducerRecord[], options: SendBatchOptions, settlerFor: ((count: number) => FailureSettler) | undefined): Promise<SendBatchResult> {
    if (channels.sendBatch.hasSubscribers) {
      const traced: SendBatchContext = { records };
      return channels.sendBatch.tracePromise(() => this.#sendBatch(traced.records, options, settlerFor), traced);
    }
    return this.#sendBatch(records, options, settlerFor);
  }

  #sendBatch(records: readonly ProducerRecord[], options: SendBatchOptions, settlerFor: ((count: number) => FailureSettler) | undefined): Promise<SendBatchResult> {
    // Rejected, not thrown: reading the length of null threw a TypeError out of the call.
    if (!Array.isArray(records)) return Promise.reject(new InvalidRecordError(`sendBatch records must be an array, got ${describe(records)}`));
    const badOptions = callOptionsError('sendBatch', options);
    if (badOptions !== undefined) return this.#refused(records.length, badOptions);
    const results = options.results;
    if (results !== undefined && results !== 'all' && results !== 'failures') {
      return this.#refused(records.length, new ConfigError(`sendBatch options.results must be 'all' or 'failures', got ${typeof results === 'string' ? JSON.stringify(results) : String(results)}`));
    }
    const transactions = this.#transactions;
    let signal = options.signal;
    if (transactions !== undefined) {
      try {
        transactions.checkSend();
      } catch (error) {
        return this.#refused(records.length, error as Error);
      }
      signal = inTransaction(signal, transactions);
    }
    const settler = settlerFor !== undefined ? settlerFor(records.length) : results === 'failures' ? new FailureSettler(records.length) : new BatchSettler(records.length);
    this.#intake.submitBatch(records, signal, settler);
    // No record, nothing sent: tracked, it marked the transaction as known to its coordinator, and under protocol v2
    // the commit of a transaction whose only call was sendBatch([]) (a poll that left nothing) was refused, fatally.
    if (records.length > 0) transactions?.track(settler.promise, firstRejection);
    return settler.promise;
  }

  /**
   * An object-mode Writable of records for `stream.pipeline`: `write()` returns false when a record has to wait for
   * buffer space, 'finish' comes once every record is acknowledged, a failed record or `signal` destroys it.
   */
  writable(options: WritableOptions = {}): RecordWritable {
    if (this.#transactions !== undefined) throw new TransactionStateError('writable() is not available on a transactional producer: send inside transaction()');
    // null threw a TypeError from the stream's constructor; a topic that is not a string failed each record later.
    checkCallOptions('writable', options);
    if (options.topic !== undefined && typeof options.topic !== 'string') {
      throw new ConfigError(`writable options.topic must be a string, got ${describe(options.topic)}`);
    }
    return new RecordWritable(
      (record, signal, settler, position) => this.#intake.submitOne(record, signal, settler, position), options,
      () => void this.#deliveries.recordsFailed++,
    );
  }

  /**
   * Accepts the record only if that needs no waiting: the producer is connected, the topic's metadata is known
   * and the buffer has room. Returns false otherwise (starting the connection or the metadata fetch, so a later
   * call may succeed). Bad input throws, and so does a call after close (ProducerClosedError, `'not-sent'`); a
   * delivery failure is emitted as 'deliveryError'.
   */
  trySend(record: ProducerRecord): boolean {
    if (this.#transactions !== undefined) throw new TransactionStateError('trySend() is not available on a transactional producer: send inside transaction()');
    return this.#intake.trySubmit(record, this.#detached);
  }

  /** Resolves when every `send` made before it has its result. Workers stop lingering meanwhile. */
  flush(options: SendOptions = {}): Promise<void> {
    if (channels.flush.hasSubscribers) return channels.flush.tracePromise(() => this.#flush(options), {});
    return this.#flush(options);
  }

  async #flush(options: SendOptions): Promise<void> {
    checkCallOptions('flush', options);
    const { signal } = options;
    if (signal?.aborted) throw new AbortError('not-sent', 'flush aborted', { cause: signal.reason });
    // Records of calls made before this flush that are still being submitted count too: they are sends made before it.
    const submitted = this.#intake.whenSubmitted();
    if (submitted !== undefined) await untilAborted(submitted, signal, 'flush aborted; the records it waited for go on');
    if (this.#sends.open === 0) return;
    this.#control.beginFlush();
    this.#workers.wake();
    try {
      await this.#sends.flushed(signal);
    } finally {
      this.#control.endFlush();
    }
  }

  /**
   * Runs `fn` in a transaction: commits when it resolves, aborts when it throws or `signal` aborts (then rejects
   * with what went wrong). Records sent through `tx` become visible to read_committed consumers only on commit.
   * Needs `transactionalId`; one transaction at a time.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    this.#requireTransactions('transaction');
    checkCallOptions('transaction', options);
    if (typeof fn !== 'function') throw new ConfigError(`transaction needs a function (tx) => Promise, got ${describe(fn)}`);
    const { signal } = options;
    if (signal?.aborted) throw new AbortError('not-sent', 'transaction aborted before it began', { cause: signal.reason });
    await this.beginTransaction({ signal });
    return runTransaction(this, this.#transactions!, fn, signal);
  }

  /**
   * Opens a transaction (connecting first if needed). Sends are refused outside one on a transactional producer.
   * `signal` releases the caller while it connects or waits for the transaction before to end; no transaction opens then.
   */
  async beginTransaction(options: SendOptions = {}): Promise<void> {
    const transactions = this.#requireTransactions('beginTransaction');
    checkCallOptions('beginTransaction', options);
    const { signal } = options;
    if (signal?.aborted) throw new AbortError('not-sent', 'beginTransaction aborted before it began', { cause: signal.reason });
    if (this.#intake.closed) throw new ProducerClosedError('not-sent', 'the producer is closed');
    // The connection and InitProducerId are retried up to bufferTimeoutMs against a cluster that cannot be reached:
    // the caller leaves when its signal aborts, and the connecting goes on for the producer's other calls.
    await untilAborted(this.#connect(), signal, 'beginTransaction was aborted while the producer connected');
    // close() may have begun while this connected: a transaction opened now would outlive the producer.
    if (this.#intake.closed) throw new ProducerClosedError('not-sent', 'the producer is closed');
    await transactions.begin(signal);
  }

  /** Commits the open transaction once every record sent in it is acknowledged (workers stop lingering meanwhile). */
  async commitTransaction(options: SendOptions = {}): Promise<void> {
    const transactions = this.#requireTransactions('commitTransaction');
    checkCallOptions('commitTransaction', options);
    this.#hurrySends();
    await transactions.commit(options.signal);
  }

  /** Aborts the open transaction: unsent records are dropped, written ones are never visible to read_committed readers. */
  async abortTransaction(options: SendOptions = {}): Promise<void> {
    const transactions = this.#requireTransactions('abortTransaction');
    checkCallOptions('abortTransaction', options);
    // No hurry before the abort: its records are cancelled first, and the workers drop those not sealed yet.
    await transactions.abort(options.signal);
  }

  /** A flush nobody waits for: the workers send what they hold at once instead of lingering (a transaction ends). */
  #hurrySends(): void {
    this.#flush({}).catch(() => undefined);
  }

  /**
   * Resolves with `done`, the workers sealing at once meanwhile, whether or not a send is open: a transaction's end
   * waits for the workers to report each of its records, and a worker reports one, cancelled or not, only once it
   * seals its batch. A flush wakes no worker once the abort has released every caller, so an abort (close's too)
   * waited out lingerMs.
   */
  async #sealingUntil(done: Promise<void>): Promise<void> {
    this.#control.beginFlush();
    this.#workers.wake();
    try {
      await done;
    } finally {
      this.#control.endFlush();
    }
  }

  /** Commits consumed offsets with the open transaction (consume-transform-produce, exactly once). */
  async sendOffsets(request: OffsetsToCommit, options: SendOptions = {}): Promise<void> {
    const transactions = this.#requireTransactions('sendOffsets');
    checkOffsetsRequest(request);
    checkCallOptions('sendOffsets', options);
    await transactions.sendOffsets(request, options.signal);
  }

  #requireTransactions(method: string): TransactionManager {
    if (this.#transactions === undefined) throw new TransactionStateError(`${method}() needs options.transactionalId`);
    return this.#transactions;
  }

  /**
   * Sends what is buffered and waits for it, then releases workers, sockets and timers so the process can exit.
   * With `timeoutMs` or `signal`, whatever has no result by then fails with ProducerClosedError. Without them it
   * waits for every send's result (each within deliveryTimeoutMs), then at most requestTimeoutMs more for batches
   * the broker has not answered, whose callers the delivery timeout released ('lateOutcome' reports them).
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (channels.close.hasSubscribers) return channels.close.tracePromise(() => this.#close(options), {});
    return this.#close(options);
  }

  #close(options: CloseOptions): Promise<void> {
    // Checked before anything changes (and traced, as a bad send is): close(null) rejected before its first step and
    // left the producer open for good, close({ signal: 'x' }) partway, neither open nor closable.
    const badOptions = closeOptionsError(options);
    if (badOptions !== undefined) return Promise.reject(badOptions);
    if (this.#closing === undefined) {
      this.#closeLimits = closeLimitsFor(options);
      this.#closing = this.#shutdown(this.#closeLimits, options);
    } else hurryClose(this.#closeLimits!, this.#workers, options, this.#closing); // only brings close's times forward
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #shutdown(limits: CloseLimits, options: CloseOptions): Promise<void> {
    return shutdownProducer({
      intake: this.#intake, control: this.#control, deliveries: this.#deliveries, workers: this.#workers, registry: this.#registry,
      transactions: this.#transactions, coordinators: this.#coordinators, tokens: this.#tokens,
      deliveryTimeoutMs: this.#deliveryTimeoutMs, requestTimeoutMs: this.#requestTimeoutMs,
      flush: () => this.#flush({}), connecting: () => this.#connecting, stopConnecting: this.#stopConnecting, stopLoop: this.#stopLoop,
    }, options, limits);
  }

  metrics(): ProducerMetrics {
    const stats = this.#workers.stats();
    const sums = sumWorkerStats(stats);
    // A close that gave up on unanswered requests ended their threads, whose counters kept them as in flight for good.
    if (this.#workers.closeOver) sums.requestsInFlight = 0;
    return {
      bufferedBytes: this.#budget.bufferedBytes,
      bufferedRecords: this.#budget.bufferedRecords,
      waiters: this.#budget.waiting,
      recordsSent: this.#deliveries.recordsSent,
      bytesSent: this.#deliveries.bytesSent,
      batches: this.#deliveries.batches,
      recordsFailed: this.#deliveries.recordsFailed,
      ...sums,
      workers: this.#workers.closeOver ? 0 : stats.length,
    };
  }
}
