/**
 * sendOffsets' checks (src/main/transactions/offsets.ts): every field a TxnOffsetCommit carries is refused with a
 * ConfigError naming it when the protocol cannot carry it, before any request is made. A string over the protocol's
 * limit used to go out with a wrapped length, and the broker read its bytes as the fields after it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOffsetsRequest, toOffsetTopics, type OffsetToCommit } from '../../../src/main/transactions/offsets.js';
import { MAX_PARTITIONS_PER_ANSWER, MAX_TOPICS_PER_ANSWER } from '../../../src/protocol/apis/fields.js';
import { MAX_STRING_BYTES } from '../../../src/protocol/writer.js';
import { ConfigError } from '../../../src/shared/errors.js';

const tooLong = 'g'.repeat(MAX_STRING_BYTES + 1);
/** Under the limit in characters, over it in UTF-8 bytes. */
const tooLongInBytes = 'é'.repeat(MAX_STRING_BYTES / 2 + 1);

function refuses(check: () => unknown, field: string): void {
  assert.throws(check, (e: unknown) => e instanceof ConfigError && e.message.includes(field), field);
}

describe('checkOffsetsRequest', () => {
  it('refuses a groupId, memberId or groupInstanceId the protocol cannot carry, naming it', () => {
    refuses(() => checkOffsetsRequest({ groupId: tooLong, offsets: [] }), 'groupId');
    refuses(() => checkOffsetsRequest({ groupId: tooLongInBytes, offsets: [] }), 'groupId');
    refuses(() => checkOffsetsRequest({ groupId: 'g', memberId: tooLong, offsets: [] }), 'memberId');
    refuses(() => checkOffsetsRequest({ groupId: 'g', groupInstanceId: tooLong, offsets: [] }), 'groupInstanceId');
    refuses(() => checkOffsetsRequest({ groupId: 'g', generationId: 2 ** 31, offsets: [] }), 'generationId');
  });

  it('takes the longest strings the protocol carries', () => {
    const longest = 'g'.repeat(MAX_STRING_BYTES);
    checkOffsetsRequest({ groupId: longest, memberId: longest, groupInstanceId: longest, generationId: -1, offsets: [] });
  });
});

describe('toOffsetTopics', () => {
  it('refuses more topics or entries than an answer may list (it would be refused as corrupt after the commit)', () => {
    const topics = Array.from({ length: MAX_TOPICS_PER_ANSWER + 1 }, (_, i) => ({ topic: `t${i}`, partition: 0, offset: 1 }));
    assert.throws(() => toOffsetTopics(topics), (e: unknown) => e instanceof ConfigError && /at most 65536 topics, got 65537/.test(e.message));
    assert.equal(toOffsetTopics(topics.slice(1)).length, MAX_TOPICS_PER_ANSWER);
    const entries = new Array<OffsetToCommit>(MAX_PARTITIONS_PER_ANSWER + 1); // sparse: refused before any is read
    assert.throws(() => toOffsetTopics(entries), (e: unknown) => e instanceof ConfigError && /at most 1048576 entries, got 1048577/.test(e.message));
  });

  it('refuses a topic or metadata over the protocol string limit, and a partition over int32, naming the entry', () => {
    refuses(() => toOffsetTopics([{ topic: tooLong, partition: 0, offset: 1 }]), 'offsets[0].topic');
    refuses(() => toOffsetTopics([{ topic: 't', partition: 0, offset: 1 }, { topic: 't', partition: 1, offset: 1, metadata: tooLongInBytes }]), 'offsets[1].metadata');
    refuses(() => toOffsetTopics([{ topic: 't', partition: 2 ** 31, offset: 1 }]), 'offsets[0].partition');
  });

  it('takes an offset only as a bigint, a safe integer or decimal digits: nothing is coerced into another offset', () => {
    // BigInt() read '', '  ', [] and false as 0 (a rewind to the partition's start), true as 1, '0x10' as 16.
    for (const bad of ['', '   ', '0x10', '1e3', '1.5', ' 7', [], [7], true, false, null, undefined, 1.5, 2 ** 53, Number.NaN, {}]) {
      refuses(() => toOffsetTopics([{ topic: 't', partition: 0, offset: bad as unknown as string }]), 'offsets[0].offset must be a bigint, a safe integer or a string of decimal digits');
    }
    for (const outOfRange of [-1, '-1', -1n, 2n ** 63n, '9223372036854775808']) {
      refuses(() => toOffsetTopics([{ topic: 't', partition: 0, offset: outOfRange }]), 'offsets[0].offset must be between 0 and 2^63-1');
    }
    const taken = toOffsetTopics([
      { topic: 't', partition: 0, offset: 0 },
      { topic: 't', partition: 1, offset: '42' },
      { topic: 't', partition: 2, offset: 2n ** 63n - 1n },
      { topic: 't', partition: 3, offset: '9223372036854775807' },
    ]);
    assert.deepEqual(taken[0]!.partitions.map((p) => p.offset), [0n, 42n, 2n ** 63n - 1n, 2n ** 63n - 1n]);
  });
});
