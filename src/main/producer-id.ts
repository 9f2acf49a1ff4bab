/**
 * The producer id and epoch of an idempotent producer (InitProducerId with a null transactional id), shared by
 * every worker. A freshly started cluster answers COORDINATOR_LOAD_IN_PROGRESS or COORDINATOR_NOT_AVAILABLE for a
 * while: retriable errors and lost connections are retried with backoff for up to bufferTimeoutMs (Java's
 * max.block.ms), until `stop` aborts (the producer closes). `keepAlive: false` for a caller nobody waits on (a
 * crashed worker's replacement): its waits then keep no idle process alive.
 */
import { InitProducerId } from '../protocol/apis/init-producer-id.js';
import { brokerError } from '../protocol/error-codes.js';
import { backoffMs } from '../shared/backoff.js';
import { ConnectionError, KafkaProducerError } from '../shared/errors.js';
import { pause } from '../shared/pause.js';
import type { ResolvedOptions } from './options.js';
import type { TopicRegistry } from './topic-registry.js';

export interface ProducerIdentity {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

export const NO_PRODUCER_ID: ProducerIdentity = { producerId: -1n, producerEpoch: -1 };

export async function initProducerId(
  registry: TopicRegistry,
  options: Pick<ResolvedOptions, 'bufferTimeoutMs' | 'retryBackoffMs' | 'retryBackoffMaxMs'>,
  stop: AbortSignal,
  keepAlive = true,
): Promise<ProducerIdentity> {
  const deadline = Date.now() + options.bufferTimeoutMs;
  let failure: KafkaProducerError | undefined;
  for (let attempt = 0; ; attempt++) {
    // A new bootstrap connection waits out the reconnect backoff first (topic-registry.ts): waited here, where it
    // ends at the deadline at the latest (a retryBackoffMs of 0 would reconnect at once).
    const reconnectIn = registry.reconnectDelay();
    if (reconnectIn > 0) {
      const gaveUp = (): KafkaProducerError => failure ?? new ConnectionError(`no broker could be reached: ${registry.reconnectReason()}`);
      const remaining = deadline - Date.now();
      if (remaining > 0) await pause(Math.min(reconnectIn, remaining), stop, gaveUp, keepAlive);
      if (reconnectIn >= remaining) throw gaveUp();
    }
    try {
      const connection = await registry.connection();
      const response = await connection.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 });
      if (response.errorCode === 0) return { producerId: response.producerId, producerEpoch: response.producerEpoch };
      failure = brokerError(response.errorCode, 'InitProducerId failed');
    } catch (error) {
      if (!(error instanceof KafkaProducerError)) throw error;
      failure = error;
    }
    // Only up to the deadline, where it gives up with the last failure, its whole time waited.
    const wait = backoffMs(attempt, options);
    const remaining = deadline - Date.now();
    const last = failure;
    if (!last.retriable || stop.aborted || remaining <= 0) throw last;
    // Cut short by close: a plain timer here outlived a producer closed while its cluster refused InitProducerId (or
    // dropped every connection after its handshake), keeping the process alive for up to retryBackoffMaxMs.
    await pause(Math.min(wait, remaining), stop, () => last, keepAlive);
    if (wait >= remaining) throw last;
  }
}
