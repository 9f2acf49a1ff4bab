/**
 * A runnable example: send 100 000 records with lz4, keyed by user, then print where the first one landed and
 * the producer's metrics. Start a broker first (`npm run kafka -- start`) or point KAFKA_BROKERS at a cluster:
 *
 *   npx tsx examples/produce.ts [topic]
 */
import { Producer } from '../src/main/index.js';

const topic = process.argv[2] ?? 'ringkafka-example';
await using producer = new Producer({ clientId: 'example', compression: 'lz4' }); // brokers: KAFKA_BROKERS or 127.0.0.1:9092

const first = await producer.send({ topic, key: 'user-0', value: JSON.stringify({ hello: 'world' }), headers: { source: 'example' } });
console.log('first record:', first);

const records = Array.from({ length: 100_000 }, (_, i) => ({ topic, key: `user-${i % 100}`, value: `event ${i}` }));
const started = performance.now();
const results = await producer.sendBatch(records, { signal: AbortSignal.timeout(60_000) });
const failed = results.filter((result) => result.status === 'rejected');
const seconds = (performance.now() - started) / 1000;
console.log(`${results.length - failed.length} delivered, ${failed.length} failed, ${(results.length / seconds).toFixed(0)} records/s`);
console.log(producer.metrics());
