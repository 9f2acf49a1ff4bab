/** The worker's share of the producer's options, already validated (src/main/options.ts). */
import { Codec } from '../protocol/compression.js';
import type { WorkerSettings } from '../shared/worker-protocol.js';
import type { ResolvedOptions } from './options.js';

export function workerSettings(o: ResolvedOptions): WorkerSettings {
  return {
    brokers: o.brokers.map(({ host, port }) => `${host}:${port}`),
    clientId: o.clientId,
    acks: o.acks,
    idempotent: o.idempotent,
    codec: Codec[o.compression],
    lingerMs: o.lingerMs,
    batchMaxBytes: o.batchMaxBytes,
    maxRequestBytes: o.maxRequestBytes,
    requestTimeoutMs: o.requestTimeoutMs,
    deliveryTimeoutMs: o.deliveryTimeoutMs,
    maxInFlight: o.maxInFlight,
    retryBackoffMs: o.retryBackoffMs,
    retryBackoffMaxMs: o.retryBackoffMaxMs,
    connectTimeoutMs: o.connectTimeoutMs,
  };
}
