/**
 * producer.writable(): records through `stream.pipeline`, back-pressure from the byte budget, acknowledgement before
 * 'finish', and clean destruction on a bad record or an abort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Producer } from '../../src/main/producer.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume, endOffsets, until } from '../helpers/readback.js';
import { RecordWritable } from '../../src/main/record-writable.js';
import type { Settler } from '../../src/main/settlers.js';
import { InvalidRecordError } from '../../src/main/serialize.js';
import { DeliveryTimeoutError, ProducerClosedError } from '../../src/shared/producer-errors.js';
import type { ProducerRecord } from '../../src/main/types.js';
import { once } from 'node:events';

/** What a settler is told of a delivered record (the stream reads none of it). */
const DELIVERED = { topic: 't', partition: 0, offset: 0, timestamp: 0, logAppendTime: -1, logStartOffset: -1 };

/**
 * A stream whose every record the stand-in producer accepts at once: the signal and settler each record was handed
 * with, and the stream's 'error' (by message) and 'close' in order.
 */
function acceptingStream(signal?: AbortSignal): { stream: RecordWritable; signals: AbortSignal[]; settlers: Settler[]; seen: string[] } {
  const signals: AbortSignal[] = [];
  const settlers: Settler[] = [];
  const stream = new RecordWritable((_record, recordSignal, settler, position) => {
    signals.push(recordSignal);
    settlers.push(settler);
    settler.accepted?.(position);
  }, { topic: 't', signal });
  const seen: string[] = [];
  stream.on('error', (error) => seen.push(`error ${error.message}`));
  stream.on('close', () => seen.push('close'));
  return { stream, signals, settlers, seen };
}

test('pipeline into the real broker: every record acknowledged before the pipeline resolves, in order', { timeout: 300_000 }, async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('writable');
  await createTopic(topic, 1);
  const producer = new Producer({ brokers, clientId: 'writable-test' });
  try {
    await pipeline(Readable.from(Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }))), producer.writable({ topic }));
    assert.equal(producer.metrics().recordsSent, 1000, 'all acknowledged when the pipeline resolved');
    const read = await consume(brokers, topic, 1000);
    assert.deepEqual(read.map((r) => r.value), Array.from({ length: 1000 }, (_, i) => `v${i}`));
  } finally {
    await producer.close();
  }
});

test('a million records: the byte budget holds the source back, so live records stay within the budget', { timeout: 600_000 }, async () => {
  const broker = await FakeBroker.start(4, () => false, { autoAck: true });
  const maxBufferedBytes = 256 * 1024;
  const producer = new Producer({ brokers: [broker.address], workers: 1, maxBufferedBytes });
  const value = Buffer.alloc(100, 'm');
  const total = 1_000_000;
  const stream = producer.writable({ topic: 't' });
  let refused = 0;
  let drains = 0;
  stream.on('drain', () => drains++);
  let mostAhead = 0;
  // Records the source made that the broker has not acknowledged: what the application holds in memory.
  const source = Readable.from((function* () {
    for (let i = 0; i < total; i++) {
      const ahead = i - producer.metrics().recordsSent;
      if (ahead > mostAhead) mostAhead = ahead;
      yield { value };
    }
  })());
  const write = stream.write.bind(stream);
  stream.write = ((chunk: unknown, ...rest: never[]) => {
    const ok = write(chunk, ...rest);
    if (!ok) refused++;
    return ok;
  }) as typeof stream.write;
  try {
    await pipeline(source, stream);
    assert.equal(producer.metrics().recordsSent, total);
    assert.ok(refused > 0 && drains > 0, `back-pressure was used (${refused} refused writes, ${drains} drains)`);
    // Each record holds ~100 B of value plus its entry; the budget, the stream's one record and the source's buffer
    // (16 objects) bound what is alive, whatever the total.
    const budgetRecords = Math.ceil(maxBufferedBytes / 100);
    assert.ok(mostAhead <= budgetRecords + 16 + 2, `at most ${mostAhead} records ahead of the broker (budget: ${budgetRecords})`);
  } finally {
    await producer.close();
    await broker.close();
  }
});

