/** CompletionWriter: completions reach the main thread in order, and none stays behind when the ring fills. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompletionKind, completionSize, readCompletion } from '../../src/shared/completion-entry.js';
import type { ControlBlock } from '../../src/shared/control-block.js';
import { createRing, RingReader, RingWriter } from '../../src/shared/ring.js';
import { CompletionWriter } from '../../src/workers/completion-writer.js';

const CAPACITY = 256;
/** How many one-record completions a ring of CAPACITY holds: each is framed by a 4-byte length. */
const PER_RING = Math.floor(CAPACITY / (4 + completionSize(1, null)));

const head = (partition: number) =>
  ({ kind: CompletionKind.delivered, topicIndex: 0, partition, errorCode: 0, baseOffset: 0, timestamp: 0, logStartOffset: 0 }) as const;

describe('CompletionWriter', () => {
  it('writes what is published after its drain found the backlog empty but before that drain settled', async () => {
    const buffer = createRing({ capacity: CAPACITY });
    const reader = new RingReader(buffer);
    let afterSignal: (() => void) | undefined;
    const control = {
      signalCompletion: () => {
        const hook = afterSignal;
        afterSignal = undefined;
        hook?.();
        return false;
      },
    } as unknown as ControlBlock;
    const writer = new CompletionWriter(new RingWriter(buffer), control);
    let published = 0;
    const publishRingful = (): void => {
      // One more than the ring holds: at least the last one waits in the backlog.
      for (let i = 0; i <= PER_RING; i++, published++) writer.publish(head(published), [published]);
    };
    const received: number[] = [];
    const readAll = (): void => {
      while (reader.read() >= 0) received.push(readCompletion(reader.data, reader.offset).partition);
      reader.release();
    };

    publishRingful(); // a drain now waits for ring space
    // Once space is freed the drain writes its last backlog entry and signals. A microtask queued from that signal
    // runs after the drain's last look at its backlog and before the drain's promise settles: exactly the gap.
    afterSignal = () => queueMicrotask(publishRingful);

    let reading = true;
    const consuming = (async () => {
      while (reading) {
        readAll();
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await writer.drained();
    reading = false;
    await consuming;
    readAll();

    assert.equal(afterSignal, undefined, 'the drain signalled after its last entry');
    assert.equal(published, 2 * (PER_RING + 1));
    assert.deepEqual(received, Array.from({ length: published }, (_, i) => i));
  });

  it('keeps completions in order when the ring fills and empties several times', async () => {
    const buffer = createRing({ capacity: CAPACITY });
    const reader = new RingReader(buffer);
    const control = { signalCompletion: () => false } as unknown as ControlBlock;
    const writer = new CompletionWriter(new RingWriter(buffer), control);
    const total = 5 * PER_RING;
    for (let i = 0; i < total; i++) writer.publish(head(i), [i]);
    const received: number[] = [];
    let reading = true;
    const consuming = (async () => {
      while (reading) {
        while (reader.read() >= 0) received.push(readCompletion(reader.data, reader.offset).partition);
        reader.release();
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await writer.drained();
    reading = false;
    await consuming;
    while (reader.read() >= 0) received.push(readCompletion(reader.data, reader.offset).partition);
    assert.deepEqual(received, Array.from({ length: total }, (_, i) => i));
  });

  it('publishes a failure whose message is half a mebibyte, for a batch of 65,536 records, in a ring of 1 MiB', () => {
    // A broker's error_message is bounded only by the frame: the entry threw RecordTooLargeError where the worker
    // published the outcome, and the batch was never reported.
    const buffer = createRing({ capacity: 1024 * 1024 });
    const reader = new RingReader(buffer);
    const writer = new CompletionWriter(new RingWriter(buffer), { signalCompletion: () => false } as unknown as ControlBlock);
    const ids = Array.from({ length: 65_536 }, (_, i) => i);
    writer.publish({ ...head(3), kind: CompletionKind.failed, errorCode: 87 }, ids, `INVALID_RECORD: ${'x'.repeat(600_000)}`);
    writer.signal();
    assert.ok(reader.read() >= 0, 'the entry is in the ring');
    const completion = readCompletion(reader.data, reader.offset);
    assert.equal(completion.partition, 3);
    assert.equal(completion.recordIds.length, 65_536);
    assert.ok(completion.message.startsWith('INVALID_RECORD: xxx'));
    assert.ok(completion.message.endsWith(' more characters)'));
  });
});
