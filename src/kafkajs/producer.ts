/**
 * KafkaJS's producer over one ringkafka Producer. KafkaJS may connect again after `disconnect()`, which a closed
 * ringkafka Producer cannot, so each `connect()` builds a fresh one from the mapped options; sends before
 * `connect()` or after `disconnect()` fail as KafkaJS's do.
 */
import { Producer as RingProducer } from '../main/producer.js';
import { reachCluster, sendBatchThrough } from '../main/producer-internals.js';
import type { ProducerOptions } from '../main/options.js';
import { describe } from '../main/serialize.js';
import { RejectedWithBatchError } from '../shared/producer-errors.js';
import { asKafkaJS, toKafkaJSError } from './error-mapping.js';
import { KafkaJSConnectionError, KafkaJSError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded } from './errors.js';
import { Instrumentation, PRODUCER_EVENTS, type InstrumentationEvent, type RemoveInstrumentationEventListener } from './events.js';
import type { Logger } from './logger.js';
import type { MappedProducer } from './options.js';
import { checkCallSettings, toRecordMetadata, toRecords } from './records.js';
import { PartitionOffsets } from './partition-offsets.js';
import { openTransaction, type Transaction } from './transaction.js';
import type { KafkaConfig, ProducerBatch, ProducerRecord, RecordMetadata } from './types.js';