test('a bad record fails the pipeline, naming its field, once the records before it are acknowledged: none dropped, none after it sent', { timeout: 60_000 }, async () => {
  // With a linger, the good records were still unsealed when the bad one destroyed the stream: taken back, never
  // sent, though their writes had called back.
  const brokers = await useBroker();
  const topic = uniqueTopic('writable-bad');
  await createTopic(topic, 1);
  const producer = new Producer({ brokers, clientId: 'writable-bad-test', lingerMs: 200 });
  try {
    await producer.connect();
    const records = [{ value: 'a' }, { value: 'b' }, { value: 42 }, { value: 'd' }];
    await assert.rejects(pipeline(Readable.from(records), producer.writable({ topic })), /record\.value/);
    assert.equal(producer.metrics().recordsSent, 2, 'both acknowledged when the pipeline rejected');
    const read = await consume(brokers, topic, 2);
    assert.deepEqual(read.map((r) => r.value), ['a', 'b']);
    assert.deepEqual([...(await endOffsets(brokers, topic)).values()], [2], 'nothing after the bad record');
  } finally {
    await producer.close();
  }
});

test('an abort destroys the stream and releases the records waiting for buffer space, never sent', { timeout: 60_000 }, async () => {
  const stalled = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [stalled.address], workers: 1, maxBufferedBytes: 4096, lingerMs: 0 });
  try {
    await producer.connect();
    const abort = new AbortController();
    const stream = producer.writable({ topic: 't', signal: abort.signal });
    const value = Buffer.alloc(1000, 'a');
    const done = pipeline(Readable.from(Array.from({ length: 50 }, () => ({ value }))), stream);
    await until(() => producer.metrics().waiters > 0, 'a record waits for buffer space');
    abort.abort();
    await assert.rejects(done, (error: Error & { code?: string }) => error.code === 'ERR_ABORTED');
    await until(() => producer.metrics().waiters === 0, 'the waiting record is released');
    const sent = stalled.produces.reduce((sum, p) => sum + [...p.recordCounts.values()].reduce((a, b) => a + b, 0), 0);
    assert.ok(sent <= 4, `only what fit in the 4 KiB budget went out (${sent})`);
  } finally {
    await producer.close({ timeoutMs: 500 });
    await stalled.close();
  }
});

