/**
 * Delivery settlement (src/main/deliveries.ts): unit tests below, with the test playing the worker on the shared
 * buffers; first, one end-to-end case against the fake broker.
 *
 * When deliveryTimeoutMs starts: at acceptance (the record has its topic's metadata and buffer space), as Java's
 * delivery.timeout.ms starts when send() returns after max.block.ms. A send waiting for metadata is bounded by
 * bufferTimeoutMs; once accepted it has the whole deliveryTimeoutMs. The fake broker holds the main thread's
 * Metadata answer until the send's call is older than deliveryTimeoutMs; the record must still be delivered.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it, test } from 'node:test';
import { ByteBudget } from '../../src/main/byte-budget.js';
import { Deliveries } from '../../src/main/deliveries.js';
import { Producer } from '../../src/main/producer.js';
import { SendTracker } from '../../src/main/send-tracker.js';
import type { PreparedRecord } from '../../src/main/serialize.js';
import { BatchSettler, SendSettler, type Settler } from '../../src/main/settlers.js';
import { allocateProducerMemory } from '../../src/main/shared-memory.js';
import type { TopicInfo } from '../../src/main/topic-registry.js';
import { WorkerHandle, type WorkerLaunch } from '../../src/main/worker-handle.js';
import { CompletionKind, completionSize, encodeMessage, writeCompletion, type Completion, type CompletionKindValue } from '../../src/shared/completion-entry.js';
import { BrokerError } from '../../src/shared/errors.js';
import { AbortError, DeliveryTimeoutError, ProducerClosedError, WorkerCrashedError } from '../../src/shared/producer-errors.js';
import { EntryKind, RECORD_HEADER_BYTES, RecordEntryOffset, readI32, readU32 } from '../../src/shared/record-entry.js';
import { RecordState, seal } from '../../src/shared/record-states.js';
import { RingReader, RingWriter } from '../../src/shared/ring.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';
import { FakePool, withFakePool } from './fixtures/fake-pool.js';

test('deliveryTimeoutMs counts from acceptance: a record that waited longer than it for metadata is still delivered', { timeout: 30_000 }, async () => {
  const broker = await FakeBroker.start(1);
  const deliveryTimeoutMs = 1000;
  const shortProducer = new Producer({
    brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 1000, deliveryTimeoutMs, bufferTimeoutMs: 20_000,
  });
  const timers = new Set<NodeJS.Timeout>();
  try {
    await shortProducer.connect();
    const calledAt = Date.now();
    broker.tamper = (apiKey, frame, _nth, write) => {
      if (apiKey !== FAKE_API.metadata || broker.produces.length > 0) return frame;
      // Held until the call is older than deliveryTimeoutMs (plus a margin), then answered.
      const timer = setTimeout(() => write(frame), Math.max(0, calledAt + deliveryTimeoutMs + 300 - Date.now()));
      timers.add(timer);
      return null;
    };
    const sent = shortProducer.send({ topic: 'late-metadata', partition: 0, value: 'v' });
    const produce = await broker.nextProduce(0);
    assert.ok(Date.now() - calledAt > deliveryTimeoutMs, 'the record was accepted after deliveryTimeoutMs had passed since its call');
    // Answered after a few of the producer's delivery-timeout sweeps (every 100 ms): a deadline counted from the
    // call would have failed the record by then; counted from acceptance it has most of its second left.
    await new Promise((resolve) => setTimeout(resolve, 300));
    broker.answer(produce, 5n);
    assert.equal((await sent).offset, 5);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await shortProducer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

// ── Unit tests: the settlement against handles whose worker the test plays (no thread, no broker) ─────────────

interface Harness {
  readonly deliveries: Deliveries;
  readonly budget: ByteBudget;
  readonly sends: SendTracker;
  readonly pool: FakePool;
  readonly states: Uint8Array;
  readonly late: object[];
  /** Record ids in the worker's record ring, in order (what the worker would read). */
  readRing(worker?: number): number[];
  /** The same, each with its value's first byte (-1 for an empty or null value). */
  readFirstBytes(worker?: number): [id: number, byte: number][];
  /** The worker reports one batch. */
  complete(kind: CompletionKindValue, ids: number[], extra?: Partial<Omit<Completion, 'recordIds' | 'kind'>>, worker?: number): void;
}

