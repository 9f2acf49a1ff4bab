/**
 * Settlers: where a record's outcome goes on the main thread. One promise per `send`, or one promise per
 * `sendBatch` holding a settled result per record (no promise per record in a batch: a batch of 100 000 records
 * costs one) or, with `results: 'failures'`, only its failed records, or, for `trySend`, an event for failures. A
 * record carries its settler and its position in the call.
 */
import type { RecordFailure, RecordMetadata, SendBatchFailures } from './types.js';

/**
 * What a delivered record's settler is lent: its RecordMetadata, and the log append time and log start offset its
 * batch was answered with. Not in RecordMetadata, whose `timestamp` already is the broker's time on a LogAppendTime
 * topic: only this package's KafkaJS layer, which reports both per partition as KafkaJS does, needs them. Kept out
 * of the copies settlers make (copyOf), so a record's result costs no more for them.
 */
export interface DeliveredMetadata extends RecordMetadata {
  /** The broker's append time for the record's batch on a LogAppendTime topic; -1 on a CreateTime topic. */
  readonly logAppendTime: number;
  /**
   * The partition's log start offset (its earliest offset still kept) in the answer for the record's batch; -1 when
   * the answer had none (Produce before v5, or acks 0).
   */
  readonly logStartOffset: number;
}

/**
 * Settles the caller of one record; `position` is the record's index in its `sendBatch` (0 for a `send`). The
 * `metadata` given to `resolve` is lent, not given: the producer fills the same object for every delivered record
 * (so a settler that needs none costs no allocation), and a settler that keeps it makes its own copy.
 */
/**
 * Each method is called from inside the producer's bookkeeping (a byte-budget grant, the settle loop), which must not
 * be left halfway: it must not throw, so a settler runs no caller code synchronously (promise reactions are queued
 * anyway; a stream defers its callbacks, record-writable.ts).
 */
export interface Settler {
  resolve(position: number, metadata: DeliveredMetadata): void;
  reject(position: number, error: Error): void;
  /** The record entered the buffer (a stream's back-pressure waits for this); most settlers need not know. */
  accepted?(position: number): void;
}

export class SendSettler implements Settler {
  readonly promise: Promise<RecordMetadata>;
  #resolve!: (metadata: RecordMetadata) => void;
  #reject!: (error: Error) => void;

  constructor() {
    this.promise = new Promise<RecordMetadata>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  resolve(_position: number, metadata: RecordMetadata): void {
    this.#resolve(copyOf(metadata));
  }

  reject(_position: number, error: Error): void {
    this.#reject(error);
  }
}

export class BatchSettler implements Settler {
  readonly results: PromiseSettledResult<RecordMetadata>[];
  readonly promise: Promise<PromiseSettledResult<RecordMetadata>[]>;
  #remaining: number;
  #done!: (results: PromiseSettledResult<RecordMetadata>[]) => void;

  constructor(count: number) {
    this.results = new Array<PromiseSettledResult<RecordMetadata>>(count);
    this.#remaining = count;
    this.promise = new Promise((resolve) => (this.#done = resolve));
    if (count === 0) this.#done(this.results);
  }

  resolve(position: number, metadata: RecordMetadata): void {
    this.results[position] = { status: 'fulfilled', value: copyOf(metadata) };
    if (--this.#remaining === 0) this.#done(this.results);
  }

  reject(position: number, reason: Error): void {
    this.results[position] = { status: 'rejected', reason };
    if (--this.#remaining === 0) this.#done(this.results);
  }
}

/**
 * A sendBatch with `results: 'failures'`: counts its records down and keeps only the failed ones, so a delivered
 * record costs no object at all. Failures come in the order their batches are answered; they are put in index
 * order once, at the end.
 */
export class FailureSettler implements Settler {
  readonly promise: Promise<SendBatchFailures>;
  readonly #records: number;
  #remaining: number;
  readonly #failures: RecordFailure[] = [];
  #done!: (outcome: SendBatchFailures) => void;

  constructor(count: number) {
    this.#records = count;
    this.#remaining = count;
    this.promise = new Promise((resolve) => (this.#done = resolve));
    if (count === 0) this.#finish();
  }

  resolve(_position: number, _metadata: DeliveredMetadata): void {
    if (--this.#remaining === 0) this.#finish();
  }

  reject(position: number, reason: Error): void {
    this.#failures.push({ index: position, reason });
    if (--this.#remaining === 0) this.#finish();
  }

  #finish(): void {
    this.#failures.sort((a, b) => a.index - b.index);
    this.#done({ records: this.#records, failures: this.#failures });
  }
}

/** A settler's own copy of lent metadata (see Settler): a RecordMetadata, without what only the lent one carries. */
export function copyOf(metadata: RecordMetadata): RecordMetadata {
  return { topic: metadata.topic, partition: metadata.partition, offset: metadata.offset, timestamp: metadata.timestamp };
}

/** For trySend: nobody awaits, so failures go to a callback (the producer emits 'deliveryError'). */
export class DetachedSettler implements Settler {
  readonly #onError: (error: Error) => void;

  constructor(onError: (error: Error) => void) {
    this.#onError = onError;
  }

  resolve(): void {}

  reject(_position: number, error: Error): void {
    // The caller's listener runs on the next tick, never inside the bookkeeping that failed the record (a throwing
    // listener would leave the records after this one unsettled and their bytes held).
    process.nextTick(this.#onError, error);
  }
}