/** The KafkaJS producer, `kafka.producer(config)`. */
export class KafkaJSProducer {
  /** The event names `on()` takes. */
  readonly events = PRODUCER_EVENTS;
  readonly #mapped: MappedProducer;
  readonly #brokers: KafkaConfig['brokers'];
  readonly #logger: Logger;
  readonly #instrumentation = new Instrumentation((eventName, error) => {
    this.#logger.error(`Failed to execute listener: ${error instanceof Error ? error.message : String(error)}`, { eventName });
  });
  #producer: RingProducer | undefined;
  /**
   * The latest connect() or disconnect() asked for, until it ends. Each runs after the one before it (#inTurn): a
   * connect() during a close used to see the closing producer and resolve at once, and a disconnect() during a
   * connect() that followed a close was handed the earlier close, so the new producer was never closed.
   */
  #lastCall: LifecycleCall | undefined;
  /** Settles when the latest call has ended; never rejects. */
  #calls: Promise<void> = Promise.resolve();
  /** disconnect() calls not ended yet: sends are refused meanwhile, as KafkaJS refuses them. */
  #disconnects = 0;
  #transaction: Transaction | undefined;
  /** What a transaction's sends go through: the same calls as the producer's, allowed to join the transaction. */
  readonly #transactionSender = {
    send: (record: ProducerRecord) => this.#send(record, true),
    sendBatch: (batch: ProducerBatch) => this.#sendBatch(batch, true),
  };

  /** @internal Built by `Kafka.producer()`. */
  constructor(mapped: MappedProducer, brokers: KafkaConfig['brokers'], logger: Logger) {
    this.#mapped = mapped;
    this.#brokers = brokers;
    this.#logger = logger.namespace('Producer');
  }

  /**
   * Starts a ringkafka Producer (its workers and, when idempotent, its producer id), waits for a broker to answer,
   * and emits `producer.connect`; rejects (KafkaJSConnectionError) when no broker can be reached. After a
   * disconnect() still under way, it starts once that has ended.
   */
  connect(): Promise<void> {
    if (this.#lastCall?.kind === 'connect') return this.#lastCall.done;
    if (this.#lastCall === undefined && this.#producer !== undefined) {
      // Already connected: KafkaJS's connect() still emits the event each time it resolves (after it returns).
      return Promise.resolve().then(() => this.#instrumentation.emit(PRODUCER_EVENTS.CONNECT));
    }
    return this.#inTurn('connect', () => this.#connect());
  }

  /**
   * Waits for every message sent to settle, closes the ringkafka Producer and emits `producer.disconnect`. Every
   * caller waits for the same close: a second call resolved at once while the first still flushed, and a shutdown
   * hook that called it again and then exited lost the messages in flight. After a connect() asked for later than
   * a close under way, it closes the producer that connect() makes.
   */
  disconnect(): Promise<void> {
    if (this.#lastCall?.kind === 'disconnect') return this.#lastCall.done;
    this.#disconnects++;
    return this.#inTurn('disconnect', () => this.#disconnect().finally(() => this.#disconnects--));
  }

  /** Runs `run` once every earlier connect() and disconnect() has ended; a call of the same kind as the latest joins it. */
  #inTurn(kind: LifecycleCall['kind'], run: () => Promise<void>): Promise<void> {
    const call: LifecycleCall = { kind, done: Promise.resolve() };
    // Cleared before anyone awaiting `done` resumes: a connect() retried right after a failed one starts afresh.
    call.done = this.#calls.then(run).finally(() => {
      if (this.#lastCall === call) this.#lastCall = undefined;
    });
    this.#lastCall = call;
    this.#calls = call.done.catch(() => {});
    return call.done;
  }

  #connect(): Promise<void> {
    return asKafkaJS(async () => {
      const brokers = await this.#brokerList();
      // No serializer: each call's values are serialised by toRecords, before any of the call is sent.
      const producer = new RingProducer({ ...this.#mapped.options, serializer: undefined, brokers } as ProducerOptions);
      this.#report(producer);
      try {
        await producer.connect();
        // KafkaJS's connect() fails when no broker answers; a ringkafka producer that is not idempotent would only
        // have started its threads (a health check or fail-fast start-up would pass against a dead cluster).
        await reachCluster(producer);
      } catch (error) {
        await producer.close().catch(() => {}); // its own failure is the one worth reporting
        // KafkaJS's connect() retries a retriable failure (a broker refused, a timeout) and then throws
        // KafkaJSNumberOfRetriesExceeded, not retriable, wrapping the last one: start-up code that stops on it, or
        // on `!retriable`, looped for ever on the retriable KafkaJSConnectionError.
        const mapped = toKafkaJSError(error);
        throw mapped instanceof KafkaJSError && mapped.retriable ? new KafkaJSNumberOfRetriesExceeded(mapped, { cause: mapped }) : mapped;
      }
      this.#producer = producer;
      this.#instrumentation.emit(PRODUCER_EVENTS.CONNECT);
    });
  }

  /**
   * The brokers, from the function when `brokers` is one. One that throws fails connect() as KafkaJS's does once its
   * retries are spent: KafkaJSNumberOfRetriesExceeded over a KafkaJSConnectionError ("config.brokers" threw). It
   * failed as a KafkaJSNonRetriableError with the function's own message, which start-up code that retries on
   * connection errors did not recognise.
   */
  async #brokerList(): Promise<string[]> {
    if (typeof this.#brokers !== 'function') return this.#brokers;
    try {
      return await this.#brokers();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const failed = new KafkaJSConnectionError(`Failed to connect: "config.brokers" threw: ${message}`, { cause: error });
      throw new KafkaJSNumberOfRetriesExceeded(failed, { cause: failed });
    }
  }

  async #disconnect(): Promise<void> {
    const producer = this.#producer;
    if (producer === undefined) {
      // Never connected, or already disconnected: KafkaJS's disconnect() still emits the event.
      this.#instrumentation.emit(PRODUCER_EVENTS.DISCONNECT);
      return;
    }
    this.#producer = undefined;
    this.#transaction = undefined;
    await asKafkaJS(() => producer.close());
    this.#instrumentation.emit(PRODUCER_EVENTS.DISCONNECT);
  }

  /** Sends one topic's messages; resolves with one entry per partition written. */
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.#send(record, false);
  }

  /** Sends several topics' messages in one call; resolves with one entry per partition written. */
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    return this.#sendBatch(batch, false);
  }

  #send(record: ProducerRecord, inTransaction: boolean): Promise<RecordMetadata[]> {
    if (typeof record !== 'object' || record === null) {
      // A rejection, as every other bad call gets; destructuring it threw a TypeError out of send().
      return Promise.reject(new KafkaJSNonRetriableError(`ringkafka/kafkajs: send() needs a record { topic, messages }, got ${record === null ? 'null' : typeof record}`));
    }
    let topic, messages, acks, timeout, compression;
    try {
      ({ topic, messages, acks, timeout, compression } = record);
    } catch (error) {
      // A getter or Proxy trap that throws rejects the call, as every other bad call does; it threw out of send().
      return Promise.reject(new KafkaJSNonRetriableError(`ringkafka/kafkajs: send()'s record could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
    return this.#sendBatch({
      topicMessages: [{ topic, messages }],
      ...(acks !== undefined && { acks }),
      ...(timeout !== undefined && { timeout }),
      ...(compression !== undefined && { compression }),
    }, inTransaction);
  }

  #sendBatch(batch: ProducerBatch, inTransaction: boolean): Promise<RecordMetadata[]> {
    return asKafkaJS(async () => {
      if (typeof batch !== 'object' || batch === null) {
        throw new KafkaJSNonRetriableError(`ringkafka/kafkajs: sendBatch() needs { topicMessages }, got ${describe(batch)}`);
      }
      // In KafkaJS only the transaction's own sends are part of it. A ringkafka transactional producer puts every
      // record in its open transaction: a plain send would be aborted with it, and without one it cannot be sent.
      if (!inTransaction && this.#mapped.options.transactionalId !== undefined) {
        throw new KafkaJSNonRetriableError(
          'ringkafka/kafkajs: a producer with a transactionalId sends only through its transactions ' +
            '(producer.transaction(), then transaction.send()); use a producer without one for messages outside a transaction',
        );
      }
      checkCallSettings(batch, this.#mapped.resolved);
      const records = toRecords(batch.topicMessages, this.#mapped.resolved.serializer, this.#mapped.resolved);
      const producer = this.#connected();
      let offsets: PartitionOffsets | undefined;
      const { failures } = await sendBatchThrough(producer, records, (count) => (offsets = new PartitionOffsets(count)));
      // KafkaJS fails the call with its first failed message (failures are in the order of the call), whose error
      // was the batch's: KIP-467 lets the broker name the records at fault, and the call fails with the first of
      // those, not with a batch-mate the broker refused along with it.
      if (failures.length > 0) throw (failures.find((f) => !(f.reason instanceof RejectedWithBatchError)) ?? failures[0]!).reason;
      // With acks 0 no broker answers, and KafkaJS answers the call with no entries.
      if (this.#mapped.resolved.acks === 0) return [];
      return toRecordMetadata(offsets!.partitions());
    });
  }

  /** Adds a listener for `producer.connect` or `producer.disconnect`; returns the function that removes it. */
  on(eventName: string, listener: (event: InstrumentationEvent<unknown>) => void): RemoveInstrumentationEventListener {
    return this.#instrumentation.on(eventName, listener);
  }

  /** The producer's logger (namespace `Producer`). */
  logger(): Logger {
    return this.#logger;
  }

  /** Whether the producer is idempotent: asked for, or transactional. */
  isIdempotent(): boolean {
    return this.#mapped.resolved.idempotent;
  }

  /** Begins a transaction; needs a `transactionalId` and no other transaction open. */
  async transaction(): Promise<Transaction> {
    if (this.#mapped.options.transactionalId === undefined) {
      throw new KafkaJSNonRetriableError('A transaction needs a producer with a transactionalId');
    }
    if (this.#transaction?.isActive()) {
      throw new KafkaJSNonRetriableError('This producer has a transaction open already: commit or abort it first');
    }
    const producer = this.#connected();
    await asKafkaJS(() => producer.beginTransaction());
    const transaction = openTransaction(producer, this.#transactionSender, () => {
      if (this.#transaction === transaction) this.#transaction = undefined;
    }, () => this.#producer === producer);
    this.#transaction = transaction;
    return transaction;
  }

  #connected(): RingProducer {
    // KafkaJS's wording and classes: a send while disconnecting is not retriable (a retry loop would spin until the
    // close ends); one to a producer that is not connected is (connect, then try again).
    if (this.#disconnects > 0) {
      throw new KafkaJSNonRetriableError("The producer is disconnecting; therefore, it can't safely accept messages anymore");
    }
    if (this.#producer === undefined) throw new KafkaJSError('The producer is disconnected');
    return this.#producer;
  }

  /**
   * What ringkafka reports outside any call goes to the KafkaJS logger, where a KafkaJS service looks for it. These
   * run on process.nextTick, where a throw is an uncaught exception: they rely on the logger never throwing, even
   * when the logCreator's function does (logger.ts).
   */
  #report(producer: RingProducer): void {
    producer.on('workerCrash', (error, index) => {
      this.#logger.error('A ringkafka worker thread crashed and was replaced', { worker: index, error: toKafkaJSError(error).message });
    });
    // A message whose caller the delivery timeout released may be written after all: resending it duplicates it.
    producer.on('lateOutcome', (outcome) => {
      const what = outcome.error === undefined ? 'was written after all' : `failed: ${toKafkaJSError(outcome.error).message}`;
      this.#logger.warn(`A message released early by its timeout ${what}`, { topic: outcome.topic, partition: outcome.partition });
    });
    producer.on('deliveryError', (error) => {
      this.#logger.error('A message sent without a caller failed', { error: toKafkaJSError(error).message });
    });
  }
}

interface LifecycleCall {
  readonly kind: 'connect' | 'disconnect';
  done: Promise<void>;
}
