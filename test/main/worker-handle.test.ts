/**
 * WorkerHandle: the main thread's owner of one worker. The pool is faked (a MessageChannel stands for the worker's
 * port, and the test plays the worker on the shared buffers), so no thread is started.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import type { MessagePort } from 'node:worker_threads';
import { WorkerHandle, type WorkerLaunch } from '../../src/main/worker-handle.js';
import { COMPLETION_RING_BYTES, RECORD_RING_BYTES, allocateProducerMemory } from '../../src/main/shared-memory.js';
import type { PreparedRecord } from '../../src/main/serialize.js';
import { RING_HEADER_BYTES, RingReader, RingWriter } from '../../src/shared/ring.js';
import { WorkerStat, WorkerStats } from '../../src/shared/worker-stats.js';
import { EntryKind, readU32 } from '../../src/shared/record-entry.js';
import { FakePool } from './fixtures/fake-pool.js';
import { until } from '../helpers/readback.js';

const memory = allocateProducerMemory(16);
const launch: WorkerLaunch = {
  workerCount: 2, producerId: 7n, producerEpoch: 1, control: memory.control.buffer, recordStates: memory.recordStates, identity: null,
  settings: {} as WorkerLaunch['settings'],
};

const record: PreparedRecord = { topic: 't', key: null, value: new Uint8Array(4), headers: [], timestamp: 1, partition: undefined, size: 4, valueBytes: 4 };

async function nextMessage(port: MessagePort): Promise<unknown> {
  const [message] = (await once(port, 'message')) as [unknown];
  return message;
}

describe('WorkerHandle', () => {
  it('before its first incarnation it holds nothing and every operation is a no-op', async () => {
    const handle = new WorkerHandle(0);
    assert.equal(handle.completions, undefined);
    assert.equal(handle.stats, undefined);
    assert.equal(handle.done, undefined);
    assert.equal(handle.unqueue(1), false);
    assert.deepEqual(handle.stopFeed(), []);
    await handle.whenFeedEmpty();
    handle.wake();
    handle.close(0, true);
    handle.sendToken('t', 1);
    handle.release();
  });

  it('starts its worker on its own fresh memory, with the launch settings and its index', () => {
    const pool = new FakePool();
    try {
      const handle = new WorkerHandle(1);
      handle.renew();
      handle.start(pool, launch, undefined);
      handle.renew();
      handle.start(pool, launch, undefined);
      const [first, second] = pool.inits;
      assert.equal(first!.workerIndex, 1);
      assert.equal(first!.producerId, 7n);
      assert.equal(first!.control, memory.control.buffer);
      assert.equal(first!.recordRing.byteLength, RING_HEADER_BYTES + RECORD_RING_BYTES);
      assert.equal(first!.completionRing.byteLength, RING_HEADER_BYTES + COMPLETION_RING_BYTES);
      assert.notEqual(first!.recordRing, second!.recordRing, 'a new incarnation gets new rings');
      assert.notEqual(first!.completionRing, second!.completionRing);
      assert.notEqual(first!.stats, second!.stats);
    } finally {
      pool.close();
    }
  });

  it('writes records into the ring its worker reads, and reads the completions and counters its worker writes', () => {
    const pool = new FakePool();
    try {
      const handle = new WorkerHandle(0);
      handle.renew();
      handle.start(pool, launch, undefined);
      const init = pool.inits[0]!;
      handle.write(42, { index: 0, name: 't' }, 3, record, false);
      handle.wake(); // commits without waiting for the microtask
      const recordReader = new RingReader(init.recordRing);
      const kinds: number[] = [];
      let recordId = -1;
      while (recordReader.read() >= 0) {
        kinds.push(recordReader.data[recordReader.offset]!);
        if (recordReader.data[recordReader.offset] === EntryKind.record) recordId = readU32(recordReader.data, recordReader.offset + 4);
      }
      assert.deepEqual(kinds, [EntryKind.topic, EntryKind.record]);
      assert.equal(recordId, 42);

      const completionWriter = new RingWriter(init.completionRing);
      assert.equal(completionWriter.tryWrite(Uint8Array.of(1, 2, 3, 4)), true);
      completionWriter.commit();
      const completions = handle.completions!;
      assert.equal(completions.read(), 4);
      assert.deepEqual([...completions.data.subarray(completions.offset, completions.offset + 4)], [1, 2, 3, 4]);

      new WorkerStats(init.stats).add(WorkerStat.REQUESTS, 5);
      assert.equal(handle.stats!.get(WorkerStat.REQUESTS), 5);
    } finally {
      pool.close();
    }
  });

  it('after renew, the counters go on from the dead worker\'s totals, all but its requests in flight', () => {
    const pool = new FakePool();
    try {
      const handle = new WorkerHandle(0);
      handle.renew();
      handle.start(pool, launch, undefined);
      const first = new WorkerStats(pool.inits[0]!.stats);
      first.add(WorkerStat.REQUESTS, 7);
      first.add(WorkerStat.REQUESTS_IN_FLIGHT, 2);
      handle.stopFeed();
      handle.renew();
      handle.start(pool, launch, undefined);
      new WorkerStats(pool.inits[1]!.stats).add(WorkerStat.REQUESTS, 1);
      assert.equal(handle.stats!.get(WorkerStat.REQUESTS), 8, 'a crash does not make metrics().requests fall');
      assert.equal(handle.stats!.get(WorkerStat.REQUESTS_IN_FLIGHT), 0);
    } finally {
      pool.close();
    }
  });

  it('after renew, records go to the new ring; the old feed was stopped and handed back its queue', () => {
    const pool = new FakePool();
    try {
      const handle = new WorkerHandle(0);
      handle.renew();
      handle.start(pool, launch, undefined);
      assert.deepEqual(handle.stopFeed(), []);
      handle.renew();
      handle.start(pool, launch, undefined);
      handle.write(9, { index: 0, name: 't' }, 0, record, false);
      handle.wake();
      assert.equal(new RingReader(pool.inits[0]!.recordRing).read(), -1, 'nothing in the dead worker\'s ring');
      assert.ok(new RingReader(pool.inits[1]!.recordRing).read() > 0);
    } finally {
      pool.close();
    }
  });

  it('tells the main thread when its worker reports stale metadata, and only then', async () => {
    const pool = new FakePool();
    try {
      const handle = new WorkerHandle(0);
      handle.renew();
      let stale = 0;
      handle.start(pool, launch, undefined, () => stale++);
      const worker = pool.workerPorts[0]!;
      worker.postMessage({ type: 'token-request' }); // another message: not a staleness report
      worker.postMessage({ type: 'metadata-stale' });
      await until(() => stale > 0, 'the report arrives');
      worker.postMessage({ type: 'metadata-stale' });
      await until(() => stale > 1, 'each report arrives');
      assert.equal(stale, 2);
    } finally {
      pool.close();
    }
  });

  it('posts close deadlines, the cut-off and pushed tokens to its worker, and answers token requests from the token source', async () => {
    const pool = new FakePool();
    try {
      const handle = new WorkerHandle(0);
      handle.renew();
      let calls = 0;
      const tokens = {
        get: () => (++calls === 1 ? Promise.resolve({ value: 'secret', expiresAt: 99 }) : Promise.reject(new Error('provider down'))),
      };
      handle.start(pool, launch, tokens);
      const worker = pool.workerPorts[0]!;
      handle.close(1234);
      assert.deepEqual(await nextMessage(worker), { type: 'close', deadline: 1234, sendUntil: 1234 });
      handle.cutOff(1000);
      assert.deepEqual(await nextMessage(worker), { type: 'cut-off', sendUntil: 1000 });
      handle.sendToken('pushed', 5);
      assert.deepEqual(await nextMessage(worker), { type: 'token', value: 'pushed', expiresAt: 5 });
      worker.postMessage({ type: 'token-request' });
      assert.deepEqual(await nextMessage(worker), { type: 'token', value: 'secret', expiresAt: 99 });
      worker.postMessage({ type: 'token-request' });
      assert.deepEqual(await nextMessage(worker), { type: 'token-error', message: 'provider down' });
      worker.postMessage({ type: 'closed' }); // not a token request: ignored
      handle.close(0);
      assert.deepEqual(await nextMessage(worker), { type: 'close', deadline: 0, sendUntil: 0 });
      assert.equal(calls, 2);
    } finally {
      pool.close();
    }
  });
});
