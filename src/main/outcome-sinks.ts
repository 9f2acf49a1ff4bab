/**
 * Where record outcomes are delivered: one promise per `send`, or one promise per `sendBatch` holding a settled
 * result per record (no promise per record in a batch: a batch of 100 000 records costs one).
 */
import type { OutcomeSink } from './delivery-table.js';
import type { RecordMetadata } from './types.js';

export class SingleSink implements OutcomeSink {
  readonly promise: Promise<RecordMetadata>;
  #resolve!: (metadata: RecordMetadata) => void;
  #reject!: (error: Error) => void;

  constructor() {
    this.promise = new Promise<RecordMetadata>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  resolve(_slot: number, metadata: RecordMetadata): void {
    this.#resolve(metadata);
  }

  reject(_slot: number, error: Error): void {
    this.#reject(error);
  }
}

export class BatchSink implements OutcomeSink {
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

  resolve(slot: number, value: RecordMetadata): void {
    this.results[slot] = { status: 'fulfilled', value };
    if (--this.#remaining === 0) this.#done(this.results);
  }

  reject(slot: number, reason: Error): void {
    this.results[slot] = { status: 'rejected', reason };
    if (--this.#remaining === 0) this.#done(this.results);
  }
}

/** For trySend: nobody awaits, so failures go to a callback (the producer emits 'deliveryError'). */
export class DetachedSink implements OutcomeSink {
  readonly #onError: (error: Error) => void;

  constructor(onError: (error: Error) => void) {
    this.#onError = onError;
  }

  resolve(): void {}

  reject(_slot: number, error: Error): void {
    this.#onError(error);
  }
}
