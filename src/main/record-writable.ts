/**
 * `producer.writable()`: an object-mode Writable of records whose back-pressure is the producer's byte budget.
 * `write()` returns false exactly when the record it was given has to wait (for buffer space, the connection or its
 * topic's metadata), and 'drain' follows once that record is accepted; the stream itself holds at most that one
 * record, so memory stays within maxBufferedBytes plus one record. `end()`'s callback (and 'finish') come once every
 * record is acknowledged; a failed record destroys the stream with its error, as does the `signal`. Destroying it
 * works like aborting a send's signal for each of its records: those no worker has sealed yet are taken back and
 * never sent; sealed ones go on, unobserved. A stream destroyed because the producer closed takes nothing back:
 * close() delivers what the stream had accepted, as it does every send made before it.
 *
 * It is its records' settler: the producer reports acceptance, success and failure per position, so there is no
 * promise per record. Those reports come from inside the producer (a byte-budget grant, the settle loop), and Node
 * runs a stream's user code — the write callback, 'drain' — synchronously from a callback called outside `_write`:
 * so every callback outside `_write` is called on the next tick, and a throwing listener can never break the
 * producer's bookkeeping halfway (a grant that took it for a failure gave the bytes of an accepted record back).
 */
import { Writable } from 'node:stream';
import { types } from 'node:util';
import { AbortError, ProducerClosedError } from '../shared/producer-errors.js';
import { describe, InvalidRecordError } from './serialize.js';
import type { Settler } from './settlers.js';
import type { ProducerRecord, RecordMetadata } from './types.js';

export interface WritableOptions {
  /** The topic of records that name none. */
  readonly topic?: string | undefined;
  /** Aborting it destroys the stream; records still waiting for buffer space are never sent. */
  readonly signal?: AbortSignal | undefined;
}

/** A record for the stream: a ProducerRecord whose topic may come from the stream's options. */
export type WritableRecord = Omit<ProducerRecord, 'topic'> & { readonly topic?: string };

/** Hands one record to the producer with this stream as its settler. */
export type SubmitRecord = (record: ProducerRecord, signal: AbortSignal, settler: Settler, position: number) => void;

type Callback = (error?: Error | null) => void;

export class RecordWritable extends Writable implements Settler {
  readonly #submit: SubmitRecord;
  /** Told of a record refused before it reached the producer (metrics().recordsFailed counts it, as send's). */
  readonly #refused: (() => void) | undefined;
  readonly #topic: string | undefined;
  readonly #stop = new AbortController();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => void this.destroy(new AbortError('not-sent', 'the stream was aborted', { cause: this.#signal?.reason }));
  #written = 0;
  #settled = 0;
  /** The write callback of the record waiting to be accepted, and its position. */
  #waiting: Callback | undefined;
  #waitingPosition = -1;
  #final: Callback | undefined;
  #failure: Error | undefined;
  /** True while `_write` hands its record to the producer: a callback called then runs when Node defers it to. */
  #inWrite = false;
  /** Set once this stream's producer failed one of its records for closing (ProducerClosedError): see `_destroy`. */
  #producerClosing = false;

