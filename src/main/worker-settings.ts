/** The worker's share of the producer's options, already validated (src/main/options.ts). */
import { Codec } from '../shared/codecs.js';
import type { WorkerSettings } from '../shared/worker-protocol.js';
import type { ResolvedOptions } from './options.js';

export function workerSettings(o: ResolvedOptions): WorkerSettings {
  return {
    brokers: o.brokers.map(({ host, port }) => `${host}:${port}`),
    clientId: o.clientId,
    acks: o.acks,
    idempotent: o.idempotent,
    transactionalId: o.transactionalId,
    // Transaction protocol v1 needs Produce v11 at most; the transaction manager lowers this before the workers
    // start when the cluster does not finalize v2 (src/main/transactions/).
    maxProduceVersion: Number.MAX_SAFE_INTEGER,
    codec: Codec[o.compression],
    lingerMs: o.lingerMs,
    batchMaxBytes: o.batchMaxBytes,
    maxBufferedBytes: o.maxBufferedBytes,
    requestGatherBytes: o.requestGatherBytes,
    requestTimeoutMs: o.requestTimeoutMs,
    deliveryTimeoutMs: o.deliveryTimeoutMs,
    maxInFlight: o.maxInFlight,
    retryBackoffMs: o.retryBackoffMs,
    retryBackoffMaxMs: o.retryBackoffMaxMs,
    reconnectBackoffMs: o.reconnectBackoffMs,
    reconnectBackoffMaxMs: o.reconnectBackoffMaxMs,
    connectTimeoutMs: o.connectTimeoutMs,
    metadataMaxAgeMs: o.metadataMaxAgeMs,
    metadataMaxIdleMs: o.metadataMaxIdleMs,
    tls: o.tls,
    // The token provider is a function and stays here; the worker asks for tokens over its port.
    sasl: o.sasl === null ? null : o.sasl.mechanism === 'oauthbearer' ? { mechanism: 'oauthbearer', extensions: o.sasl.extensions } : o.sasl,
  };
}
