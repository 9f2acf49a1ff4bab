/**
 * BatchOutcomes (src/workers/batch-outcomes.ts): recovering the records of a batch this worker encoded, which a
 * split after MESSAGE_TOO_LARGE re-encodes in two halves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordsOfOwnBatch } from '../../src/workers/batch-outcomes.js';
import { encodeRecordBatch, type BatchRecord } from '../../src/protocol/record-batch.js';
import { decodeRecordBatches } from '../../src/protocol/record-batch-decoder.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../src/protocol/compression.js';
import { ProtocolError } from '../../src/shared/errors.js';
import { Codec } from '../../src/shared/codecs.js';

const MIB = 1024 * 1024;

describe('recordsOfOwnBatch', () => {
  it('decodes a batch of batchMaxBytes that decompresses past the default bound for answers from outside', async () => {
    // 65 records of 1 MiB of zeros: a few KB of zstd, 65 MiB once decompressed.
    const value = Buffer.alloc(MIB);
    const records: BatchRecord[] = Array.from({ length: 65 }, () => ({ key: null, value, headers: [], timestamp: 1_700_000_000_000 }));
    const bytes = await encodeRecordBatch(records, { producerId: -1n, producerEpoch: -1, baseSequence: -1, codec: Codec.zstd });
    assert.ok(bytes.length < MIB, 'the compressed batch itself is small');
    await assert.rejects(decodeRecordBatches(bytes), ProtocolError, 'over the default bound: the split failed every record');

    const decoded = await recordsOfOwnBatch(bytes, 100 * MIB);
    assert.equal(decoded.length, 65);
    assert.equal(decoded[64]!.value!.length, MIB);
  });

  it('keeps the default bound as its least, whatever a small batchMaxBytes says', async () => {
    const records: BatchRecord[] = [{ key: null, value: Buffer.alloc(3 * MIB), headers: [], timestamp: 0 }];
    const bytes = await encodeRecordBatch(records, { producerId: -1n, producerEpoch: -1, baseSequence: -1, codec: Codec.zstd });
    assert.ok(3 * MIB < DEFAULT_MAX_DECOMPRESSED_BYTES);
    assert.equal((await recordsOfOwnBatch(bytes, 16_384)).length, 1);
  });
});
