import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionOffsets } from '../../src/kafkajs/partition-offsets.js';

/** The producer lends one metadata object to every delivered record and refills it: the settler must copy. */
const lent = { topic: '', partition: 0, offset: 0, timestamp: 0, logAppendTime: -1, logStartOffset: -1 };
function deliver(
  settler: PartitionOffsets, position: number, topic: string, partition: number, offset: number, logAppendTime = -1, logStartOffset = -1,
): void {
  lent.topic = topic;
  lent.partition = partition;
  lent.offset = offset;
  lent.logAppendTime = logAppendTime;
  lent.logStartOffset = logStartOffset;
  settler.resolve(position, lent);
}

test('each partition written, in the order of the call\'s first record there, with the lowest offset of its records', async () => {
  const settler = new PartitionOffsets(6);
  // Batches are answered in any order; within one, records come one after another.
  deliver(settler, 4, 't', 0, 21);
  deliver(settler, 5, 't', 0, 22);
  deliver(settler, 1, 't', 2, 7);
  deliver(settler, 3, 't', 2, 8);
  deliver(settler, 0, 'u', 2, 40);
  deliver(settler, 2, 't', 0, 20);
  assert.deepEqual(await settler.promise, { records: 6, failures: [] });
  assert.deepEqual(settler.partitions(), [
    { topic: 'u', partition: 2, offset: 40, logAppendTime: -1, logStartOffset: -1, first: 0 },
    { topic: 't', partition: 2, offset: 7, logAppendTime: -1, logStartOffset: -1, first: 1 },
    { topic: 't', partition: 0, offset: 20, logAppendTime: -1, logStartOffset: -1, first: 2 },
  ]);
});

test('failures are kept in the order of the call, as a results: \'failures\' sendBatch keeps them', async () => {
  const settler = new PartitionOffsets(3);
  const late = new Error('second');
  const early = new Error('first');
  settler.reject(2, late);
  deliver(settler, 1, 't', 0, 5);
  settler.reject(0, early);
  assert.deepEqual(await settler.promise, { records: 3, failures: [{ index: 0, reason: early }, { index: 2, reason: late }] });
  assert.deepEqual(settler.partitions(), [{ topic: 't', partition: 0, offset: 5, logAppendTime: -1, logStartOffset: -1, first: 1 }]);
});

test('a call without records resolves at once, with no partition', async () => {
  const settler = new PartitionOffsets(0);
  assert.deepEqual(await settler.promise, { records: 0, failures: [] });
  assert.deepEqual(settler.partitions(), []);
});

test('a batch answered without an offset (-1) does not hide the offsets of the partition\'s other batches', async () => {
  const settler = new PartitionOffsets(5);
  // An old broker answers a duplicate batch with DUPLICATE_SEQUENCE_NUMBER and offset -1: delivered, but no offset.
  deliver(settler, 0, 't', 0, -1);
  deliver(settler, 1, 't', 0, -1);
  deliver(settler, 2, 't', 0, 57);
  deliver(settler, 3, 't', 0, 58);
  deliver(settler, 4, 't', 1, -1);
  await settler.promise;
  assert.deepEqual(settler.partitions(), [
    { topic: 't', partition: 0, offset: 57, logAppendTime: -1, logStartOffset: -1, first: 0 },
    { topic: 't', partition: 1, offset: -1, logAppendTime: -1, logStartOffset: -1, first: 4 },
  ], 'the lowest real offset, and -1 only where no batch had one');
});

test('each partition has the log append time of the batch that holds its lowest offset, as KafkaJS answers with its one batch\'s', async () => {
  const settler = new PartitionOffsets(5);
  // A LogAppendTime topic: each batch has the broker's time; a later batch of the partition may be answered first.
  deliver(settler, 3, 't', 0, 30, 1_700_000_000_200);
  deliver(settler, 4, 't', 0, 31, 1_700_000_000_200);
  deliver(settler, 0, 't', 0, 10, 1_700_000_000_100);
  deliver(settler, 1, 't', 0, 11, 1_700_000_000_100);
  deliver(settler, 2, 'created', 0, 5); // a CreateTime topic: -1
  await settler.promise;
  assert.deepEqual(settler.partitions(), [
    { topic: 't', partition: 0, offset: 10, logAppendTime: 1_700_000_000_100, logStartOffset: -1, first: 0 },
    { topic: 'created', partition: 0, offset: 5, logAppendTime: -1, logStartOffset: -1, first: 2 },
  ]);
});

test('each partition has the log start offset its lowest offset\'s batch was answered with, -1 where none was sent', async () => {
  const settler = new PartitionOffsets(5);
  // The start moved on between the answers (retention): the entry keeps the one answer its offset came from.
  deliver(settler, 2, 't', 0, 30, -1, 25);
  deliver(settler, 0, 't', 0, 10, -1, 4);
  deliver(settler, 1, 't', 0, 11, -1, 4);
  deliver(settler, 3, 't', 1, 8, 1_700_000_000_300, 0);
  deliver(settler, 4, 'old', 0, 5); // Produce before v5: no log start offset
  await settler.promise;
  assert.deepEqual(settler.partitions(), [
    { topic: 't', partition: 0, offset: 10, logAppendTime: -1, logStartOffset: 4, first: 0 },
    { topic: 't', partition: 1, offset: 8, logAppendTime: 1_700_000_000_300, logStartOffset: 0, first: 3 },
    { topic: 'old', partition: 0, offset: 5, logAppendTime: -1, logStartOffset: -1, first: 4 },
  ]);
});
