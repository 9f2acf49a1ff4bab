/**
 * KafkaJS's instrumentation events for a producer: the names, the `{ id, type, timestamp, payload }` shape, and
 * `on()` returning the function that removes the listener. ringkafka makes its requests on worker threads, so the
 * three `producer.network.*` events have no source on the main thread: listening to one is refused rather than
 * left silent forever (the `ringkafka:worker` diagnostics channel reports retries and throttling instead).
 */
import { EventEmitter } from 'node:events';
import { KafkaJSNonRetriableError } from './errors.js';

/** The producer's event names, KafkaJS's `producer.events`. */
export const PRODUCER_EVENTS = Object.freeze({
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
} as const);

/** The names in {@link PRODUCER_EVENTS}. */
export type ProducerEvents = typeof PRODUCER_EVENTS;

/** What a listener receives. */
export interface InstrumentationEvent<T> {
  id: string;
  type: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  payload: T;
}

/** Removes the listener `on()` added. */
export type RemoveInstrumentationEventListener = () => void;

const EMITTED: ReadonlySet<string> = new Set([PRODUCER_EVENTS.CONNECT, PRODUCER_EVENTS.DISCONNECT]);
const NAMES: ReadonlySet<string> = new Set(Object.values(PRODUCER_EVENTS));

/** Process-wide, as event ids are unique per process in KafkaJS. */
let nextId = 0;

/**
 * One producer's listeners. As in KafkaJS, a listener's error never reaches the producer: one that throws, or
 * returns a promise that rejects, is reported to `onListenerError` (the logger) and the others still run, even when
 * the report itself throws. Called as they were, a throwing listener made `connect()` reject though the producer
 * was connected, and a rejecting one was an unhandled rejection, which ends the process.
 */
export class Instrumentation {
  readonly #emitter = new EventEmitter();
  readonly #onListenerError: (eventName: string, error: unknown) => void;

  constructor(onListenerError: (eventName: string, error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  on(eventName: string, listener: (event: InstrumentationEvent<unknown>) => void): RemoveInstrumentationEventListener {
    if (!NAMES.has(eventName)) {
      throw new KafkaJSNonRetriableError(`Event name should be one of ${[...NAMES].join(', ')}, got ${String(eventName)}`);
    }
    if (!EMITTED.has(eventName)) {
      throw new KafkaJSNonRetriableError(
        `ringkafka/kafkajs does not emit ${eventName}: requests are made on worker threads; subscribe to the ringkafka:worker diagnostics channel instead`,
      );
    }
    // Accepted, it failed only at the first emit, reported as a listener's error, far from the call that was wrong.
    if (typeof listener !== 'function') {
      throw new KafkaJSNonRetriableError(`ringkafka/kafkajs: the listener argument of on('${eventName}') must be a function, got ${listener === null ? 'null' : typeof listener}`);
    }
    // The reporter is user code in the end (the logCreator): should it throw too, the error is dropped, since a
    // report that escaped here would reach connect() or become an unhandled rejection, the harm this guard exists for.
    const report = (error: unknown): void => {
      try {
        this.#onListenerError(eventName, error);
      } catch {
        // dropped: see above
      }
    };
    const guarded = (event: InstrumentationEvent<unknown>): void => {
      try {
        Promise.resolve(listener(event) as unknown).catch(report);
      } catch (error) {
        report(error);
      }
    };
    this.#emitter.on(eventName, guarded);
    return () => void this.#emitter.off(eventName, guarded);
  }

  emit(type: (typeof PRODUCER_EVENTS)['CONNECT' | 'DISCONNECT']): void {
    const event: InstrumentationEvent<null> = { id: String(nextId++), type, timestamp: Date.now(), payload: null };
    this.#emitter.emit(type, event);
  }
}
