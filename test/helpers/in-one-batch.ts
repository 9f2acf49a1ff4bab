import type { Producer } from '../../src/main/producer.js';
import type { ProducerRecord, RecordMetadata } from '../../src/main/types.js';
import { until } from './readback.js';

/**
 * Sends `records` so they travel in one batch per partition, and in one request, whatever the machine's load: with
 * a long linger (the caller's producer must have one) nothing is sealed until every record is buffered, then a
 * flush seals them together.
 */
export async function inOneBatch(producer: Producer, records: ProducerRecord[]): Promise<PromiseSettledResult<RecordMetadata>[]> {
  const sent = producer.sendBatch(records);
  await until(() => producer.metrics().bufferedRecords === records.length, 'every record buffered');
  void producer.flush();
  return sent;
}
