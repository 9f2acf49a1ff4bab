/**
 * The Producer's events, typed: its methods that add or remove a listener take only the events it emits, each with
 * its listener's arguments, so a misspelt name or a listener of the wrong shape fails to compile instead of never
 * being called. (`emit`, `listeners` and the like keep Node's signatures.) Narrowed signatures rather than Node's
 * generic `EventEmitter<T>`, which older `@types/node` versions (still in the supported range of Node 20) do not
 * have.
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
  workerCrash: [error: Error, workerIndex: number];
}

export type ProducerEventName = keyof ProducerEvents;

/** A listener of event `E`. */
export type ProducerListener<E extends ProducerEventName> = (...args: ProducerEvents[E]) => void;

/*
 * Node's methods, narrowed for the type checker only: this interface merges into the class below, and its signatures
 * take the place of EventEmitter's there (as overrides would, with no code and no call in between at run time).
 */
export interface ProducerEventEmitter {
  on<E extends ProducerEventName>(event: E, listener: ProducerListener<E>): this;
  once<E extends ProducerEventName>(event: E, listener: ProducerListener<E>): this;
  off<E extends ProducerEventName>(event: E, listener: ProducerListener<E>): this;
  addListener<E extends ProducerEventName>(event: E, listener: ProducerListener<E>): this;
  removeListener<E extends ProducerEventName>(event: E, listener: ProducerListener<E>): this;
  prependListener<E extends ProducerEventName>(event: E, listener: ProducerListener<E>): this;
  prependOnceListener<E extends ProducerEventName>(event: E, listener: ProducerListener<E>): this;
}

export class ProducerEventEmitter extends EventEmitter {}
