/**
 * Settlers: where a record's outcome goes on the main thread. One promise per `send`, or one promise per
 * `sendBatch` holding a settled result per record (no promise per record in a batch: a batch of 100 000 records
 * costs one), or, for `trySend`, an event for failures. A record carries its settler and its position in the call.
 */
import type { RecordMetadata } from './types.js';

/** Settles the caller of one record; `position` is the record's index in its `sendBatch` (0 for a `send`). */
export interface Settler {
  resolve(position: number, metadata: RecordMetadata): void;
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
    this.#resolve(metadata);
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

  resolve(position: number, value: RecordMetadata): void {
    this.results[position] = { status: 'fulfilled', value };
    if (--this.#remaining === 0) this.#done(this.results);
  }

  reject(position: number, reason: Error): void {
    this.results[position] = { status: 'rejected', reason };
    if (--this.#remaining === 0) this.#done(this.results);
  }
}

/** For trySend: nobody awaits, so failures go to a callback (the producer emits 'deliveryError'). */
export class DetachedSettler implements Settler {
  readonly #onError: (error: Error) => void;

  constructor(onError: (error: Error) => void) {
    this.#onError = onError;
  }

  resolve(): void {}

  reject(_position: number, error: Error): void {
    this.#onError(error);
  }
}
