/**
 * Producer calls given something other than records or options: each rejects with an error naming the argument,
 * never throws out of the call, and the producer goes on. No broker is needed for most: nothing there reaches one;
 * close's, which show the producer going on, use the fake broker that acknowledges everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/main/producer.js';
import { ProducerClosedError } from '../../src/shared/producer-errors.js';
import { InvalidRecordError, type ProducerRecord } from '../../src/main/serialize.js';
import type { CloseOptions, SendOptions } from '../../src/main/types.js';
import { ConfigError } from '../../src/shared/errors.js';
import { FakeBroker } from '../helpers/fake-broker.js';

test('sendBatch with records that are not an array, or options that are not an object, rejects naming them; send with bad options too', async () => {
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });
  try {
    for (const records of [null, undefined, 'abc', { length: 1 }]) {
      const call = (): Promise<unknown> => producer.sendBatch(records as unknown as ProducerRecord[]);
      await assert.rejects(call, (e: unknown) => e instanceof InvalidRecordError && e.message.includes('sendBatch records must be an array'));
    }
    await assert.rejects(() => producer.sendBatch([], null as unknown as SendOptions), (e: unknown) => e instanceof ConfigError && e.message.includes('sendBatch options'));
    await assert.rejects(() => producer.send({ topic: 't', value: 'v' }, null as unknown as SendOptions), (e: unknown) => e instanceof ConfigError && e.message.includes('send options'));
    assert.deepEqual(await producer.sendBatch([]), [], 'the producer goes on');
  } finally {
    await producer.close({ timeoutMs: 1000 });
  }
});

test('a signal option that is not an AbortSignal is a ConfigError naming it, before any record holds buffer space', async () => {
  // It was first used after the record held budget bytes and an id: sendBatch threw with them never given back.
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });
  const signal = {} as AbortSignal;
  try {
    const named = (method: string) => (e: unknown) => e instanceof ConfigError && e.message === `${method} options.signal must be an AbortSignal`;
    await assert.rejects(() => producer.send({ topic: 't', value: 'v' }, { signal }), named('send'));
    await assert.rejects(() => producer.sendBatch([{ topic: 't', value: 'v' }], { signal }), named('sendBatch'));
    await assert.rejects(() => producer.flush({ signal }), named('flush'));
    assert.throws(() => producer.writable({ signal }), named('writable'));
    assert.equal(producer.metrics().bufferedBytes, 0, 'no bytes held');
  } finally {
    await producer.close({ timeoutMs: 1000 });
  }
});

test('an option a method does not take is a ConfigError naming it and the near miss, before any record holds buffer space', async () => {
  // Ignored, `result: 'failures'` resolved with every result (code reading `.failures` threw), and close({ timeout })
  // (KafkaJS's spelling) waited with no deadline.
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });
  try {
    const named = (message: string) => (e: unknown) => e instanceof ConfigError && e.message === message;
    await assert.rejects(() => producer.sendBatch([{ topic: 't', value: 'v' }], { result: 'failures' } as SendOptions),
      named('sendBatch options: unknown option "result" (did you mean "results"?); it takes signal, results'));
    await assert.rejects(() => producer.send({ topic: 't', value: 'v' }, { acks: 1 } as SendOptions),
      named('send options: unknown option "acks"; it takes only signal'));
    await assert.rejects(() => producer.connect({ timeoutMs: 5 } as SendOptions), named('connect options: unknown option "timeoutMs"; it takes only signal'));
    await assert.rejects(() => producer.flush({ sigal: undefined } as SendOptions),
      named('flush options: unknown option "sigal" (did you mean "signal"?); it takes only signal'));
    assert.throws(() => producer.writable({ topics: 't' } as SendOptions), named('writable options: unknown option "topics" (did you mean "topic"?); it takes topic, signal'));
    // Own names only, as the constructor's check: a name made enumerable on a prototype is not the caller's option.
    assert.deepEqual(await producer.sendBatch([], Object.create({ timeout: 5 }) as SendOptions), []);
    // An AbortSignal where the options go is told how to pass it.
    await assert.rejects(() => producer.send({ topic: 't', value: 'v' }, AbortSignal.abort() as unknown as SendOptions),
      named('send options must be an object, got an AbortSignal: pass { signal }'));
    await assert.rejects(() => producer.close({ timeout: 10 } as CloseOptions),
      named('close options: unknown option "timeout" (did you mean "timeoutMs"?); it takes timeoutMs, signal'));
    assert.equal(producer.metrics().bufferedBytes, 0, 'no bytes held');
    assert.deepEqual(await producer.sendBatch([], { results: 'failures', signal: undefined }), { records: 0, failures: [] }, 'the options it takes are taken');
  } finally {
    await producer.close({ timeoutMs: 1000 });
  }
});

test('writable refuses options that are not an object, and a topic that is not a string, naming them', async () => {
  // null threw a TypeError from the stream's constructor; a numeric topic failed each record later instead.
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });
  try {
    assert.throws(() => producer.writable(null as unknown as object), (e: unknown) => e instanceof ConfigError && e.message === 'writable options must be an object, got null');
    assert.throws(() => producer.writable({ topic: 5 as unknown as string }), (e: unknown) => e instanceof ConfigError && e.message === 'writable options.topic must be a string, got number');
    producer.writable({ topic: 't' }).destroy();
  } finally {
    await producer.close({ timeoutMs: 1000 });
  }
});

test('the transactional calls and flush refuse options that are not an object, or a signal that is not an AbortSignal, naming the call', async () => {
  // Checked before anything changes: abortTransaction({ signal: 'x' }) had cancelled the transaction's sends before
  // the signal threw a TypeError, and commitTransaction(null) threw one reading null.
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1, transactionalId: 'tx-arguments' });
  const offsets = { groupId: 'g', offsets: [{ topic: 't', partition: 0, offset: 1 }] };
  const calls: Record<string, (options: unknown) => Promise<unknown>> = {
    flush: (options) => producer.flush(options as SendOptions),
    commitTransaction: (options) => producer.commitTransaction(options as SendOptions),
    abortTransaction: (options) => producer.abortTransaction(options as SendOptions),
    sendOffsets: (options) => producer.sendOffsets(offsets, options as SendOptions),
    transaction: (options) => producer.transaction(async () => undefined, options as SendOptions),
  };
  try {
    for (const [method, call] of Object.entries(calls)) {
      await assert.rejects(() => call(null), (e: unknown) => e instanceof ConfigError && e.message === `${method} options must be an object, got null`, method);
      await assert.rejects(() => call({ signal: 'x' }), (e: unknown) => e instanceof ConfigError && e.message === `${method} options.signal must be an AbortSignal`, method);
    }
    await assert.rejects(() => producer.transaction(null as unknown as () => Promise<void>), (e: unknown) => e instanceof ConfigError && /^transaction needs a function/.test(e.message));
  } finally {
    await producer.close({ timeoutMs: 1000 });
  }
});

test('close with options it cannot use rejects naming them, before anything changes: the producer goes on, and closes when asked right', async () => {
  // close(null) rejected with a TypeError before its first step, and every later close() with that same rejection:
  // the producer could never be closed, its threads running for good. close({ signal: 'x' }) threw partway, after
  // the producer had stopped taking records: neither open nor closable. The finally's close shows it closes now.
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  try {
    await producer.send({ topic: 't', value: 'before' });
    const refused = (pattern: RegExp) => (e: unknown) => e instanceof ConfigError && pattern.test(e.message);
    await assert.rejects(() => producer.close(null as unknown as CloseOptions), refused(/^close options must be an object, got null$/));
    await assert.rejects(() => producer.close({ signal: 'x' as unknown as AbortSignal }), refused(/^close options.signal must be an AbortSignal$/));
    for (const [timeoutMs, shown] of [[Number.NaN, 'NaN'], [-1, '-1'], [Number.POSITIVE_INFINITY, 'Infinity'], ['500', 'string']] as const) {
      await assert.rejects(
        () => producer.close({ timeoutMs: timeoutMs as number }),
        refused(new RegExp(`^close options.timeoutMs must be a finite number of ms, 0 or more, got ${shown}$`)),
      );
    }
    assert.equal((await producer.send({ topic: 't', value: 'after' })).topic, 't', 'the producer still takes records');
    assert.equal(producer.metrics().workers, 1);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
  // Its threads have ended: it said 1 after close too.
  assert.equal(producer.metrics().workers, 0);
});

test('close with a timeoutMs whose deadline lies beyond 2^53 ms ends: the deadline is capped there', { timeout: 30_000 }, async () => {
  // A worker keeps no deadline later than 2^53-1 ms; given one beyond, it never began to close, and close never ended.
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  try {
    await producer.send({ topic: 't', value: 'v' });
    await producer.close({ timeoutMs: Number.MAX_SAFE_INTEGER });
  } finally {
    await broker.close();
  }
});

test('connect() after close() rejects with ProducerClosedError, whether or not the producer had connected', { timeout: 30_000 }, async () => {
  // A connected producer kept its connection attempt's resolved promise: connect() after close() resolved, and the
  // caller went on to send into a closed producer.
  const broker = await FakeBroker.start(1, () => false, { autoAck: true });
  try {
    for (const connectFirst of [true, false]) {
      const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
      if (connectFirst) await producer.connect();
      await producer.close();
      await assert.rejects(producer.connect(), (e: unknown) => e instanceof ProducerClosedError && e.delivery === 'not-sent');
    }
  } finally {
    await broker.close();
  }
});