  constructor(submit: SubmitRecord, options: WritableOptions = {}, refused?: () => void) {
    // One record at a time: the next write waits in Node's buffer only while the previous one waits for budget.
    super({ objectMode: true, highWaterMark: 1 });
    this.#submit = submit;
    this.#refused = refused;
    this.#topic = options.topic;
    this.#signal = options.signal;
    // Destroyed now, as Node's own streams are (addAbortSignal): a write made right after this returned reached the
    // producer under a live signal, and was accepted before a microtask's destroy took it back.
    if (this.#signal?.aborted) this.#onAbort();
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** False when this record has to wait: the caller should hold the next one until 'drain'. */
  override write(chunk: unknown, encoding?: BufferEncoding | Callback, callback?: Callback): boolean {
    super.write(chunk, encoding as BufferEncoding, callback);
    // Accepted at once: the record left the stream's buffer inside write() (Node still emits a harmless 'drain').
    return this.writableLength === 0 && !this.destroyed;
  }

  override _write(record: WritableRecord, _encoding: BufferEncoding, callback: Callback): void {
    // Refused before it takes a position. Spread with the stream's topic, a string, Buffer or number became a record
    // of its characters or bytes, with no key and no value: sent as an empty record, without a word (a line reader
    // piped into the stream lost every line); undefined threw a TypeError and left the stream unable to finish.
    // Arrays (a CSV parser's rows), ArrayBuffers, Maps and Sets are objects with no record fields: the same.
    if (!isRecordObject(record)) {
      this.#refused?.();
      callback(new InvalidRecordError(`a record written to producer.writable() must be an object { key?, value, headers?, topic?, partition?, timestamp? }, got ${describe(record)}`));
      return;
    }
    let full: WritableRecord;
    try {
      full = record.topic === undefined && this.#topic !== undefined ? withTopic(record, this.#topic) : record;
    } catch (error) {
      // A getter that throws: refused like any bad field, before the record takes a position.
      this.#refused?.();
      callback(new InvalidRecordError(`a record written to producer.writable() could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
      return;
    }
    const position = this.#written++;
    this.#waiting = callback;
    this.#waitingPosition = position;
    // accepted() or reject() may run before this returns.
    this.#inWrite = true;
    try {
      this.#submit(full as ProducerRecord, this.#stop.signal, this, position);
    } finally {
      this.#inWrite = false;
    }
  }

  override _final(callback: Callback): void {
    if (this.#settled === this.#written) callback(this.#failure ?? null);
    else this.#final = callback;
  }

  override _destroy(error: Error | null, callback: Callback): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    // Records not sealed yet (waiting for buffer space, or buffered) are taken back, never sent; sealed ones go on.
    // Except when the producer's close refused a record: the records accepted before it are close()'s to deliver
    // (it flushes them, or fails them at its deadline). Taken back, the records a pipeline had written when a SIGTERM
    // handler called close() were lost by a close that promises to deliver every record sent before it.
    const reason = error ?? new AbortError('not-sent', 'the stream was destroyed');
    // Only this producer's refusal counts: another producer's ProducerClosedError passed on by a pipeline is a
    // destroy like any other.
    if (!this.#producerClosing) this.#stop.abort(reason);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    // Destroyed by a failed record, this runs inside the producer's settlement: the waiting write hears it later.
    // With an error even when destroy() gave none: its record is taken back, never sent, and a null told a caller
    // that acknowledges its source from write callbacks that the record was taken (the stream emits no 'error').
    // An AbortError 'not-sent' (the reason as its cause), not the reason itself: a failed record's DeliveryTimeoutError
    // 'unknown' told this one, which never left, that it may have been written.
    if (waiting !== undefined) {
      const notSent = reason instanceof AbortError && reason.delivery === 'not-sent'
        ? reason
        : new AbortError('not-sent', 'the stream was destroyed before this record was accepted', { cause: reason });
      this.#callBack(waiting, notSent);
    }
    callback(error);
  }

  /** @internal Settler: the producer took the record at `position` into its buffer. */
  accepted(position: number): void {
    if (position !== this.#waitingPosition || this.#waiting === undefined) return;
    const callback = this.#waiting;
    this.#waiting = undefined;
    this.#callBack(callback, null);
  }

  /** @internal Settler: the record at this position was acknowledged. */
  resolve(_position: number, _metadata: RecordMetadata): void {
    this.#settle();
  }

  /** @internal Settler: the record at this position failed. */
  reject(position: number, error: Error): void {
    this.#failure ??= error;
    if (error instanceof ProducerClosedError) this.#producerClosing = true;
    if (position === this.#waitingPosition && this.#waiting !== undefined) {
      // Refused before it was accepted (bad record, buffer timeout): the write itself fails.
      const callback = this.#waiting;
      this.#waiting = undefined;
      this.#settle();
      this.#callBack(callback, error);
      return;
    }
    this.#settle();
    if (!this.destroyed) this.destroy(error);
  }

  #settle(): void {
    this.#settled++;
    if (this.#final !== undefined && this.#settled === this.#written) {
      const final = this.#final;
      this.#final = undefined;
      this.#callBack(final, this.#failure ?? null);
    }
  }

  /** Calls a stream callback now inside `_write` (Node defers what follows it), else on the next tick. */
  #callBack(callback: Callback, error: Error | null): void {
    if (this.#inWrite) callback(error);
    else process.nextTick(callback, error);
  }
}

/**
 * `record` with `topic`, field by field: a spread copies own properties only, and a record whose fields are getters
 * (a class instance) lost its key and value.
 */
function withTopic(record: WritableRecord, topic: string): ProducerRecord {
  const { key, value, headers, partition, timestamp } = record;
  return { topic, key, value, headers, partition, timestamp };
}

/** Whether a chunk can be a record: an object, not a primitive, a byte container, an array or a collection. */
function isRecordObject(chunk: unknown): chunk is WritableRecord {
  if (typeof chunk !== 'object' || chunk === null) return false;
  return !(ArrayBuffer.isView(chunk) || types.isAnyArrayBuffer(chunk) || Array.isArray(chunk) || chunk instanceof Map || chunk instanceof Set);
}