test('a write refused because the producer is closing takes back none of the records the stream accepted; it fails once they settle', async () => {
  const signals: AbortSignal[] = [];
  const settlers: Settler[] = [];
  const stream = new RecordWritable((_record, signal, settler, position) => {
    signals.push(signal);
    settlers.push(settler);
    if (position === 0) settler.accepted?.(position);
    else settler.reject(position, new ProducerClosedError('not-sent', 'the producer is closed'));
  }, { topic: 't' });
  const errors: Error[] = [];
  stream.on('error', (error) => errors.push(error));
  let closed = false;
  stream.on('close', () => (closed = true));
  stream.write({ value: 'accepted before close()' });
  stream.write({ value: 'written after close() began' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(signals[0]!.aborted, false, 'the accepted record is left to close(), which delivers it');
  assert.equal(closed, false, 'the stream closes once the accepted record has settled');
  settlers[0]!.resolve(0, DELIVERED);
  await new Promise((resolve) => stream.on('close', resolve)); // events.once would reject on the 'error'
  assert.ok(errors[0] instanceof ProducerClosedError, String(errors[0]));
});

test('destroyed with an error (a pipeline passing on its source\'s), the stream takes nothing back and closes once its records settle', async () => {
  // Destroyed at once, taking back what no worker had sealed: of the records a source had written before it failed,
  // some were dropped and the sealed ones went on landing after the pipeline had rejected.
  const { stream, signals, settlers, seen } = acceptingStream();
  stream.write({ value: 'a' });
  stream.write({ value: 'b' });
  await new Promise((resolve) => setImmediate(resolve));
  stream.destroy(new ProducerClosedError('not-sent', 'another producer is closed'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([signals[0]!.aborted, seen], [false, []], 'nothing taken back, nothing said yet');
  settlers[0]!.resolve(0, DELIVERED);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, [], 'b is still in flight');
  settlers[1]!.reject(1, new Error('refused by the broker'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['error another producer is closed', 'close']);
});

test('close() while a pipeline writes: the records the stream accepted are delivered, the stream fails with ProducerClosedError', { timeout: 60_000 }, async () => {
  const brokers = await useBroker();
  const topic = uniqueTopic('writable-close');
  await createTopic(topic, 1);
  // A long linger: the accepted records are still unsealed in their batch when close() begins.
  const producer = new Producer({ brokers, clientId: 'writable-close-test', lingerMs: 30_000 });
  await producer.connect();
  const stream = producer.writable({ topic });
  const failed = once(stream, 'error').catch((error: unknown) => error);
  for (let i = 0; i < 100; i++) {
    await new Promise<void>((resolve, reject) => stream.write({ value: `v${i}` }, (error) => (error ? reject(error) : resolve())));
  }
  const closing = producer.close();
  stream.write({ value: 'after close() began' });
  const [error] = (await failed) as [Error];
  await closing;
  assert.ok(error instanceof ProducerClosedError, String(error));
  assert.equal(producer.metrics().recordsSent, 100);
  const read = await consume(brokers, topic, 100);
  assert.deepEqual(read.map((r) => r.value), Array.from({ length: 100 }, (_, i) => `v${i}`));
});

test('destroy() with no error: the write waiting for buffer space hears that its record was taken back, not that it was taken', async () => {
  const signals: (AbortSignal | undefined)[] = [];
  const stream = new RecordWritable((_record, signal) => void signals.push(signal), { topic: 't' });
  const seen: string[] = [];
  stream.on('error', (error) => seen.push(`error ${error.message}`));
  assert.equal(stream.write({ value: 'a' }, (error) => seen.push(`a ${error === null || error === undefined ? 'taken' : `${error.name} ${(error as { delivery?: string }).delivery}`}`)), false);
  stream.destroy();
  assert.equal(signals[0]?.aborted, true, 'its record is taken back');
  await new Promise((resolve) => setImmediate(resolve));
  // A source acknowledged from write callbacks acknowledged a record that was never sent.
  assert.deepEqual(seen, ['a AbortError not-sent']);
});

test('a stream made with a signal that has already aborted is destroyed at once: a first write hands nothing to the producer', async () => {
  // Destroyed a microtask later, the stream took a write made right after it was made: the record went to the
  // producer under the stream's own signal, not yet aborted, and was accepted (its callback said taken).
  const submitted: boolean[] = [];
  const stream = new RecordWritable((_record, signal) => void submitted.push(signal.aborted), { topic: 't', signal: AbortSignal.abort(new Error('shutting down')) });
  assert.equal(stream.destroyed, true);
  const seen: string[] = [];
  stream.on('error', (error) => seen.push(`error ${error.name}`));
  stream.write({ value: 'a' }, (error) => seen.push(`a ${error === null || error === undefined ? 'taken' : (error as NodeJS.ErrnoException).code}`));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(submitted, [], 'a record reached the producer');
  assert.deepEqual(seen, ['error AbortError', 'a ERR_STREAM_DESTROYED']);
});

test('destroyed with an error while a write waits for buffer space: its record is not taken back, and its callback says how it went', async () => {
  // It heard AbortError 'not-sent' while its record, never taken back, went on to be accepted and sent.
  const settlers: Settler[] = [];
  const signals: AbortSignal[] = [];
  const stream = new RecordWritable((_record, signal, settler) => {
    signals.push(signal);
    settlers.push(settler);
  }, { topic: 't' });
  const seen: string[] = [];
  stream.on('error', (error) => seen.push(`error ${error.name} ${(error as { delivery?: string }).delivery}`));
  stream.on('close', () => seen.push('close'));
  stream.write({ value: 'b' }, (error) => seen.push(`b ${error === null || error === undefined ? 'taken' : `${error.name} ${(error as { delivery?: string }).delivery}`}`));
  stream.destroy(new DeliveryTimeoutError('unknown', 'no result within deliveryTimeoutMs'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([signals[0]!.aborted, seen], [false, []]);
  settlers[0]!.accepted!(0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['b taken']);
  settlers[0]!.resolve(0, DELIVERED);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['b taken', 'error DeliveryTimeoutError unknown', 'close']);
});

test('callbacks the producer triggers from outside write() run on the next tick, so user code never runs inside its bookkeeping', async () => {
  // A record that waited for buffer space is accepted inside the byte budget's grant. Node runs the write callback and
  // 'drain' synchronously from a callback called outside _write: a listener that threw there made the grant give the
  // accepted record's bytes back and fail it a second time.
  const settlers: Settler[] = [];
  const stream = new RecordWritable((_record, _signal, settler) => void settlers.push(settler), { topic: 't' });
  stream.on('error', () => undefined);
  const seen: string[] = [];
  assert.equal(stream.write({ value: 'a' }, (error) => seen.push(`a ${error?.message ?? 'accepted'}`)), false, 'a waits');
  stream.once('drain', () => seen.push('drain'));
  settlers[0]!.accepted!(0);
  assert.equal(seen.length, 0, 'nothing runs inside accepted()');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([...seen], ['drain', 'a accepted'], 'both, on the next tick');

  stream.write({ value: 'b' }, (error) => seen.push(`b ${error?.message ?? 'accepted'}`));
  settlers[1]!.reject(1, new Error('buffer timeout'));
  assert.equal(seen.length, 2, 'nor inside reject()');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen.slice(2), ['b buffer timeout']);
});

test('a record refused after it was accepted: the stream takes no more records, and fails once those it took have settled', async () => {
  const settlers: Settler[] = [];
  const stream = new RecordWritable((_record, _signal, settler) => void settlers.push(settler), { topic: 't' });
  const errors: string[] = [];
  stream.on('error', (error) => errors.push(`stream ${error.message}`));
  const seen: string[] = [];
  const said = (name: string) => (error: Error | null | undefined): void => void seen.push(`${name} ${error?.message ?? 'accepted'}`);
  stream.write({ value: 'a' }, said('a'));
  settlers[0]!.accepted!(0);
  await new Promise((resolve) => setImmediate(resolve));
  stream.write({ value: 'b' }, said('b'));
  assert.equal(settlers.length, 2, 'b waits for buffer space');
  // a's broker refusal arrives in the producer's settlement, with b still waiting: b is not taken back.
  settlers[0]!.reject(0, new Error('refused by the broker'));
  assert.equal(seen.length, 1, 'nothing runs inside reject()');
  settlers[1]!.accepted!(1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['a accepted', 'b accepted']);
  // A write after the failure is held, never handed to the producer.
  stream.write({ value: 'c' }, said('c'));
  assert.equal(settlers.length, 2, 'c reached the producer');
  assert.equal(stream.write({ value: 'd' }), false, 'the source is held back');
  assert.deepEqual(errors, [], 'b is still in flight');
  settlers[1]!.resolve(1, DELIVERED);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, ['stream refused by the broker']);
  assert.match(seen[2]!, /^c the stream failed before this record was handed to the producer/);
});

test('a failure with the source idle: the stream fails once its last record settles, not at its next write', async () => {
  const { stream, settlers, seen } = acceptingStream();
  stream.write({ value: 'a' });
  stream.write({ value: 'b' });
  await new Promise((resolve) => setImmediate(resolve));
  settlers[0]!.reject(0, new Error('refused by the broker'));
  settlers[1]!.resolve(1, DELIVERED);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['error refused by the broker', 'close']);
});

test('destroyed with an error after end(), its records still in flight: the stream closes once they settle', async () => {
  const { stream, settlers, seen } = acceptingStream();
  stream.end({ value: 'a' });
  await new Promise((resolve) => setImmediate(resolve));
  stream.destroy(new Error('the source failed'));
  settlers[0]!.resolve(0, DELIVERED);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['error the source failed', 'close']);
});

test('cancelled while a failure waits for the other records (destroy(), or the signal): released at once, reporting that failure', async () => {
  // It reported nothing (destroy()), or AbortError 'not-sent' (the signal), of a record that may have been written.
  for (const how of ['destroy', 'signal'] as const) {
    const abort = new AbortController();
    const { stream, signals, settlers, seen } = acceptingStream(abort.signal);
    stream.write({ value: 'a' });
    stream.write({ value: 'b' });
    await new Promise((resolve) => setImmediate(resolve));
    settlers[0]!.reject(0, new Error('a: no answer, may be written'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [], `${how}: b is still in flight`);
    if (how === 'destroy') stream.destroy();
    else abort.abort();
    assert.equal(signals[1]!.aborted, true, `${how}: b is taken back`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ['error a: no answer, may be written', 'close'], how);
  }
});

test('an abort cuts short a failure\'s wait for the stream\'s records: what no worker sealed is taken back, and the stream closes', async () => {
  const abort = new AbortController();
  const { stream, signals, seen } = acceptingStream(abort.signal);
  stream.write({ value: 'a' });
  await new Promise((resolve) => setImmediate(resolve));
  stream.destroy(new Error('the source failed'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([signals[0]!.aborted, seen], [false, []]);
  abort.abort();
  assert.equal(signals[0]!.aborted, true, 'a is taken back');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['error the source failed', 'close']);
});

test('a chunk that is not a record object (a string, a Buffer, a number, undefined, an array, an ArrayBuffer, a Map) fails the stream, naming what it got', async () => {
  // Spread with the stream's topic, 'hello' became { 0: 'h', …, topic } with no key and no value: an empty record,
  // sent without a word (a line reader piped into the stream lost every line); undefined threw a TypeError.
  for (const chunk of ['hello', Buffer.from('hello'), 42, undefined, ['a', 'b'], new ArrayBuffer(4), new Map([['value', 'v']])]) {
    const submitted: ProducerRecord[] = [];
    const stream = new RecordWritable((record) => void submitted.push(record), { topic: 't' });
    const failed = once(stream, 'error');
    stream.write(chunk);
    const [error] = (await failed) as [Error];
    assert.ok(error instanceof InvalidRecordError, String(error));
    assert.match(error.message, /must be an object/);
    assert.deepEqual(submitted, [], 'nothing was sent');
  }
});

test('a record the stream refuses before it reaches the producer counts in metrics().recordsFailed, as send() counts it', async (t) => {
  const producer = new Producer({ brokers: ['127.0.0.1:1'] });
  t.after(() => producer.close({ timeoutMs: 0 }));
  const stream = producer.writable({ topic: 't' });
  stream.on('error', () => undefined);
  const refused = await new Promise<Error | null | undefined>((resolve) => stream.write(42, resolve));
  assert.ok(refused instanceof InvalidRecordError);
  const getter = producer.writable({ topic: 't' });
  getter.on('error', () => undefined);
  const unreadable = { get value(): string { throw new Error('no value'); } };
  assert.ok(await new Promise<Error | null | undefined>((resolve) => getter.write(unreadable, resolve)) instanceof InvalidRecordError);
  assert.equal(producer.metrics().recordsFailed, 2);
});

test('a record whose fields are getters (a class instance) keeps them when the stream gives it its topic', () => {
  class Reading {
    get key(): string { return 'sensor-1'; }
    get value(): string { return '21.5'; }
  }
  const submitted: ProducerRecord[] = [];
  const stream = new RecordWritable((record) => void submitted.push(record), { topic: 't' });
  stream.write(new Reading());
  assert.equal(submitted.length, 1);
  assert.deepEqual([submitted[0]!.topic, submitted[0]!.key, submitted[0]!.value], ['t', 'sensor-1', '21.5']);
});

test('a record whose getter throws fails the stream with an InvalidRecordError, and the stream still ends', async () => {
  // Read outside any try, the getter's error escaped write() and left the stream with a record it never settled:
  // end() never called back.
  const record = { get value(): string { throw new Error('no reading'); } };
  const stream = new RecordWritable(() => assert.fail('nothing is submitted'), { topic: 't' });
  const failed = once(stream, 'error');
  stream.write(record);
  const [error] = (await failed) as [Error];
  assert.ok(error instanceof InvalidRecordError && /no reading/.test(error.message), String(error));
  assert.equal(error.message, 'record.value could not be read: Error: no reading', 'named as send() names it');
  assert.ok(stream.destroyed);
});
