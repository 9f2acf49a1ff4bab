/**
 * Runs the ingestion service: `npx tsx examples/ingest/main.ts` (PORT, default 8080; KAFKA_BROKERS, default
 * 127.0.0.1:9092; SHUTDOWN_MS, default 10000). SIGTERM or SIGINT: graceful shutdown, then exit 0.
 */
import { once } from 'node:events';
import { Producer } from '../../src/main/index.js';
import { createIngestService } from './service.js';

const port = Number(process.env.PORT ?? 8080);
const shutdownMs = Number(process.env.SHUTDOWN_MS ?? 10_000);
// A request waits at most 2 s for buffer space, then gets 503 with Retry-After.
const producer = new Producer({ clientId: 'ingest', compression: 'lz4', bufferTimeoutMs: 2_000 });
await producer.connect();
const { server, shutdown } = createIngestService(producer);
server.listen(port, '127.0.0.1');
await once(server, 'listening');
const address = server.address();
console.log(`listening on ${typeof address === 'object' && address !== null ? address.port : port}`);

const stop = async (signal: string): Promise<void> => {
  console.log(`${signal}: draining`);
  await shutdown(shutdownMs);
  console.log('drained');
  process.exitCode = 0;
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