const TOPICS: TopicInfo[] = [{ index: 0, name: 'alpha', partitionCount: 4, available: [0, 1, 2, 3] }];

function harness(options: { workers?: number; maxBytes?: number; deliveryTimeoutMs?: number } = {}): Harness {
  const capacity = 64;
  const memory = allocateProducerMemory(capacity);
  const budget = new ByteBudget(memory.control, { maxBytes: options.maxBytes ?? 1 << 20, maxRecords: capacity });
  const sends = new SendTracker();
  const pool = new FakePool();
  const handles = Array.from({ length: options.workers ?? 1 }, (_, i) => new WorkerHandle(i));
  const late: object[] = [];
  const deliveries = new Deliveries({
    budget, sends, handles, recordStates: memory.recordStates, deliveryTimeoutMs: options.deliveryTimeoutMs ?? 60_000,
    registry: { byIndex: (index) => TOPICS[index] },
    emit: (_event, payload) => late.push(payload),
  });
  const launch = { workerCount: handles.length, producerId: -1n, producerEpoch: -1, control: memory.control.buffer, recordStates: memory.recordStates, identity: null, settings: {} as WorkerLaunch['settings'] };
  for (const handle of handles) {
    handle.renew();
    handle.start(pool, launch, undefined);
  }
  const readers = handles.map((_, i) => new RingReader(pool.inits[i]!.recordRing));
  const writers = handles.map((_, i) => new RingWriter(pool.inits[i]!.completionRing));
  return {
    deliveries, budget, sends, pool, late, states: new Uint8Array(memory.recordStates),
    readRing(worker = 0) {
      return this.readFirstBytes(worker).map(([id]) => id);
    },
    readFirstBytes(worker = 0) {
      handles[worker]!.wake(); // commit what is pending
      const reader = readers[worker]!;
      const read: [number, number][] = [];
      while (reader.read() >= 0) {
        const at = reader.offset;
        const data = reader.data;
        if (data[at] !== EntryKind.record) continue;
        const valueAt = at + RECORD_HEADER_BYTES + Math.max(0, readI32(data, at + RecordEntryOffset.keyLength)) + data[at + RecordEntryOffset.valuePad]!;
        read.push([readU32(data, at + RecordEntryOffset.recordId), readI32(data, at + RecordEntryOffset.valueLength) > 0 ? data[valueAt]! : -1]);
      }
      reader.release();
      return read;
    },
    complete(kind, ids, extra = {}, worker = 0) {
      const message = encodeMessage(extra.message ?? '');
      const writer = writers[worker]!;
      const at = writer.reserve(completionSize(ids.length, message));
      const head = { kind, topicIndex: 0, partition: 0, errorCode: 0, baseOffset: 100, timestamp: -1, logStartOffset: -1, ...extra };
      writeCompletion(writer.data, at, head, ids, ids.length, message);
      writer.commit();
    },
  };
}

/** A test body run against a fresh harness, whose ports are closed however it ends. */
function withHarness(options: Parameters<typeof harness>[0], body: (fixture: ReturnType<typeof harness>) => Promise<void>): () => Promise<void> {
  return withFakePool(() => harness(options), body);
}

function prepared(valueBytes: number, timestamp = 1000): PreparedRecord {
  return { topic: 'alpha', key: null, value: new Uint8Array(valueBytes), headers: [], timestamp, partition: undefined, size: valueBytes, valueBytes };
}

/** Takes the bytes from the budget and accepts the record, as the producer's fast path does. */
function send(h: Harness, settler: Settler, position: number, bytes = 10, signal?: AbortSignal, now = Date.now()): void {
  assert.ok(h.budget.tryAcquire(bytes));
  h.deliveries.accept(prepared(bytes), TOPICS[0]!, 0, h.sends.begin(), settler, position, signal, now);
}

/**
 * A settler whose rejection, at once, has the second of the records `listed` reported delivered (its id freed) and
 * sends `next` (accepted at `now`), which takes that id: what a caller's synchronous settlement can set off.
 */
