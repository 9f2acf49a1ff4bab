/**
 * @platformatic/kafka in its own process: 1.x (the last line that runs on Node 20), or 2.x (Node >= 22.22) when
 * argv[3] is `platformatic-2`. Like KafkaJS it has no linger
 * and no batch size on `send`: a call's messages are the batch, so it gets calls of about `chunkBytes` (or of
 * `callRecords`).
 *
 * Calls in flight: with idempotence this client forces one request in flight per connection and advances its
 * partition sequence numbers only when a call's response arrives, so concurrent `send` calls would reuse
 * sequence numbers. Its users therefore send one call at a time (the library's own ProducerStream does exactly
 * that); so does this, unless `RINGKAFKA_BENCH_PLATFORMATIC_WINDOW` says otherwise, for trying it.
 */
import { readFileSync } from 'node:fs';
import { callBytes, callPlan, produceInCalls, readConfig, runClient, type Driver, type RunOutcome } from './harness.js';
import { importPeer, peerVersion, type PeerDir, type PlatformaticMessage, type PlatformaticModule } from './peer-modules.js';

const config = readConfig();
// argv[3]: which install to load, 1.x (bench/peers/node, the default) or 2.x (bench/peers/platformatic-2)
const dir: PeerDir = process.argv[3] === 'platformatic-2' ? 'platformatic-2' : 'node';
const { Producer } = await importPeer<PlatformaticModule>('@platformatic/kafka', dir);
const producer = new Producer({
  clientId: 'platformatic-bench',
  bootstrapBrokers: [...config.brokers],
  idempotent: true,
  acks: -1,
  compression: config.scenario.compression,
  autocreateTopics: false,
  ...(config.tls !== undefined && {
    tls: { ca: readFileSync(config.tls.ca), cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) },
  }),
});

const { perCall } = callPlan(config, callBytes(config), callBytes(config));
const window = Number(process.env.RINGKAFKA_BENCH_PLATFORMATIC_WINDOW ?? 1);

const driver: Driver = {
  settings: [
    `@platformatic/kafka ${peerVersion('@platformatic/kafka', dir)}`, 'idempotent=true (forces maxInflights=1)', 'acks=-1',
    config.scenario.rate !== undefined ? `one send() call per wake of the pacer with the messages due at ${config.scenario.rate}/s, ${window} outstanding` : `send() calls of ${perCall} messages, ${window} outstanding`, 'no linger, no batch size: the call is the batch',
    'partitioner=default (murmur2 for keys, round-robin for null keys)',
    ...(config.tls !== undefined ? ['tls: { ca, cert, key } (mutual TLS)'] : []),
  ],
  latencyNote:
    config.scenario.rate !== undefined
      ? 'each message from its due time to its send() call\'s result, every message (one call per wake of the pacer, one call at a time)'
      : 'send() call to its result, every call (each message of a call shares its latency)',

  produce(from, count, { values, keys }, latency): Promise<RunOutcome> {
    const send = async (start: number, end: number): Promise<void> => {
      const messages: PlatformaticMessage[] = [];
      for (let i = start; i < end; i++) {
        const value = values[i % values.length]!;
        messages.push(keys === undefined ? { topic: config.topic, value } : { topic: config.topic, key: keys[i % keys.length]!, value });
      }
      await producer.send({ messages });
    };
    return produceInCalls(config, from, count, perCall, window, latency, send, describe);
  },

  close: () => producer.close(),
};

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const nested = (error as Error & { errors?: unknown[] }).errors?.[0];
  return `${error.name}: ${error.message}${nested instanceof Error ? ` (${nested.message})` : ''}`;
}

await runClient(config, driver);
