/** WaitingSends: sends that wait for the connection, their topic's metadata or their partition's transaction. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WaitingSends, type WaitingSend } from '../../src/main/waiting-sends.js';
import type { PreparedRecord } from '../../src/main/serialize.js';
import type { TopicInfo, TopicRegistry } from '../../src/main/topic-registry.js';
import { ConnectionError } from '../../src/shared/errors.js';
import { ProducerClosedError, UnknownTopicError } from '../../src/shared/producer-errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';

const topicInfo = (name: string): TopicInfo => ({ index: 0, name, partitionCount: 1, available: [0] });

function send(topic: string, seq: number, deadline = Date.now() + 60_000): WaitingSend {
  const prepared = { topic } as PreparedRecord;
  return { prepared, seq, settler: { resolve: () => {}, reject: () => {} }, position: 0, signal: undefined, deadline, calledAt: 0, settled: false, stopListening: undefined };
}

/** Waiting sends over a registry whose topics the test makes known (`learn`), and a connection it completes. */
function waitingSends(
  transactions?: { addPartition(topic: string, partition: number): Promise<void> },
  attempt?: () => Promise<void>,
) {
  const log: string[] = [];
  const errors: Error[] = [];
  const known = new Map<string, TopicInfo>();
  const loads = new Map<string, (info: TopicInfo) => void>();
  const workers = { started: false };
  let connected!: () => void;
  const connecting = new Promise<void>((resolve) => (connected = resolve));
  const registry = {
    get: (name: string) => known.get(name),
    load: (name: string) => new Promise<TopicInfo>((resolve) => loads.set(name, resolve)),
    prefetch: () => undefined,
    reconnectReason: () => lastFailure.reason,
    fetchReason: () => lastFailure.fetch,
  } as unknown as TopicRegistry;
  /** Why the last connection attempt failed, and the last metadata attempt, as the registry would say. */
  const lastFailure: { reason: string | undefined; fetch?: string | undefined } = { reason: undefined };
  const sends = new WaitingSends({
    workers,
    connect: attempt ?? (() => connecting),
    registry,
    transactions: transactions as ConstructorParameters<typeof WaitingSends>[0]['transactions'],
    partition: () => 0,
    admitted: (waiting, topic) => log.push(`admitted ${waiting.seq} to ${topic.name}`),
    failed: (waiting, error) => {
      errors.push(error);
      log.push(`failed ${waiting.seq}: ${error.message}`);
    },
  });
  const connect = () => {
    workers.started = true;
    connected();
  };
  const learn = (name: string) => {
    known.set(name, topicInfo(name));
    loads.get(name)?.(known.get(name)!);
  };
  return { sends, log, errors, connect, learn, lastFailure };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('WaitingSends', () => {
  it('says a topic has waiting sends from its first push until its last is admitted', async () => {
    const { sends, connect, learn } = waitingSends();
    assert.equal(sends.has('a'), false);
    sends.push(send('a', 1));
    assert.equal(sends.has('a'), true, 'a later send to the topic must queue behind it');
    assert.equal(sends.has('b'), false, 'other topics are not held up');
    connect();
    learn('a');
    await turns();
    assert.equal(sends.has('a'), false);
  });

  it('drops a topic\'s queue once it drains (so `has` is a size test again), and a later wait gets a new one', async () => {
    const { sends, log, connect, learn } = waitingSends();
    sends.push(send('a', 1));
    sends.push(send('b', 2));
    assert.equal(sends.queuedTopics, 2);
    connect();
    learn('a');
    await turns();
    assert.equal(sends.queuedTopics, 1, 'a drained; b still waits for its metadata');
    learn('b');
    await turns();
    assert.equal(sends.queuedTopics, 0);
    sends.push(send('a', 3));
    assert.equal(sends.has('a'), true);
    await turns();
    assert.deepEqual(log, ['admitted 1 to a', 'admitted 2 to b', 'admitted 3 to a']);
    assert.equal(sends.queuedTopics, 0);
  });

  it('admits in call order per topic, once connected and the metadata is known, and a slow topic holds up no other', async () => {
    const { sends, log, connect, learn } = waitingSends();
    sends.push(send('slow', 1));
    sends.push(send('fast', 2));
    sends.push(send('slow', 3));
    sends.push(send('fast', 4));
    await turns();
    assert.deepEqual(log, [], 'nothing before the connection');
    connect();
    learn('fast');
    await turns();
    assert.deepEqual(log, ['admitted 2 to fast', 'admitted 4 to fast']);
    learn('slow');
    await turns();
    assert.deepEqual(log.slice(2), ['admitted 1 to slow', 'admitted 3 to slow']);
  });

  it('marks an admitted send settled, so the queue never fails it later', async () => {
    const { sends, connect, learn } = waitingSends();
    const waiting = send('a', 1);
    sends.push(waiting);
    connect();
    learn('a');
    await turns();
    assert.equal(waiting.settled, true);
  });

  it('failAll fails every send still waiting, on every topic, none twice, and none is admitted afterwards', async () => {
    const { sends, log, connect, learn } = waitingSends();
    sends.push(send('a', 1));
    sends.push(send('b', 2));
    sends.push(send('a', 3));
    sends.failAll(new Error('credentials refused'));
    sends.failAll(new Error('again'));
    await turns();
    assert.deepEqual(log.sort(), ['failed 1: credentials refused', 'failed 2: credentials refused', 'failed 3: credentials refused']);
    // The connection the first sends were waiting for comes after all: nothing failed goes on.
    connect();
    learn('a');
    learn('b');
    await turns();
    assert.equal(log.length, 3);
    assert.equal(sends.has('a'), false);
    assert.equal(sends.has('b'), false);
  });

  it('a send whose deadline passes while the connection is pending fails with the connection named', async () => {
    const { sends, log } = waitingSends();
    sends.push(send('a', 1, Date.now() + 20));
    for (let i = 0; i < 200 && log.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(log.length, 1);
    assert.match(log[0]!, /^failed 1: .*the connection/);
  });

  it('a send that joined a connection attempt which gave up before the send\'s own deadline waits for another attempt', async () => {
    // An attempt lasts bufferTimeoutMs from when an earlier send began it: a send that joined it near its end failed
    // with it a moment later, a ConnectionError naming no delivery, where it was promised its own bufferTimeoutMs.
    const log: string[] = [];
    const workers = { started: false };
    const attempts: { resolve: () => void; reject: (error: Error) => void }[] = [];
    const registry = { get: (name: string) => topicInfo(name), prefetch: () => undefined, reconnectReason: () => undefined } as unknown as TopicRegistry;
    const sends = new WaitingSends({
      workers,
      connect: () => new Promise<void>((resolve, reject) => attempts.push({ resolve, reject })),
      registry,
      transactions: undefined,
      partition: () => 0,
      admitted: (waiting, topic) => log.push(`admitted ${waiting.seq} to ${topic.name}`),
      failed: (waiting, error) => log.push(`failed ${waiting.seq}: ${error.message}`),
    });
    sends.push(send('a', 1));
    await turns();
    assert.equal(attempts.length, 1);
    attempts[0]!.reject(new ConnectionError('no broker could be reached within bufferTimeoutMs'));
    // Another attempt after a short pause (an attempt with little time left may give up at once).
    for (let i = 0; i < 200 && attempts.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(log, [], 'the send still waits: its own deadline is a minute away');
    assert.equal(attempts.length, 2, 'another attempt');
    workers.started = true;
    attempts[1]!.resolve();
    await turns();
    assert.deepEqual(log, ['admitted 1 to a']);
  });

  it('a send whose last connection attempt gave up near its deadline fails as one that waited out the connection', async () => {
    const log: string[] = [];
    const registry = { get: (name: string) => topicInfo(name), prefetch: () => undefined, reconnectReason: () => 'connecting to 127.0.0.1:1 failed: ECONNREFUSED' } as unknown as TopicRegistry;
    const sends = new WaitingSends({
      workers: { started: false },
      connect: () => Promise.reject(new ConnectionError('no broker could be reached within bufferTimeoutMs')),
      registry,
      transactions: undefined,
      partition: () => 0,
      admitted: (waiting, topic) => log.push(`admitted ${waiting.seq} to ${topic.name}`),
      failed: (waiting, error) => log.push(`failed ${waiting.seq}: ${error.name}: ${error.message}`),
    });
    sends.push(send('a', 1, Date.now() + 30));
    for (let i = 0; i < 200 && log.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    // Not the attempt's ConnectionError, which names no delivery: the send's own timeout, as 'not-sent'.
    assert.deepEqual(log, ['failed 1: BufferTimeoutError: the connection was not ready within bufferTimeoutMs; its last attempt failed: connecting to 127.0.0.1:1 failed: ECONNREFUSED']);
  });

  it('a send past its deadline while the connection is retried says why the last attempt failed', async () => {
    const { sends, log, lastFailure } = waitingSends();
    // Only the send at the head when an attempt failed heard its error; one behind it, waiting out the reconnect
    // backoff, failed with "not ready" and no reason.
    lastFailure.reason = 'connecting to 127.0.0.1:9092 failed: Client network socket disconnected before secure TLS connection was established';
    sends.push(send('a', 1, Date.now() - 1));
    await turns();
    assert.deepEqual(log, [
      'failed 1: the connection was not ready within bufferTimeoutMs; its last attempt failed: connecting to 127.0.0.1:9092 failed: Client network socket disconnected before secure TLS connection was established',
    ]);
  });

  it('an aborted send says what held it up: the last attempt to connect, or at its topic\'s metadata once connected', async () => {
    const { sends, log, connect, lastFailure } = waitingSends();
    const aborted = (seq: number) => {
      const controller = new AbortController();
      sends.push({ ...send('a', seq), signal: controller.signal });
      controller.abort();
    };
    aborted(1); // nothing failed yet: nothing to say
    lastFailure.reason = 'connecting to 127.0.0.1:1 failed: ECONNREFUSED';
    aborted(2);
    connect();
    lastFailure.reason = undefined;
    lastFailure.fetch = 'UNKNOWN_TOPIC_OR_PARTITION';
    aborted(3);
    await turns();
    assert.deepEqual(log, [
      'failed 1: aborted while waiting for the connection or topic metadata',
      'failed 2: aborted while waiting for the connection or topic metadata; its last attempt failed: connecting to 127.0.0.1:1 failed: ECONNREFUSED',
      'failed 3: aborted while waiting for the connection or topic metadata; its last attempt failed: UNKNOWN_TOPIC_OR_PARTITION',
    ]);
  });

  it('an aborted send behind one that waits for the transaction is not told of a metadata failure found since', async () => {
    const log: string[] = [];
    const known = new Map<string, TopicInfo>();
    let loads = 0;
    const registry = {
      get: (name: string) => known.get(name),
      load: async (name: string) => {
        // The first send's load fails; the second's finds the topic.
        if (loads++ === 0) throw new UnknownTopicError(name, `topic "${name}" is not available: UNKNOWN_TOPIC_OR_PARTITION`, {}, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        known.set(name, topicInfo(name));
        return known.get(name)!;
      },
      prefetch: () => undefined,
      reconnectReason: () => undefined,
      fetchReason: () => undefined,
    } as unknown as TopicRegistry;
    const sends = new WaitingSends({
      workers: { started: true },
      connect: () => Promise.resolve(),
      registry,
      transactions: { addPartition: () => new Promise<void>(() => undefined) } as never, // the coordinator never answers
      partition: () => 0,
      admitted: (waiting) => log.push(`admitted ${waiting.seq}`),
      failed: (waiting, error) => log.push(`failed ${waiting.seq}: ${error.message}`),
    });
    sends.push(send('a', 1));
    sends.push(send('a', 2));
    const controller = new AbortController();
    sends.push({ ...send('a', 3), signal: controller.signal });
    await turns();
    controller.abort();
    assert.deepEqual(log, [
      'failed 1: topic "a" is not available: UNKNOWN_TOPIC_OR_PARTITION',
      // Send 2 waits for its partition's place in the transaction, with the topic known: nothing of its metadata to tell.
      'failed 3: aborted while waiting for the connection or topic metadata',
    ]);
  });

  it("a send waiting for its partition's place in the transaction fails at its own deadline; the add goes on", { timeout: 30_000 }, async () => {
    // AddPartitionsToTxn (protocol v1) was awaited with no deadline: its call waits out requestTimeoutMs on an
    // attempt already sent, and later adds joining it move its deadline on, so the send outlived bufferTimeoutMs.
    const adds: string[] = [];
    const { sends, log, connect, learn } = waitingSends({
      addPartition: (topic, partition) => {
        adds.push(`${topic}-${partition}`);
        return new Promise(() => undefined); // the coordinator does not answer
      },
    });
    connect();
    learn('a');
    sends.push(send('a', 1, Date.now() + 20));
    while (log.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(adds, ['a-0']);
    assert.deepEqual(log, [
      "failed 1: the partition's place in the transaction (AddPartitionsToTxn for a-0) was not ready within bufferTimeoutMs",
    ]);
  });

  it('a send whose attempt failed while the producer closed fails as closed, with why the attempt failed', async () => {
    // The attempt the send waited for fails; the producer has begun to close, so the send's next try is refused.
    const attempts = [
      new ConnectionError('connecting to 127.0.0.1:1 failed: connect ECONNREFUSED 127.0.0.1:1'),
      new ProducerClosedError('not-sent', 'the producer is closed'),
    ];
    const { sends, errors, lastFailure } = waitingSends(undefined, () => Promise.reject(attempts.shift()));
    lastFailure.reason = 'connecting to 127.0.0.1:1 failed: connect ECONNREFUSED 127.0.0.1:1';
    sends.push(send('a', 1));
    // The send pauses (a real 100 ms timer) between the two attempts.
    for (let i = 0; i < 500 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(attempts.length, 0, 'both attempts were made');
    const [error] = errors;
    assert.ok(error instanceof ProducerClosedError && error.delivery === 'not-sent');
    // Not "the producer is closed", which is said to a call made after close.
    assert.equal(error.message, 'the producer closed while the record waited for the connection; its last attempt failed: '
      + 'connecting to 127.0.0.1:1 failed: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('close fails the waiting sends with why each topic\'s sends still wait', async () => {
    const { sends, log, lastFailure } = waitingSends();
    lastFailure.reason = 'connect ECONNREFUSED 127.0.0.1:1';
    sends.push(send('a', 1));
    await turns();
    sends.failAll((why) => new Error(`closed while waiting; ${why}`));
    await turns();
    assert.deepEqual(log, ['failed 1: closed while waiting; connect ECONNREFUSED 127.0.0.1:1']);
  });
});
