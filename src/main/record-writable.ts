/**
 * `producer.writable()`: an object-mode Writable of records whose back-pressure is the producer's byte budget.
 * `write()` returns false exactly when the record it was given has to wait (for buffer space, the connection or its
 * topic's metadata), and 'drain' follows once that record is accepted; the stream itself holds at most that one
 * record, so memory stays within maxBufferedBytes plus one record. `end()`'s callback (and 'finish') come once every
 * record is acknowledged.
 *
 * Failing and cancelling are told apart:
 * - A failure (one of its records failed, a bad record, a write after end, a pipeline passing on its source's error)
 *   takes nothing back: the stream hands the producer no more records, and 'error' and 'close' come once every record
 *   it had taken has settled, delivered or failed. Then nothing of the stream is left in flight when a pipeline hears
 *   of the failure, and what it had taken is a prefix of what was written. Destroyed at the failure and taking back
 *   what no worker had sealed, the stream dropped good records whose writes had succeeded (a stray write after end()
 *   dropped all of them), while the sealed ones went on landing after the pipeline had rejected.
 * - A cancellation (the `signal`, destroy() with no error or with an AbortError) releases the stream at once, as
 *   aborting a send does (invariant 5, docs/invariants.md): records no worker has sealed yet are taken back and never
 *   sent; sealed ones go on, unobserved. A failure already seen is still what the stream reports. The signal also
 *   cuts short the wait of a stream a failure has destroyed (a second destroy() is ignored by Node).
 * A stream whose producer is closing takes nothing back: close() delivers what the stream had accepted, as it does
 * every send made before it.
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
import { unreadableRecord } from './invalid-record.js';
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
  readonly #onAbort = (): void => this.#abort();
  #written = 0;
  #settled = 0;
  /** The write callback of the record waiting to be accepted, and its position. */
  #waiting: Callback | undefined;
  #waitingPosition = -1;
  #final: Callback | undefined;
  /** The first failure: the stream hands the producer no more records, and fails once those it took have settled. */
  #failure: Error | undefined;
  /** A write that came after the failure: never handed to the producer, it fails with the stream. */
  #held: Callback | undefined;
  /** Destroyed by a failure: `_destroy`'s callback and error, called once every record the stream took has settled. */
  #destroyDone: Callback | undefined;
  #destroyError: Error | null = null;
  /** True while `_write` hands its record to the producer: a callback called then runs when Node defers it to. */
  #inWrite = false;
  /** Set once this stream's producer failed one of its records for closing (ProducerClosedError): see `_destroy`. */
  #producerClosing = false;
  /** Set by the signal: the destroy it makes is a cancellation, whatever error it reports (see `#abort`). */
  #aborted: AbortError | undefined;

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
      // A getter that throws: refused as the producer refuses it (naming the field), before it takes a position.
      this.#refused?.();
      callback(unreadableRecord(record, error));
      return;
    }
    if (this.#failure !== undefined) {
      this.#held = callback;
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
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) {
      this.#callBack(held, new AbortError('not-sent', 'the stream failed before this record was handed to the producer', { cause: error ?? undefined }));
    }
    if (error !== null && !isAbortError(error) && this.#aborted === undefined) {
      // A failure: nothing is taken back (see the file comment), and the stream closes once its records settle. The
      // write still waiting for buffer space hears of its record then too, as it is accepted or refused.
      if (this.#settled === this.#written) this.#closed(callback, error);
      else {
        this.#destroyDone = callback;
        this.#destroyError = error;
      }
      return;
    }
    // A cancellation: records not sealed yet (waiting for buffer space, or buffered) are taken back, never sent;
    // sealed ones go on. Except when the producer's close refused a record: the records accepted before it are
    // close()'s to deliver (it flushes them, or fails them at its deadline). Taken back, the records a pipeline had
    // written when a SIGTERM handler called close() were lost by a close that promises to deliver every record sent
    // before it.
    const reason = this.#aborted ?? error ?? new AbortError('not-sent', 'the stream was destroyed');
    if (!this.#producerClosing) this.#stop.abort(reason);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    // With an error even when destroy() gave none: its record is taken back, never sent, and a null told a caller
    // that acknowledges its source from write callbacks that the record was taken (the stream emits no 'error').
    // An AbortError 'not-sent' (the reason as its cause) unless the reason is one already.
    if (waiting !== undefined) {
      const notSent = reason instanceof AbortError && reason.delivery === 'not-sent'
        ? reason
        : new AbortError('not-sent', 'the stream was destroyed before this record was accepted', { cause: reason });
      this.#callBack(waiting, notSent);
    }
    // A record's failure is still what the stream reports: cancelled while it waited for its other records, it said
    // AbortError 'not-sent', or nothing at all, of a record that may have been written.
    this.#closed(callback, this.#failure ?? error);
  }

  /**
   * The signal aborted: destroys the stream, or ends a failure's wait for its records, taking back what it can. A
   * failure already seen is what the stream reports; the destroy is a cancellation all the same (`#aborted`).
   */
  #abort(): void {
    const reason = new AbortError('not-sent', 'the stream was aborted', { cause: this.#signal?.reason });
    this.#aborted = reason;
    const done = this.#destroyDone;
    if (done === undefined) {
      this.destroy(this.#failure ?? reason);
      return;
    }
    this.#destroyDone = undefined;
    if (!this.#producerClosing) this.#stop.abort(reason);
    this.#closed(done, this.#destroyError);
  }

  /** Completes a destruction by a failure that waited for the stream's records; false when none waits. */
  #completeDestroy(): boolean {
    const done = this.#destroyDone;
    if (done === undefined) return false;
    this.#destroyDone = undefined;
    this.#closed(done, this.#destroyError);
    return true;
  }

  /** The stream's destruction is complete: no more aborts to hear, and Node emits 'error' (if any) and 'close'. */
  #closed(callback: Callback, error: Error | null): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
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
      // Refused before it was accepted (bad record, buffer timeout): the write itself fails, and Node destroys the
      // stream with its error (_destroy then waits for the records taken before it).
      const callback = this.#waiting;
      this.#waiting = undefined;
      this.#settled++;
      this.#callBack(callback, error);
      // Destroyed by an earlier failure, the stream waited for this record too.
      if (this.#settled === this.#written) this.#completeDestroy();
      return;
    }
    this.#settle();
  }

  #settle(): void {
    this.#settled++;
    if (this.#settled !== this.#written) return;
    // A destruction first: once destroyed after end(), the stream never finishes, and a final callback goes unheard.
    if (this.#completeDestroy()) return;
    if (this.#final !== undefined) {
      const final = this.#final;
      this.#final = undefined;
      this.#callBack(final, this.#failure ?? null);
      return;
    }
    // The failure's last record settled, the stream idle or its next write held: it fails now (an idle source, a
    // `tail -f` waiting for input, would otherwise never hear of it).
    if (this.#failure !== undefined && !this.destroyed) this.destroy(this.#failure);
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

/** A cancellation, not a failure: ringkafka's AbortError, Node's (a pipeline's signal) or a DOMException's. */
function isAbortError(error: Error): boolean {
  return error.name === 'AbortError';
}
