/** The facade's producer given something that is not a record: a rejected KafkaJS error, never a throw. No broker. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, KafkaJSNonRetriableError, type ProducerRecord } from '../../src/kafkajs/index.js';

test('send(undefined) and send(null) reject with KafkaJSNonRetriableError instead of throwing out of the call', async () => {
  const producer = new Kafka({ brokers: ['127.0.0.1:1'] }).producer();
  for (const bad of [undefined, null]) {
    let sent: Promise<unknown> | undefined;
    assert.doesNotThrow(() => void (sent = producer.send(bad as unknown as ProducerRecord)));
    await assert.rejects(sent!, (error: unknown) => error instanceof KafkaJSNonRetriableError && /needs a record/.test(error.message));
  }
});
