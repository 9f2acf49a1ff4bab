/**
 * The sticky partitioner's choices at their edges, and choosePartition's range checks, found by mutation testing
 * (`npm run test:mutation`): each case failed to notice a planted change to src/main/partitioner.ts. `random` is
 * fixed so each expected partition follows from the draw: floor(random × choices), skipping the previous one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/shared/errors.js';
import { choosePartition, StickyPartitioner } from '../../src/main/partitioner.js';
import { InvalidRecordError, prepareRecord, type PreparedRecord } from '../../src/main/serialize.js';

const sticky = (random: number, batchMaxBytes = 1000): StickyPartitioner => new StickyPartitioner({ batchMaxBytes, random: () => random });

describe('StickyPartitioner edges', () => {
  it('may pick any partition first: none is "the previous one" yet', () => {
    assert.equal(sticky(0.5).partition('t', 3, 10), 1);
    assert.equal(sticky(0).partition('t', 3, 10), 0);
  });

  it('treats no list and an empty list of available partitions alike: every partition counts, and it stays', () => {
    // A fresh empty list each time, as a caller passes a new array whenever leaders change.
    for (const available of [() => undefined, () => []]) {
      const s = sticky(0.5);
      assert.equal(s.partition('t', 3, 10, available()), 1);
      assert.equal(s.partition('t', 3, 10, available()), 1, `stays with ${JSON.stringify(available())}`);
    }
  });

  it('stays when the available list goes away after one was given', () => {
    const s = sticky(0.5);
    assert.equal(s.partition('t', 3, 10, [0, 1, 2]), 1);
    assert.equal(s.partition('t', 3, 10), 1);
  });

  it('moves off a partition the topic no longer has, drawing among all that are left', () => {
    const s = sticky(0.99);
    assert.equal(s.partition('t', 4, 10), 3);
    // Shrunk to 3: partition 3 is gone, so nothing is skipped and the draw spans all three.
    assert.equal(s.partition('t', 3, 10), 2);
  });

  it('draws among the available partitions, never one outside the topic, and only the previous one when it is alone', () => {
    assert.equal(sticky(0.99).partition('t', 3, 10, [0]), 0, 'partition 0 is a partition');
    assert.equal(sticky(0.99).partition('t', 3, 10, [0, 3]), 0, 'partition 3 does not exist');
    const moving = sticky(0, 10);
    assert.equal(moving.partition('t', 3, 10, [2]), 2);
    assert.equal(moving.partition('t', 3, 10, [-1, 1, 2]), 1, 'partition -1 does not exist');
    const s = sticky(0.99);
    const chosen = s.partition('t', 3, 10, [7]);
    assert.ok(chosen >= 0 && chosen < 3, `nothing listed exists: any real partition, got ${chosen}`);
  });

  it('moves to another available partition when a batch worth went to this one, not back to it', () => {
    const s = sticky(0.1, 100);
    assert.equal(s.partition('t', 4, 100, [1, 2, 3]), 1, 'floor(0.1 × 3) = index 0');
    // Due: the draw is among the two others, index floor(0.1 × 2) = 0 skipping over partition 1.
    assert.equal(s.partition('t', 4, 100, [1, 2, 3]), 2);
  });
});

describe('choosePartition range checks', () => {
  const record = (partition: number | undefined): PreparedRecord => ({ ...prepareRecord({ topic: 't', value: 'v' }, null, 0), partition });

  it('accepts an explicit partition 0 and rejects -1, 1.5 and the partition count', () => {
    assert.equal(choosePartition(record(0), 3, 'default', sticky(0.5)), 0);
    for (const bad of [-1, 1.5, 3]) {
      assert.throws(() => choosePartition(record(bad), 3, 'default', sticky(0.5)), InvalidRecordError, `partition ${bad}`);
    }
  });

  it('accepts 0 from a custom partitioner and rejects -1 and 1.5, naming what it returned', () => {
    assert.equal(choosePartition(record(undefined), 3, () => 0, sticky(0.5)), 0);
    for (const bad of [-1, 1.5]) {
      assert.throws(
        () => choosePartition(record(undefined), 3, () => bad, sticky(0.5)),
        (e: unknown) => e instanceof ConfigError && e.message === `options.partitioner must return an integer from 0 to 2 for topic "t", got ${bad}`,
      );
    }
  });

  it('what a custom partitioner returned is described by its type: a string, a bigint, a Promise (partitioners are synchronous)', () => {
    // '1' and 1n both read "got 1", and an async partitioner "got [object Promise]".
    const cases: [unknown, string][] = [['1', 'got "1"'], [1n, 'got 1n'], [Promise.resolve(1), 'got a Promise (a partitioner must be synchronous)']];
    for (const [returned, said] of cases) {
      assert.throws(
        () => choosePartition(record(undefined), 3, () => returned as number, sticky(0.5)),
        (e: unknown) => e instanceof ConfigError && e.message === `options.partitioner must return an integer from 0 to 2 for topic "t", ${said}`,
      );
    }
  });

  it('a custom partitioner that throws fails the record with a ConfigError naming it, what it threw the cause', () => {
    // A thrown undefined read as "no error" downstream: the send never settled, a writable dropped the record.
    for (const thrown of [undefined, null, 'bad']) {
      assert.throws(
        () => choosePartition(record(undefined), 3, () => { throw thrown; }, sticky(0.5)),
        (e: unknown) => e instanceof ConfigError && e.message.startsWith('options.partitioner threw') && e.cause === thrown,
      );
    }
    // Its own Error too: passed on as it was, the caller got no code, retriable or delivery.
    const own = new RangeError('mine');
    assert.throws(
      () => choosePartition(record(undefined), 3, () => { throw own; }, sticky(0.5)),
      (e: unknown) => e instanceof ConfigError && e.message === 'options.partitioner threw RangeError: mine for topic "t"' && e.cause === own,
    );
  });
});
