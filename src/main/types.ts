/** Public types of the producer API. */
export type { ProducerRecord, RecordHeaders, HeaderValue } from './serialize.js';
export type { ProducerOptions, Compression, Serializer, SerializerFunction, PartitionerFunction, PartitionerRecord } from './options.js';

/** Where a record landed. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset; -1 with acks=0 (the broker does not answer). */
  readonly offset: number;
  /**
   * On a CreateTime topic, the record's own timestamp (as sent). On a LogAppendTime topic, the broker's append
   * time from its answer. The broker answers a deduplicated retry with the stored batch's max timestamp in
   * place of an append time; on a CreateTime topic that is not reported (each record keeps its own), and on a
   * LogAppendTime topic it is the batch's append time.
   */
  readonly timestamp: number;
}

export interface SendOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface ConnectOptions {
  /** Ends the caller's wait for the connection (AbortError); the attempt itself goes on for the sends waiting for it. */
  readonly signal?: AbortSignal | undefined;
}

export interface SendBatchOptions extends SendOptions {
  /**
   * What the call resolves to. 'all' (the default): one PromiseSettledResult per record, in order. 'failures': a
   * SendBatchFailures holding only the records that failed, for callers that read nothing of a delivered record
   * (as librdkafka's `delivery.report.only.error`): no result object is made per delivered record. At hundreds of
   * thousands of records a second those objects were most of what outlived the main thread's young generation, and
   * a tenth or more of its time (docs/performance.md).
   */
  readonly results?: 'all' | 'failures' | undefined;
}

/** A record of a sendBatch that failed: its index in the call's `records`, and why. */
export interface RecordFailure {
  readonly index: number;
  readonly reason: Error;
}

/** What `sendBatch(records, { results: 'failures' })` resolves to once every record has its outcome. */
export interface SendBatchFailures {
  /** Records in the call. */
  readonly records: number;
  /** The failed ones, by index, in order; empty when every record was delivered. */
  readonly failures: readonly RecordFailure[];
}

/** A sendBatch's outcome in either form (`results: 'all'` or `'failures'`). */
export type SendBatchResult = PromiseSettledResult<RecordMetadata>[] | SendBatchFailures;

export interface CloseOptions {
  /**
   * How long close may wait for outstanding records; what is left then fails with ProducerClosedError. Without it,
   * close waits for every send's result (each bounded by bufferTimeoutMs + deliveryTimeoutMs), then up to requestTimeoutMs more for
   * batches the broker has not answered. A transactional producer's close first aborts the open transaction, waiting
   * for that at most deliveryTimeoutMs + requestTimeoutMs.
   *
   * With it, the workers send nothing new from a lead before the deadline (the lesser of 250 ms and an eighth of
   * timeoutMs) and fail what no broker holds then as `'not-sent'`, in time for the caller to hear so; a transaction's
   * batches too, so a commit still under way with a batch not sent by then fails, and the transaction is aborted. A
   * finite number of ms, 0 or more (a ConfigError otherwise, and the producer stays open).
   */
  readonly timeoutMs?: number | undefined;
  /**
   * A deadline of the caller's own: once it aborts, close ends as at `timeoutMs` (whichever comes first), failing
   * what is left with ProducerClosedError, and still resolves. Unlike `flush` and `connect`, which reject with
   * AbortError when their signal aborts, a close cannot be taken back: the producer is closed either way.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A snapshot of what the producer is doing. */
export interface ProducerMetrics {
  /**
   * Bytes (key, value, headers) of the records accepted and not yet reported by their worker: at most
   * maxBufferedBytes. A record whose caller was released early (abort, delivery timeout) keeps its bytes until its
   * worker reports it, which may be a linger later (or a round trip, once it is in a batch being sent).
   */
  readonly bufferedBytes: number;
  /** The records those bytes are (at most maxBufferedRecords). */
  readonly bufferedRecords: number;
  /**
   * Records waiting for buffer space (the byte budget's queue). Not the calls that wait: a sendBatch's records still
   * being submitted, or records waiting for the connection or their topic's metadata, are not counted.
   */
  readonly waiters: number;
  /**
   * Records acknowledged by the broker (delivered), a transactional producer's records of aborted transactions
   * included: the broker holds them, though a read_committed consumer never sees them.
   */
  readonly recordsSent: number;
  /** Their key, value and header bytes (not bytes on the wire: no framing, no compression). */
  readonly bytesSent: number;
  /** Batches acknowledged. */
  readonly batches: number;
  /**
   * Records whose send was rejected, wherever it failed: broker errors, timeouts (buffer space, metadata, delivery),
   * aborts, close, unknown topics, invalid records, and calls refused whole (their options, a transactional
   * producer's send outside a transaction). Not a `trySend` that throws, nor a sendBatch given no array. A record
   * whose caller was released as `'unknown'` (abort, delivery timeout, close) and that the broker acknowledged later
   * (a `'lateOutcome'`) counts here and in `recordsSent` both, so the two can add up to more than the records sent.
   */
  readonly recordsFailed: number;
  /** Produce requests sent, and those without an answer yet. */
  readonly requests: number;
  readonly requestsInFlight: number;
  /** Batches sent again after a retriable error or a lost connection. */
  readonly retries: number;
  /**
   * Batches that failed for good, as their workers reported them. Records that close() gave up on, or that a crashed
   * worker held, fail on the main thread without a batch outcome: they count in `recordsFailed` only (a close that
   * raced its worker's report counted their batch here or not, from run to run).
   */
  readonly batchErrors: number;
  /**
   * Total throttle_time_ms brokers asked for in Produce answers (KIP-219). Every other request is held for its
   * answer's throttle time too (each connection waits it out), but is not counted here.
   */
  readonly throttleTimeMs: number;
  /**
   * The workers' failed attempts to connect to a partition leader (refused, timed out, the handshake or
   * authentication failed, or a leader missing from the broker list); the connections for metadata are not counted.
   * Such a failure is no retry: nothing was sent, and the batches waiting for that broker stay unsent.
   */
  readonly connectErrors: number;
  /** Worker threads running: `workers` once connected, 0 before and after close. */
  readonly workers: number;
}
