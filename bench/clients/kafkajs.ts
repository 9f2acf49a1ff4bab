/**
 * KafkaJS 2.x in its own process. KafkaJS has no linger and no batch size: a `send` call's messages are the
 * batch, so it gets calls of about `chunkBytes` (one request's worth, as Java's 1 MiB max.request.size; or of
 * `callRecords`) with up to `bufferBytes` of them outstanding. With idempotence KafkaJS serialises requests per
 * broker behind a lock, so the outstanding calls queue there. KafkaJS ships no LZ4 codec: users register one, and this does the
 * same with lz4-napi (the LZ4 frame binding ringkafka uses). Latency is each call's, which is every message's in
 * it (they are handed over together and acknowledged together).
 */
import { readFileSync } from 'node:fs';
import { callBytes, callPlan, produceInCalls, readConfig, runClient, type Driver, type RunOutcome } from './harness.js';
import { peerVersion, registerKafkaJsLz4, requirePeer, type KafkaJsMessage, type KafkaJsModule } from './peer-modules.js';

const config = readConfig();
// KafkaJS 2 logs a warning about its partitioner change at every start unless told not to.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
/**
 * `facade` (the kafkajs-facade row): the same driver over ringkafka's KafkaJS facade, the built package as users
 * import it. The specifier is a variable so that `npm run typecheck` does not need the package built.
 */
const facade = process.argv[3] === 'facade';
const FACADE = 'ringkafka/kafkajs';
const kafkajs = facade ? ((await import(FACADE)) as KafkaJsModule) : requirePeer<KafkaJsModule>('kafkajs');
registerKafkaJsLz4(kafkajs);

const kafka = new kafkajs.Kafka({
  clientId: 'kafkajs-bench',
  brokers: [...config.brokers],
  logLevel: kafkajs.logLevel.ERROR,
  ...(config.tls !== undefined && {
    ssl: { ca: readFileSync(config.tls.ca), cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) },
  }),
});
// The facade refuses allowAutoTopicCreation: false (ringkafka leaves topic creation to the broker's setting); the
// bench creates its topic beforehand, so leaving it out changes nothing here.
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, ...(!facade && { allowAutoTopicCreation: false }) });
await producer.connect();

const compression = config.scenario.compression === 'lz4' ? kafkajs.CompressionTypes.LZ4 : kafkajs.CompressionTypes.None;
const { perCall, window } = callPlan(config, callBytes(config), callBytes(config));

const driver: Driver = {
  settings: [
    facade ? 'ringkafka/kafkajs (KafkaJS API over ringkafka, default ringkafka settings)' : `kafkajs ${peerVersion('kafkajs')}`, 'idempotent=true', 'acks=-1', 'maxInFlightRequests=5 (idempotence serialises per broker)',
    config.scenario.rate !== undefined ? `one send() call per wake of the pacer with the messages due at ${config.scenario.rate}/s, up to ${window} outstanding` : `send() calls of ${perCall} messages, up to ${window} outstanding`, 'no linger, no batch size: the call is the batch',
    'partitioner=DefaultPartitioner (murmur2 for keys, round-robin for null keys)', 'LZ4 codec registered from lz4-napi',
    ...(config.tls !== undefined ? ['ssl: { ca, cert, key } (mutual TLS)'] : []),
  ],
  latencyNote:
    config.scenario.rate !== undefined
      ? 'each message from its due time to its send() call\'s result, every message (one call per wake of the pacer)'
      : 'send() call to its result, every call (each message of a call shares its latency)',

  produce(from, count, { values, keys }, latency): Promise<RunOutcome> {
    const send = async (start: number, end: number): Promise<void> => {
      const messages: KafkaJsMessage[] = [];
      for (let i = start; i < end; i++) {
        messages.push(keys === undefined ? { value: values[i % values.length]! } : { key: keys[i % keys.length]!, value: values[i % values.length]! });
      }
      await producer.send({ topic: config.topic, messages, acks: -1, compression });
    };
    const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    return produceInCalls(config, from, count, perCall, window, latency, send, describe);
  },

  close: () => producer.disconnect(),
};

await runClient(config, driver);