function freesSecondThenSends(h: Harness, next: Settler, now: number): { settler: Settler; listed: (ids: number[]) => number[] } {
  let ids: number[] = [];
  const settler: Settler = {
    resolve() {},
    reject() {
      h.complete(CompletionKind.delivered, [ids[1]!]);
      h.deliveries.drain();
      send(h, next, 0, 10, undefined, now);
    },
  };
  return { settler, listed: (read) => (ids = read) };
}

describe('Deliveries', () => {
  it('settles a delivered batch: offsets and timestamps per record, one budget release, ids freed, counters kept', withHarness({}, async (h) => {
    const batch = new BatchSettler(3);
    for (let i = 0; i < 3; i++) send(h, batch, i, 10);
    const ids = h.readRing();
    assert.equal(ids.length, 3);
    assert.equal(h.budget.bufferedBytes, 30);
    h.complete(CompletionKind.delivered, ids, { baseOffset: 100, timestamp: -1 });
    assert.equal(h.deliveries.drain(), false);
    const results = await batch.promise;
    assert.deepEqual(results.map((r) => r.status === 'fulfilled' && r.value), [
      { topic: 'alpha', partition: 0, offset: 100, timestamp: 1000 },
      { topic: 'alpha', partition: 0, offset: 101, timestamp: 1000 },
      { topic: 'alpha', partition: 0, offset: 102, timestamp: 1000 },
    ]);
    assert.equal(h.budget.bufferedBytes, 0);
    assert.equal(h.deliveries.count, 0);
    assert.equal(h.sends.open, 0);
    assert.deepEqual([h.deliveries.batches, h.deliveries.recordsSent, h.deliveries.bytesSent], [1, 3, 30]);
    assert.deepEqual([...h.states.subarray(0, 3)], [RecordState.free, RecordState.free, RecordState.free]);
  }));

  it('a delivered record\'s settler is lent its batch\'s log append time and log start offset beside its metadata', withHarness({}, async (h) => {
    const lent: object[] = [];
    const settler: Settler = {
      resolve: (_position, metadata) => lent.push({ offset: metadata.offset, logAppendTime: metadata.logAppendTime, logStartOffset: metadata.logStartOffset }),
      reject: () => assert.fail('rejected'),
    };
    for (let i = 0; i < 3; i++) send(h, settler, i, 10);
    const ids = h.readRing();
    h.complete(CompletionKind.delivered, ids.slice(0, 2), { baseOffset: 40, timestamp: 1_700_000_000_123, logStartOffset: 12 });
    // A later answer for the partition, on a CreateTime topic, after retention moved its start on.
    h.complete(CompletionKind.delivered, ids.slice(2), { baseOffset: 42, timestamp: -1, logStartOffset: 30 });
    h.deliveries.drain();
    assert.deepEqual(lent, [
      { offset: 40, logAppendTime: 1_700_000_000_123, logStartOffset: 12 },
      { offset: 41, logAppendTime: 1_700_000_000_123, logStartOffset: 12 },
      { offset: 42, logAppendTime: -1, logStartOffset: 30 },
    ]);
  }));

  it('a record whose settler is told of its acceptance (a stream\'s write callback) is queued for ring space with its own bytes', withHarness({ maxBytes: 32 << 20 }, async (h) => {
    // The stream's source may refill its buffer once the callback came; the third 7 MiB record waits for space in
    // the 16 MiB ring, and was written with the refilled bytes.
    const MIB7 = 7 << 20;
    const values: Uint8Array[] = [];
    const streamLike: Settler = {
      accepted: (position) => values[position]!.fill(0xee),
      resolve() {},
      reject: () => assert.fail('rejected'),
    };
    for (let position = 0; position < 3; position++) {
      const record = { ...prepared(MIB7), value: new Uint8Array(MIB7).fill(position + 1) };
      values.push(record.value);
      assert.ok(h.budget.tryAcquire(MIB7));
      h.deliveries.accept(record, TOPICS[0]!, 0, h.sends.begin(), streamLike, position, undefined, Date.now());
    }
    const read = h.readFirstBytes();
    assert.equal(read.length, 2, 'the third waits for ring space');
    for (let turn = 0; turn < 20 && read.length < 3; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      read.push(...h.readFirstBytes());
    }
    // The first two were copied into the ring before their callbacks.
    assert.deepEqual(read.map(([, byte]) => byte), [1, 2, 3], 'the queued record\'s value as it was accepted');
  }));

  it('fails a batch with the broker error the worker reported', withHarness({}, async (h) => {
    const settler = new SendSettler();
    send(h, settler, 0);
    h.complete(CompletionKind.failed, h.readRing(), { errorCode: 6, message: 'not leader' });
    h.deliveries.drain();
    await assert.rejects(settler.promise, (error: Error) => error instanceof BrokerError && error.message.includes('not leader'));
    assert.equal(h.deliveries.recordsFailed, 1);
    assert.equal(h.budget.bufferedBytes, 0);
  }));

  it('an abort before sealing takes the record back (not-sent); its bytes stay until the worker reports it dropped', withHarness({}, async (h) => {
    const controller = new AbortController();
    const settler = new SendSettler();
    send(h, settler, 0, 10, controller.signal);
    const ids = h.readRing();
    controller.abort();
    await assert.rejects(settler.promise, (error: Error) => error instanceof AbortError && error.delivery === 'not-sent');
    assert.equal(h.states[ids[0]!], RecordState.cancelled);
    assert.equal(h.budget.bufferedBytes, 10, 'counted until the worker reports it');
    assert.equal(h.sends.open, 0, 'the caller is settled: flush no longer waits for it');
    h.complete(CompletionKind.dropped, ids);
    h.deliveries.drain();
    assert.equal(h.budget.bufferedBytes, 0);
    assert.equal(h.deliveries.count, 0);
    assert.deepEqual(h.late, [], 'a dropped record has no late outcome');
  }));

  it('a record accepted after its signal aborted is taken back at once (not-sent), as an abort a moment later would', withHarness({}, async (h) => {
    // A sendBatch's partitioner or serializer may abort the call's signal after earlier records of the slice were
    // placed and before they are accepted: the signal's listener has fired already and would not fire again.
    const controller = new AbortController();
    controller.abort('stop');
    const settler = new SendSettler();
    send(h, settler, 0, 10, controller.signal);
    const ids = h.readRing();
    await assert.rejects(settler.promise, (error: Error) => error instanceof AbortError && error.delivery === 'not-sent');
    assert.equal(h.states[ids[0]!], RecordState.cancelled, 'the worker drops it');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no listener left on the aborted signal');
    h.complete(CompletionKind.dropped, ids);
    h.deliveries.drain();
    assert.equal(h.budget.bufferedBytes, 0);
    assert.equal(h.deliveries.count, 0);
  }));

  it('an abort after sealing says unknown, and the real outcome comes as a late outcome', withHarness({}, async (h) => {
    const controller = new AbortController();
    const settler = new SendSettler();
    send(h, settler, 0, 10, controller.signal);
    const ids = h.readRing();
    assert.equal(seal(h.states, ids[0]!), true, 'the worker seals it first');
    controller.abort();
    await assert.rejects(settler.promise, (error: Error) => error instanceof AbortError && error.delivery === 'unknown');
    h.complete(CompletionKind.delivered, ids, { baseOffset: 7, timestamp: 5 });
    h.deliveries.drain();
    assert.deepEqual(h.late, [{ metadata: { topic: 'alpha', partition: 0, offset: 7, timestamp: 5 }, topic: 'alpha', partition: 0 }]);
    assert.equal(h.deliveries.recordsSent, 1);
    assert.equal(h.budget.bufferedBytes, 0);
  }));

  it('whenEmpty waits for the worker to report a record whose caller was released early (a transaction ends only then)', withHarness({}, async (h) => {
    const controller = new AbortController();
    const settler = new SendSettler();
    send(h, settler, 0, 10, controller.signal);
    const ids = h.readRing();
    assert.equal(seal(h.states, ids[0]!), true);
    let empty = false;
    void h.deliveries.whenEmpty().then(() => (empty = true));
    controller.abort();
    await assert.rejects(settler.promise, (error: Error) => error instanceof AbortError && error.delivery === 'unknown');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(empty, false, 'the caller was answered, but the batch is still the worker\'s');
    h.complete(CompletionKind.delivered, ids, { baseOffset: 7, timestamp: 5 });
    h.deliveries.drain();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(empty, true, 'reported: nothing of it is left');
  }));

  it('records released together share one error per delivery: an abort of a whole sendBatch makes two errors, not one per record', withHarness({ deliveryTimeoutMs: 1000 }, async (h) => {
    // An error per record was most of what releasing cost: an interrupted run with 662,000 records buffered spent
    // seconds making their errors and collecting them.
    const controller = new AbortController();
    const batch = new BatchSettler(4);
    for (let i = 0; i < 4; i++) send(h, batch, i, 10, controller.signal);
    const ids = h.readRing();
    assert.equal(seal(h.states, ids[0]!), true);
    assert.equal(seal(h.states, ids[1]!), true);
    controller.abort('stop');
    const reasons = (await batch.promise).map((r) => (r.status === 'rejected' ? r.reason as AbortError : undefined));
    assert.deepEqual(reasons.map((r) => r?.delivery), ['unknown', 'unknown', 'not-sent', 'not-sent']);
    assert.equal(reasons[0], reasons[1], 'the sealed records share one error');
    assert.equal(reasons[2], reasons[3], 'the taken-back records share one error');
    assert.notEqual(reasons[0], reasons[2]);
    assert.equal(reasons[0]!.cause, 'stop');

    const timedOut = new BatchSettler(3);
    for (let i = 0; i < 3; i++) send(h, timedOut, i, 10, undefined, 0);
    h.deliveries.expire(1001);
    const expired = (await timedOut.promise).map((r) => (r.status === 'rejected' ? r.reason as Error : undefined));
    assert.ok(expired[0] instanceof DeliveryTimeoutError);
    assert.equal(new Set(expired).size, 1, 'one sweep\'s timeouts share one error');
  }));

  it('expire releases every caller past its delivery deadline, and only those', withHarness({ deliveryTimeoutMs: 1000 }, async (h) => {
    const old = new SendSettler();
    const fresh = new SendSettler();
    send(h, old, 0, 10, undefined, 0);
    send(h, fresh, 0, 10, undefined, 5000);
    h.deliveries.expire(1001);
    await assert.rejects(old.promise, (error: Error) => error instanceof DeliveryTimeoutError && error.delivery === 'not-sent');
    assert.equal(h.sends.open, 1, 'the fresh one still waits');
    h.complete(CompletionKind.delivered, h.readRing());
    h.deliveries.drain();
    assert.equal((await fresh.promise).offset, 101);
  }));

  it('expire releases only the records that were due: not a new record that took the id of one freed meanwhile', withHarness({ deliveryTimeoutMs: 1000 }, async (h) => {
    // Settling a timed-out caller can run code at once that frees another due record's id and accepts a new record
    // on it: a RecordWritable's settler destroys the stream, which aborts its signal, which releases its other record
    // still queued for ring space (id freed, bytes released), and the bytes grant a waiting send. Here the first
    // caller's rejection does the same in short: the second record is reported delivered, then a new one sent.
    const late = new SendSettler();
    const { settler: first, listed } = freesSecondThenSends(h, late, 5000);
    const second = new SendSettler();
    send(h, first, 0, 10, undefined, 0);
    send(h, second, 0, 10, undefined, 0);
    const ids = listed(h.readRing());
    h.deliveries.expire(1001);
    assert.equal((await second.promise).offset, 100, 'the second record was delivered inside the sweep');
    const [reused] = h.readRing();
    assert.equal(reused, ids[1], 'the new record took the freed id');
    assert.equal(h.deliveries.count, 2, 'the new record is live: its deadline is 6000');
    h.complete(CompletionKind.delivered, [reused!]);
    h.deliveries.drain();
    assert.equal((await late.promise).offset, 100);
  }));

  it('failLive fails one worker\'s records honestly (sealed: unknown, others: not-sent) and gives their bytes back', withHarness({ workers: 2 }, async (h) => {
    // ownerOf(0, 0, 2) = 0 and ownerOf(0, 1, 2) = 1.
    const sealed = new SendSettler();
    const buffered = new SendSettler();
    const other = new SendSettler();
    for (const [settler, partition] of [[sealed, 0], [buffered, 0], [other, 1]] as const) {
      assert.ok(h.budget.tryAcquire(10));
      h.deliveries.accept(prepared(10), TOPICS[0]!, partition, h.sends.begin(), settler, 0, undefined, Date.now());
    }
    const ids = h.readRing(0);
    assert.equal(h.readRing(1).length, 1);
    seal(h.states, ids[0]!);
    h.deliveries.failLive(0, (delivery) => new WorkerCrashedError(delivery, 'gone'));
    await assert.rejects(sealed.promise, (error: Error) => error instanceof WorkerCrashedError && error.delivery === 'unknown');
    await assert.rejects(buffered.promise, (error: Error) => error instanceof WorkerCrashedError && error.delivery === 'not-sent');
    assert.equal(h.deliveries.count, 1, 'the other worker\'s record lives on');
    assert.equal(h.budget.bufferedBytes, 10);
  }));

  it('failLive claims a record before it reports it not-sent: a worker sealing it a moment after the look cannot take it', withHarness({}, async (h) => {
    // At close the workers run until they read their cut-off. The state was read, not claimed: a worker could seal
    // the record between that read and the report, and a record about to be sent was called 'not-sent'. The
    // settler seals it at the moment of the report, as that worker would.
    let id = -1;
    let delivery: string | undefined;
    let sealedByWorker: boolean | undefined;
    const settler: Settler = {
      resolve() {},
      reject(_position, error) {
        delivery = (error as ProducerClosedError).delivery;
        sealedByWorker = seal(h.states, id);
      },
    };
    send(h, settler, 0);
    id = h.readRing()[0]!;
    h.deliveries.failLive(undefined, (d) => new ProducerClosedError(d, 'closed'));
    assert.equal(delivery, 'not-sent');
    assert.equal(sealedByWorker, false, 'a record reported not-sent can no longer be sealed');
    assert.equal(h.deliveries.count, 0);
  }));

  it('failLive tells nothing more of a record its caller\'s abort already reported not-sent: no lateOutcome', withHarness({}, async (h) => {
    const controller = new AbortController();
    const settler = new SendSettler();
    send(h, settler, 0, 10, controller.signal);
    h.readRing();
    controller.abort();
    await assert.rejects(settler.promise, (error: Error) => error instanceof AbortError && error.delivery === 'not-sent');
    h.deliveries.failLive(undefined, (d) => new ProducerClosedError(d, 'closed'));
    assert.deepEqual(h.late, [], 'no late outcome for a record that was never unknown');
    assert.equal(h.deliveries.count, 0);
    assert.equal(h.budget.bufferedBytes, 0);
  }));

  it('failQueued tells nothing more of a queued record whose caller was released while the others failed: no lateOutcome', withHarness({ maxBytes: 64 << 20 }, async (h) => {
    // Two records of 6 MiB fill most of the 16 MiB ring; the next two wait for ring space. The first of those, as
    // it fails, aborts the second's signal (a stream destroyed by its failure): that caller is told 'not-sent' then,
    // and failing it again as never sent was a lateOutcome for a record that was never 'unknown'.
    const BIG = 6 << 20;
    send(h, new SendSettler(), 0, BIG);
    send(h, new SendSettler(), 0, BIG);
    const stream = new AbortController();
    const first: Settler = { resolve() {}, reject: () => stream.abort(new Error('stream destroyed')) };
    const second = new SendSettler();
    send(h, first, 0, BIG);
    send(h, second, 0, BIG, stream.signal);
    h.deliveries.failQueued(0, new ProducerClosedError('not-sent', 'closed'));
    await assert.rejects(second.promise, (error: Error) => error instanceof AbortError && error.delivery === 'not-sent');
    assert.deepEqual(h.late, []);
    assert.equal(h.deliveries.count, 2, 'the two records in the ring live on');
    assert.equal(h.budget.bufferedBytes, 2 * BIG);
  }));

  it('failLive fails only the records it listed: not a new record that took the id of one freed meanwhile', withHarness({}, async (h) => {
    // As for expire: settling the first record runs code that frees the second's id and sends a new record on it.
    const fresh = new SendSettler();
    const { settler: first, listed } = freesSecondThenSends(h, fresh, Date.now());
    const second = new SendSettler();
    send(h, first, 0);
    send(h, second, 0);
    const ids = listed(h.readRing());
    h.deliveries.failLive(0, (delivery) => new WorkerCrashedError(delivery, 'gone'));
    assert.equal((await second.promise).offset, 100, 'the second record was delivered inside the loop');
    assert.deepEqual(h.readRing(), [ids[1]], 'the new record took the freed id');
    assert.equal(h.deliveries.count, 1, 'the new record is live');
    h.complete(CompletionKind.delivered, [ids[1]!]);
    h.deliveries.drain();
    assert.equal((await fresh.promise).offset, 100);
  }));

  it('drain stops after about maxRecords and says more is waiting', withHarness({}, async (h) => {
    const batch = new BatchSettler(4);
    for (let i = 0; i < 4; i++) send(h, batch, i);
    const ids = h.readRing();
    h.complete(CompletionKind.delivered, ids.slice(0, 2));
    h.complete(CompletionKind.delivered, ids.slice(2));
    assert.equal(h.deliveries.drain(2), true);
    assert.equal(h.deliveries.count, 2);
    assert.equal(h.deliveries.drain(2), true, 'a full slice may have left the ring empty: the caller looks again');
    assert.equal(h.deliveries.drain(2), false);
    assert.equal(h.deliveries.count, 0);
  }));

  describe('records queued for ring space', () => {
    const big = 6 * 1024 * 1024; // two fit in a record ring, a third waits

    it('an abort takes a queued record back at once: not-sent, its id and bytes free now, never written', withHarness({ maxBytes: 4 * big }, async (h) => {
      const controller = new AbortController();
      const settlers = [new SendSettler(), new SendSettler(), new SendSettler()];
      send(h, settlers[0]!, 0, big);
      send(h, settlers[1]!, 0, big);
      send(h, settlers[2]!, 0, big, controller.signal);
      controller.abort();
      await assert.rejects(settlers[2]!.promise, (error: Error) => error instanceof AbortError && error.delivery === 'not-sent');
      assert.equal(h.budget.bufferedBytes, 2 * big, 'the queued record holds no bytes');
      assert.equal(h.deliveries.count, 2);
      const ids = h.readRing();
      assert.equal(ids.length, 2);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(h.readRing(), [], 'the aborted record never reaches the ring');
    }));

    it('failQueued fails what still waits (not-sent) and gives its bytes back; the ring\'s records stay live', withHarness({ maxBytes: 4 * big }, async (h) => {
      const settlers = [new SendSettler(), new SendSettler(), new SendSettler()];
      for (const settler of settlers) send(h, settler, 0, big);
      h.deliveries.failQueued(undefined, new ProducerClosedError('not-sent', 'closed'));
      await assert.rejects(settlers[2]!.promise, (error: Error) => error instanceof ProducerClosedError && error.delivery === 'not-sent');
      assert.equal(h.budget.bufferedBytes, 2 * big);
      assert.equal(h.deliveries.count, 2);
    }));

    it('a queued record is written once the worker frees space, and settles like any other', withHarness({ maxBytes: 4 * big }, async (h) => {
      const settlers = [new SendSettler(), new SendSettler(), new SendSettler()];
      for (const settler of settlers) send(h, settler, 0, big);
      const first = h.readRing(); // the worker reads (and frees) the first two
      let third: number[] = [];
      for (let round = 0; round < 10 && third.length === 0; round++) {
        await new Promise((resolve) => setImmediate(resolve));
        third = h.readRing();
      }
      assert.equal(third.length, 1);
      h.complete(CompletionKind.delivered, [...first, ...third]);
      h.deliveries.drain();
      assert.deepEqual(await Promise.all(settlers.map(async (s) => (await s.promise).offset)), [100, 101, 102]);
    }));
  });
});
