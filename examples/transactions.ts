/**
 * A runnable example of transactions: one transaction commits 1,000 records over every partition of the topic, the
 * next is aborted by a failure in the middle of its work, and a read_committed consumer only ever sees the first.
 * Start a broker first (`npm run kafka -- start`) or point KAFKA_BROKERS at a cluster:
 *
 *   npx tsx examples/transactions.ts [topic]
 *
 * Check with Kafka's own consumer: `npm run kafka -- tool org.apache.kafka.tools.consumer.ConsoleConsumer
 * --bootstrap-server 127.0.0.1:9092 --topic <topic> --from-beginning --isolation-level read_committed`.
 */
import { Producer } from '../src/main/index.js';

const topic = process.argv[2] ?? 'ringkafka-transactions-example';
// The transactional id names this producer across restarts: a new process with the same id fences the old one.
await using producer = new Producer({ clientId: 'example', transactionalId: `example-${topic}` });

await producer.transaction(async (tx) => {
  const results = await tx.sendBatch(Array.from({ length: 1000 }, (_, i) => ({ topic, key: `order-${i}`, value: `committed ${i}` })));
  console.log(`committed transaction: ${results.length} records sent`);
}); // resolves once committed

try {
  await producer.transaction(async (tx) => {
    await tx.sendBatch(Array.from({ length: 1000 }, (_, i) => ({ topic, key: `order-${i}`, value: `aborted ${i}` })));
    // Anything thrown aborts the transaction; so does a record that failed (a TransactionAbortableError).
    throw new Error('the enrichment service is down');
  });
} catch (error) {
  console.log(`aborted transaction: ${(error as Error).message}; its records are never visible to read_committed readers`);
}
