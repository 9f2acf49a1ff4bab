import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompletionKind, completionSize, encodeMessage, MAX_MESSAGE_UNITS, readCompletion, writeCompletion } from '../../src/shared/completion-entry.js';

describe('completion entry', () => {
  it('reads back every field, the record ids and the message it was written with', () => {
    const message = encodeMessage('NOT_LEADER_OR_FOLLOWER: früh');
    const ids = [5, 0xffffffff, 42];
    const at = 12;
    const bytes = new Uint8Array(at + completionSize(ids.length, message));
    const head = { kind: CompletionKind.failed, topicIndex: 65_000, partition: 17, errorCode: -1004, baseOffset: 2 ** 40 + 3, timestamp: -1, logStartOffset: -1 };
    writeCompletion(bytes, at, head, ids, ids.length, message);
    assert.deepEqual(readCompletion(bytes, at), { ...head, mayBeWritten: false, message: 'NOT_LEADER_OR_FOLLOWER: früh', recordIds: Uint32Array.from(ids) });
  });

  it('carries whether a failed batch may have been written, in its flags', () => {
    for (const mayBeWritten of [true, false]) {
      const bytes = new Uint8Array(completionSize(1, null));
      const head = { kind: CompletionKind.failed, mayBeWritten, topicIndex: 1, partition: 0, errorCode: 29, baseOffset: -1, timestamp: -1, logStartOffset: -1 };
      writeCompletion(bytes, 0, head, [7], 1, null);
      assert.equal(readCompletion(bytes, 0).mayBeWritten, mayBeWritten);
      assert.equal(bytes[1], mayBeWritten ? 1 : 0, 'bit 0 of the byte after the kind');
    }
  });

  it('writes only the first recordCount ids, and no message as an empty one', () => {
    const bytes = new Uint8Array(completionSize(1, null));
    const head = { kind: CompletionKind.delivered, topicIndex: 0, partition: 0, errorCode: 0, baseOffset: 0, timestamp: 0, logStartOffset: 0 };
    writeCompletion(bytes, 0, head, [9, 10], 1, null);
    const read = readCompletion(bytes, 0);
    assert.deepEqual([...read.recordIds], [9]);
    assert.equal(read.message, '');
  });

  it('a delivered batch carries its log append time and the partition\'s log start offset, apart from its offset', () => {
    const ids = [3, 4];
    const bytes = new Uint8Array(completionSize(ids.length, null));
    const head = {
      kind: CompletionKind.delivered, topicIndex: 1, partition: 2, errorCode: 0,
      baseOffset: 2 ** 41 + 7, timestamp: 1_700_000_000_123, logStartOffset: 2 ** 40 + 5,
    };
    writeCompletion(bytes, 0, head, ids, ids.length, null);
    const read = readCompletion(bytes, 0);
    assert.deepEqual([read.baseOffset, read.timestamp, read.logStartOffset], [2 ** 41 + 7, 1_700_000_000_123, 2 ** 40 + 5]);
    assert.deepEqual([...read.recordIds], ids);
  });

  it('cuts a message longer than MAX_MESSAGE_UNITS, says how much it cut, and never splits a surrogate pair', () => {
    const decode = (bytes: Uint8Array | null): string => new TextDecoder().decode(bytes!);
    const long = 'x'.repeat(600_000);
    assert.equal(decode(encodeMessage(long)), `${'x'.repeat(MAX_MESSAGE_UNITS)}… (${600_000 - MAX_MESSAGE_UNITS} more characters)`);
    // A surrogate pair across the cut: the whole pair goes.
    const pair = `${'x'.repeat(MAX_MESSAGE_UNITS - 1)}😀${'y'.repeat(10)}`;
    assert.equal(decode(encodeMessage(pair)), `${'x'.repeat(MAX_MESSAGE_UNITS - 1)}… (12 more characters)`);
    const exact = 'z'.repeat(MAX_MESSAGE_UNITS);
    assert.equal(decode(encodeMessage(exact)), exact, 'a message of exactly the limit is kept whole');
  });
});
