/**
 * The contract between the main thread and a producer worker, besides the shared memory itself: what a worker is
 * started with, and the rare control messages that travel over its MessagePort. Records and completions never
 * travel here; they go through the SharedArrayBuffer rings (record-entry.ts, completion-entry.ts).
 */
import type tls from 'node:tls';
import type { MessagePort } from 'node:worker_threads';
import type { CodecValue } from './codecs.js';

/** The options a worker needs, already validated on the main thread. */
export interface WorkerSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** 0, 1 or -1 (all). */
  readonly acks: number;
  readonly idempotent: boolean;
  /**
   * Set for a transactional producer: its batches carry the transactional attribute and its Produce requests the
   * id, and the producer id and epoch come from the shared identity block (WorkerInit.identity), not from here.
   */
  readonly transactionalId: string | null;
  /**
   * The highest Produce version to send: 11 for a transactional producer on transaction protocol v1 (v12 and later
   * tell a Kafka 4 broker the client adds partitions implicitly, KIP-890); otherwise the highest both sides speak.
   */
  readonly maxProduceVersion: number;
  readonly codec: CodecValue;
  readonly lingerMs: number;
  readonly batchMaxBytes: number;
  /** The producer's byte budget: a worker's share of it bounds the batch buffers it keeps idle (batch-buffers.ts). */
  readonly maxBufferedBytes: number;
  /** The batch bytes one Produce request gathers at most (one batch always goes): ResolvedOptions.requestGatherBytes. */
  readonly requestGatherBytes: number;
  readonly requestTimeoutMs: number;
  readonly deliveryTimeoutMs: number;
  readonly maxInFlight: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  readonly reconnectBackoffMs: number;
  readonly reconnectBackoffMaxMs: number;
  readonly connectTimeoutMs: number;
  /** Age at which the worker's cluster view fetches its topics' metadata again. */
  readonly metadataMaxAgeMs: number;
  /** How long a topic the worker wrote nothing to stays in its cluster view (metadataMaxIdleMs). */
  readonly metadataMaxIdleMs: number;
  /** null: plain TCP. Plain data only (checked on the main thread). */
  readonly tls: tls.ConnectionOptions | null;
  /**
   * null: no SASL. OAUTHBEARER carries no token here: the worker asks the main thread for one (TokenRequest) each
   * time it authenticates, and is sent fresh ones as they are obtained.
   */
  readonly sasl: WorkerSasl | null;
}

export type WorkerSasl =
  | { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'oauthbearer'; readonly extensions?: Readonly<Record<string, string>> | undefined };

/** Worker → main: the worker needs an OAUTHBEARER token to authenticate a connection. */
export interface TokenRequest {
  readonly type: 'token-request';
}

/**
 * Worker → main: a produce failed for want of a leader (or was redirected), so the main thread's metadata may be
 * stale too; it refreshes, so the partitioner stops choosing partitions without a leader before the max age.
 */
export interface MetadataStale {
  readonly type: 'metadata-stale';
}

/**
 * Worker → main: a rare thing a batch or a connection went through, for the `ringkafka:worker` diagnostics channel
 * (retries, throttling, epoch bumps, failed connection attempts; never one per record or per success). `errorCode` -1: no answer came.
 */
export type WorkerEvent =
  | { readonly type: 'event'; readonly event: 'retry'; readonly topic: string; readonly partition: number; readonly errorCode: number; readonly attempt: number }
  | { readonly type: 'event'; readonly event: 'throttle'; readonly broker: number; readonly throttleTimeMs: number }
  | { readonly type: 'event'; readonly event: 'epoch-bump'; readonly topic: string; readonly partition: number; readonly epoch: number }
  | { readonly type: 'event'; readonly event: 'connect-error'; readonly broker: number; readonly message: string };

/** Main → worker: the current OAUTHBEARER token (answering a request, or pushed after a refresh), or why there is none. */
export type TokenMessage =
  | { readonly type: 'token'; readonly value: string; readonly expiresAt: number }
  | { readonly type: 'token-error'; readonly message: string };

export interface WorkerInit {
  /** Which slice of partitions this worker owns: partition p of topic t goes to ownerOf(t, p, workerCount). */
  readonly workerIndex: number;
  readonly workerCount: number;
  readonly settings: WorkerSettings;
  /** Producer id and epoch from InitProducerId (-1 / -1 without idempotence), shared by every worker. */
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /**
   * A transactional producer's id and epoch, published by the main thread between transactions
   * (src/shared/producer-identity.ts); null otherwise.
   */
  readonly identity: SharedArrayBuffer | null;
  readonly control: SharedArrayBuffer;
  readonly recordStates: SharedArrayBuffer;
  readonly recordRing: SharedArrayBuffer;
  readonly completionRing: SharedArrayBuffer;
  /** Counters for metrics(), written by this worker (worker-stats.ts). */
  readonly stats: SharedArrayBuffer;
  readonly port: MessagePort;
}

/** Main → worker. (Flushes and waiting sends reach the workers through the control block, not as messages.) */
export type ControlMessage =
  /**
   * Stop: send what is buffered until `sendUntil`, then fail every batch that never left (`'not-sent'`); wait for
   * answers until `deadline` (epoch ms), then fail the rest and exit.
   */
  | { readonly type: 'close'; readonly deadline: number; readonly sendUntil: number }
  /**
   * Close has begun with a deadline: keep reading and sending until `sendUntil` (epoch ms), then send nothing new and
   * fail every batch that never left (`'not-sent'`), as after 'close'. Posted when close begins, so that a worker
   * keeps that time by its own clock: the 'close' message leaves only once the main thread's flush is over, late
   * when that thread is held up (a caller's synchronous work, a long collection), and a worker that heard of
   * `sendUntil` only then failed nothing before the deadline, when the main thread said 'unknown' of every batch.
   * A later close's `deadline` comes this way too: kept, it ends the worker when it passes, as after 'close', but
   * the worker reads its ring on until told to close (records the flush still writes there are sent).
   */
  | { readonly type: 'cut-off'; readonly sendUntil: number; readonly deadline?: number }
  | TokenMessage;

/** Worker → main: the loop has finished after a close; every completion is published. */
export interface ClosedMessage {
  readonly type: 'closed';
}

/**
 * The owner of a partition for the producer's whole life. Stable and computable on both sides, so a record always
 * reaches the one worker that holds its partition's sequence numbers (invariant 3, docs/invariants.md).
 */
export function ownerOf(topicIndex: number, partition: number, workerCount: number): number {
  return (topicIndex * 31 + partition) % workerCount;
}
