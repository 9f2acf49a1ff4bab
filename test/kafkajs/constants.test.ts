/**
 * KafkaJS's exported constants as code calls them itself: `Partitioners.DefaultPartitioner()` places a message where
 * KafkaJS's default partitioner would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners, type PartitionerArgs } from '../../src/kafkajs/index.js';

const led = (count: number) => Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1 }));

function args(message: PartitionerArgs['message'], partitionMetadata = led(10), topic = 't'): PartitionerArgs {
  return { topic, partitionMetadata, message };
}

test('DefaultPartitioner returns the partition a message names, before looking at its key', () => {
  for (const factory of [Partitioners.DefaultPartitioner, Partitioners.JavaCompatiblePartitioner]) {
    const partition = factory();
    assert.equal(partition(args({ key: 'foobar', value: 'v', partition: 3 })), 3);
    assert.equal(partition(args({ value: 'v', partition: 0 })), 0);
    assert.equal(partition(args({ key: null, value: 'v', partition: 9 })), 9);
  }
});

test('DefaultPartitioner places a keyed message by murmur2 of its key, as the Java client does', () => {
  const partition = Partitioners.DefaultPartitioner();
  // murmur2("foobar") = -790332482 → & 0x7fffffff = 1357151166 → % 10 = 6, the Java client's partition.
  assert.equal(partition(args({ key: 'foobar', value: 'v' })), 6);
  assert.equal(partition(args({ key: Buffer.from('foobar'), value: 'v' })), 6);
  // An empty key is a key: murmur2 of no bytes is 275646681.
  assert.equal(partition(args({ key: '', value: 'v' }, led(7))), 275646681 % 7);
});

test('DefaultPartitioner sends keyless messages round-robin per topic over the partitions that have a leader', () => {
  const partition = Partitioners.DefaultPartitioner();
  const metadata = [{ partitionId: 0, leader: 1 }, { partitionId: 1, leader: -1 }, { partitionId: 2, leader: 2 }];
  const picks = Array.from({ length: 6 }, () => partition(args({ value: 'v' }, metadata)));
  assert.ok(picks.every((p) => p === 0 || p === 2), `a partition without a leader was picked: ${picks.join()}`);
  for (let i = 1; i < picks.length; i++) assert.notEqual(picks[i], picks[i - 1], `not round-robin: ${picks.join()}`);

  // Each topic keeps its own turn: messages to another topic in between do not move this one's.
  const other = Partitioners.DefaultPartitioner();
  const first = other(args({ value: 'v' }, led(4), 'a'));
  other(args({ value: 'v' }, led(4), 'b'));
  assert.equal(other(args({ value: 'v' }, led(4), 'a')), (first + 1) % 4);

  // With no partition led, one that exists is still named.
  const none = [0, 1, 2].map((partitionId) => ({ partitionId, leader: -1 }));
  for (let i = 0; i < 6; i++) assert.ok([0, 1, 2].includes(partition(args({ value: 'v' }, none, 'dark'))));
});
