/** Public types of the producer API. */
export type { ProducerRecord, RecordHeaders, HeaderValue } from './serialize.js';
export type { ProducerOptions, Compression, Serializer, SerializerFunction, PartitionerFunction, PartitionerRecord } from './options.js';

/** Where a record landed. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset; -1 with acks=0 (the broker does not answer). */
  readonly offset: number;
  /** CreateTime (the record's timestamp), or the broker's LogAppendTime when the topic uses it. */
  readonly timestamp: number;
}

export interface SendOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface CloseOptions {
  /** How long close may wait for outstanding records; what is left then fails with ProducerClosedError. */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A snapshot of what the producer is doing. */
export interface ProducerMetrics {
  readonly bufferedBytes: number;
  readonly bufferedRecords: number;
  readonly waiters: number;
  readonly recordsSent: number;
  readonly bytesSent: number;
  readonly batches: number;
  /** Records whose send was rejected (broker errors, timeouts, aborts, close). */
  readonly recordsFailed: number;
  /** Produce requests sent, and those without an answer yet. */
  readonly requests: number;
  readonly requestsInFlight: number;
  /** Batches sent again after a retriable error or a lost connection. */
  readonly retries: number;
  /** Batches that failed for good. */
  readonly batchErrors: number;
  /** Total throttle_time_ms brokers asked for (KIP-219). */
  readonly throttleTimeMs: number;
  readonly workers: number;
}
