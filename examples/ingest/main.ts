/**
 * Runs the ingestion service: `npx tsx examples/ingest/main.ts` (PORT, default 8080; KAFKA_BROKERS, default
 * 127.0.0.1:9092; SHUTDOWN_MS, default 10000; MAX_CONCURRENT_REQUESTS, default 64;
 * MAX_LINES_PER_REQUEST, default 100000; empty is unset). SIGTERM or SIGINT:
 * graceful shutdown, then exit 0 (1, with the error on stderr, when the shutdown fails).
 */
import { once } from 'node:events';
import { Producer } from '../../src/main/index.js';
import { createIngestService } from './service.js';

/**
 * A number from the environment: empty or blank is unset, as KAFKA_BROKERS is (`SHUTDOWN_MS=` was a 0 ms deadline,
 * which cut every open request at the first signal); anything else that is no number in range stops the start with
 * an error naming the variable, before the producer connects.
 */
function fromEnv(name: string, fallback: number, valid: (n: number) => boolean, expected: string): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!valid(n)) throw new Error(`${name} must be ${expected}, got ${JSON.stringify(process.env[name])}`);
  return n;
}

const port = fromEnv('PORT', 8080, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number (0 to 65535)');
const shutdownMs = fromEnv('SHUTDOWN_MS', 10_000, (n) => Number.isFinite(n) && n >= 0, 'a number of milliseconds, 0 or more');
const maxConcurrentRequests = fromEnv('MAX_CONCURRENT_REQUESTS', 64, (n) => Number.isInteger(n) && n >= 1, 'a whole number, 1 or more');
const maxLinesPerRequest = fromEnv('MAX_LINES_PER_REQUEST', 100_000, (n) => Number.isInteger(n) && n >= 1, 'a whole number, 1 or more');
// A request waits at most 2 s for buffer space, then gets 503 with Retry-After.
const producer = new Producer({ clientId: 'ingest', compression: 'lz4', bufferTimeoutMs: 2_000 });
await producer.connect();
const { server, shutdown } = createIngestService(producer, { maxConcurrentRequests, maxLinesPerRequest });
server.listen(port, '127.0.0.1');
await once(server, 'listening');
const address = server.address();
console.log(`listening on ${typeof address === 'object' && address !== null ? address.port : port}`);

/**
 * One handler for both signals, one shutdown: SIGTERM then SIGINT each started one, and the first waited out its
 * whole deadline. A failed shutdown (the producer's close rejected) was an unhandled rejection: now its message on
 * stderr and exit code 1.
 */
let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) {
    console.log(`${signal}: already draining`);
    return;
  }
  stopping = true;
  console.log(`${signal}: draining within ${shutdownMs} ms`);
  shutdown(shutdownMs).then(
    () => {
      console.log('drained');
      process.exitCode = 0;
    },
    (error: unknown) => {
      console.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
