/**
 * The Producer's events, typed: its `on`, `once` and `off` take only the events it emits, each with its listener's
 * arguments, so a misspelt name or a listener of the wrong shape fails to compile instead of never being called.
 * Overridden methods rather than Node's generic `EventEmitter<T>`, which older `@types/node` versions (still in
 * the supported range of Node 20) do not have.
 */
import { EventEmitter } from 'node:events';
import type { RecordMetadata } from './types.js';

/**
 * The real outcome of a record whose caller was released before it came (an abort, a delivery timeout, close: the
 * caller heard `'unknown'`): where it landed, or why it failed.
 */
export interface LateOutcome {
  /** Undefined only for a topic the producer no longer knows. */
  readonly topic: string | undefined;
  readonly partition: number;
  /** Delivered: where the broker wrote it. */
  readonly metadata?: RecordMetadata;
  /** Failed: why. */
  readonly error?: Error;
}

/** Each event's listener arguments. */
export interface ProducerEvents {
  /** A record of `trySend` failed: it has no promise to reject. */
  deliveryError: [error: Error];
  lateOutcome: [outcome: LateOutcome];
  /** A worker thread died: its records failed, and it is replaced unless the producer is closing. */
  workerCrash: [error: unknown, workerIndex: number];
}

export type ProducerEventName = keyof ProducerEvents;

type Listener = (...args: unknown[]) => void;

export class ProducerEventEmitter extends EventEmitter {
  override on<E extends ProducerEventName>(event: E, listener: (...args: ProducerEvents[E]) => void): this {
    return super.on(event, listener as Listener);
  }

  override once<E extends ProducerEventName>(event: E, listener: (...args: ProducerEvents[E]) => void): this {
    return super.once(event, listener as Listener);
  }

  override off<E extends ProducerEventName>(event: E, listener: (...args: ProducerEvents[E]) => void): this {
    return super.off(event, listener as Listener);
  }
}
