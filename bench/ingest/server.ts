/**
 * One ingestion server for `npm run bench:ingest`, in a process of its own so that its CPU, memory and event loop
 * are its client's alone: examples/ingest/service.ts on the producer named by the first argument (ringkafka,
 * kafkajs, platformatic), KAFKA_BROKERS for the brokers.
 *
 * It speaks to the bench over the IPC channel: it sends `{ port }` once listening; `reset` starts the measured
 * window (event-loop delay, CPU); `report` answers with the window's figures; `stop` shuts the service down and
 * exits.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Producer } from '../../dist/src/main/index.js';
import { createIngestService, type IngestProducer } from '../../examples/ingest/service.js';
import { kafkajsProducer, platformaticProducer } from './adapters.js';
import { loopDelayMs, type ServerReport } from './summary.js';
import { ownPeakRssMB } from '../lib/process-watch.js';

const client = process.argv[2];
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((a) => a.trim()).filter(Boolean);

async function ringkafkaProducer(): Promise<IngestProducer> {
  // As examples/ingest/main.ts runs it: a request waits at most 2 s for buffer space, then gets 503.
  const producer = new Producer({ brokers, clientId: 'ingest-bench', compression: 'lz4', bufferTimeoutMs: 2_000 });
  await producer.connect();
  return producer;
}

const makers: Record<string, () => Promise<IngestProducer>> = {
  ringkafka: ringkafkaProducer,
  kafkajs: () => kafkajsProducer(brokers),
  platformatic: () => platformaticProducer(brokers),
};
const make = client === undefined ? undefined : makers[client];
if (make === undefined || process.send === undefined) throw new Error(`usage: forked with IPC, argument one of ${Object.keys(makers).join(', ')}`);
const tell = process.send.bind(process);

// The load generator's connections × pipelining bound the requests under way; past the service's default limit (64)
// they would be answered 503 and measure the limit, not the producer.
const { server, shutdown } = createIngestService(await make(), { maxConcurrentRequests: 4096 });
// The service keeps its own histogram for /metrics since it started; this one covers the measured window only.
const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
let cpuAtReset = process.cpuUsage();

process.on('message', (message) => {
  if (message === 'reset') {
    delay.reset();
    cpuAtReset = process.cpuUsage();
    tell('reset');
  } else if (message === 'report') {
    const cpu = process.cpuUsage(cpuAtReset);
    const report: ServerReport = {
      eventLoopDelayP99Ms: loopDelayMs(delay.percentile(99), RESOLUTION_MS),
      eventLoopDelayMaxMs: loopDelayMs(delay.max, RESOLUTION_MS),
      cpuSec: (cpu.user + cpu.system) / 1e6,
      // the server's own peak, not its parent's (process-watch.ts: getrusage's maxrss inherits the bench's size)
      peakRssMB: ownPeakRssMB(),
    };
    tell(report);
  } else if (message === 'stop') {
    void shutdown(10_000).then(() => process.exit(0));
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  tell({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
