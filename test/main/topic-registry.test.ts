/**
 * The main thread's topic registry against the in-process fake broker, for what a healthy broker will not do on
 * demand: stay silent on Metadata (each waiting send must fail at its own bufferTimeoutMs, not one
 * requestTimeoutMs after the other; the wait is bounded only by the test's timeout, a hang detector), change a
 * topic's partition count or leaders between two answers, or answer nonsense. No test waits on time: each waits
 * for an answer of the broker or for a refresh it asked for.
 */
import assert from 'node:assert/strict';
import { describe, it, test, type TestContext } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import { TopicRegistry, type RegistrySettings } from '../../src/main/topic-registry.js';
import { UnknownTopicError } from '../../src/shared/producer-errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';
import { trackTimers } from '../helpers/timers.js';

test('sends queued for a topic whose Metadata never comes each fail at their own bufferTimeoutMs, on one Metadata request', { timeout: 20_000 }, async () => {
  const broker = await FakeBroker.start(1);
  const producer = new Producer({ brokers: [broker.address], workers: 1, bufferTimeoutMs: 200, requestTimeoutMs: 60_000, deliveryTimeoutMs: 120_000 });
  let metadataRequests = 0;
  try {
    await producer.connect();
    broker.tamper = (apiKey, frame) => {
      if (apiKey !== FAKE_API.metadata) return frame;
      metadataRequests++;
      return null; // silence: the request would time out only after requestTimeoutMs
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => producer.send({ topic: 'silent', value: `${i}` })));
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.ok(result.reason instanceof UnknownTopicError, String(result.reason));
    }
    assert.equal(metadataRequests, 1, 'the waiting sends shared one Metadata request');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a trySend loop on a topic that does not exist makes no timer per call, and shares one fetch', { timeout: 20_000 }, async (t) => {
  const broker = await FakeBroker.start(1, (topic) => topic.startsWith('missing'));
  const producer = new Producer({ brokers: [broker.address], workers: 1, bufferTimeoutMs: 60_000 });
  try {
    await producer.connect();
    // Timers of at least a minute: the per-call wait that each trySend used to make (the fetch's pauses are shorter).
    const callerTimers = trackTimers(t, 60_000);
    for (let i = 0; i < 1000; i++) assert.equal(producer.trySend({ topic: 'missing', value: `${i}` }), false);
    assert.equal(callerTimers.size, 0, 'no timer of a caller');
    const metadataRequests = broker.requests.filter((request) => request.apiKey === FAKE_API.metadata).length;
    assert.ok(metadataRequests <= 2, `the calls share one fetch (${metadataRequests} Metadata requests)`);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('sends queued for a topic that does not exist share one fetch until the last deadline, not one Metadata request each', { timeout: 20_000 }, async () => {
  const broker = await FakeBroker.start(1, (topic) => topic.startsWith('missing'));
  // A retry backoff of 100 ms doubling: in the 300 ms of the sends' deadlines a shared fetch asks three or four times.
  const producer = new Producer({ brokers: [broker.address], workers: 1, bufferTimeoutMs: 300, retryBackoffMs: 100 });
  try {
    await producer.connect();
    const from = broker.requests.length;
    // A few milliseconds apart, so each has its own deadline: the fetch must run until the last.
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      sends.push(producer.send({ topic: 'missing', value: `${i}` }));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const results = await Promise.allSettled(sends);
    for (const result of results) assert.ok(result.status === 'rejected' && result.reason instanceof UnknownTopicError, String(result));
    const metadataRequests = broker.requests.slice(from).filter((request) => request.apiKey === FAKE_API.metadata).length;
    // Each send after the first that gave up started a fetch of its own, whose first request went out at once.
    assert.ok(metadataRequests <= 10, `${metadataRequests} Metadata requests for 50 sends`);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a send to a partition added since the last refresh waits for one refresh and is delivered; one still beyond the count is refused', { timeout: 20_000 }, async (t) => {
  const broker = await FakeBroker.start(2, undefined, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  try {
    await producer.send({ topic: 'growing', partition: 1, value: 'warm' });
    broker.partitionCount = 4; // an admin added two partitions; the producer's view is five minutes from its refresh
    // Refused at once before, "must be an integer from 0 to 1", until the next refresh: by sendBatch first, then
    // (two more added) by send.
    const results = await producer.sendBatch([
      { topic: 'growing', partition: 2, value: 'from a batch' },
      { topic: 'growing', partition: 9, value: 'no such partition' },
    ]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected']);
    const beyond = results[1] as PromiseRejectedResult;
    assert.match(String(beyond.reason), /record\.partition must be an integer from 0 to 3/);
    broker.partitionCount = 6;
    const added = await producer.send({ topic: 'growing', partition: 5, value: 'new partition' });
    assert.equal(added.partition, 5);
    // trySend still refuses such a record at once, and asks for the refresh a later call will see: one for the lot,
    // not a wait (a timer) per call.
    broker.partitionCount = 7;
    let timers = 0;
    const realSetTimeout = globalThis.setTimeout;
    t.mock.method(globalThis, 'setTimeout', (callback: () => void, ms?: number) => {
      timers++;
      return realSetTimeout(callback, ms);
    });
    for (let i = 0; i < 1000; i++) assert.throws(() => producer.trySend({ topic: 'growing', partition: 6, value: `${i}` }), /record\.partition/);
    t.mock.restoreAll();
    assert.ok(timers <= 2, `${timers} timers for 1,000 calls`);
    const later = await producer.send({ topic: 'growing', partition: 6, value: 'seen by a later call' });
    assert.equal(later.partition, 6);
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a send to a partition added since the last refresh is not refused on a refresh that failed: it waits for one that is answered', { timeout: 20_000 }, async () => {
  const broker = await FakeBroker.start(2, undefined, { autoAck: true });
  // A short request timeout: the refresh that gets no answer fails in a moment.
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, requestTimeoutMs: 1000 });
  try {
    await producer.send({ topic: 'growing', partition: 1, value: 'warm' });
    broker.partitionCount = 4;
    let silenced = 0;
    broker.tamper = (apiKey, frame) => {
      if (apiKey !== FAKE_API.metadata || silenced > 0) return frame;
      silenced++;
      return null; // the first refresh gets no answer and times out
    };
    // Refused after the failed refresh before, as "must be an integer from 0 to 1": the topic was said to have the
    // two partitions the producer knew of, when nobody had answered how many it has.
    const sent = await producer.send({ topic: 'growing', partition: 3, value: 'new partition' });
    assert.equal(sent.partition, 3);
    assert.equal(silenced, 1, 'the first refresh went unanswered');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

test('a topic idle for metadataMaxIdleMs leaves every refresh, main thread and worker, and its next record is still delivered', { timeout: 40_000 }, async () => {
  const broker = await FakeBroker.start(1, undefined, { autoAck: true });
  // Refreshes every 300 ms; 5 s, the least metadataMaxIdleMs may be, without a record to 'quiet'.
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, metadataMaxAgeMs: 300, metadataMaxIdleMs: 5000 });
  try {
    await producer.send({ topic: 'quiet', value: 'first' });
    // Until four refreshes in a row, the main thread's and the worker's (each every 300 ms), ask for 'busy' alone;
    // with either view keeping 'quiet', that never comes, and the wait gives up long after 5 s.
    const onlyBusy = (): boolean => {
      const recent = broker.metadataTopics.slice(-4);
      return recent.length === 4 && recent.every((topics) => topics.length === 1 && topics[0] === 'busy');
    };
    for (const giveUpAt = Date.now() + 20_000; !onlyBusy() && Date.now() < giveUpAt; ) {
      await producer.send({ topic: 'busy', value: 'tick' });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(onlyBusy(), JSON.stringify(broker.metadataTopics.slice(-6)));
    const back = await producer.send({ topic: 'quiet', value: 'again' });
    assert.equal(back.topic, 'quiet');
    assert.ok(broker.metadataTopics.slice(-3).some((topics) => topics.includes('quiet')), 'fetched again for its record');
  } finally {
    await producer.close({ timeoutMs: 1000 });
    await broker.close();
  }
});

describe('TopicRegistry: the metadata view is refreshed', () => {
  async function setup(
    t: TestContext, overrides: Partial<RegistrySettings> = {}, missing?: (topic: string) => boolean, metadataVersion: 1 | 13 = 1,
  ): Promise<{ broker: FakeBroker; registry: TopicRegistry }> {
    const broker = await FakeBroker.start(2, missing, { metadataVersion });
    t.after(() => broker.close());
    const [host, port] = broker.address.split(':');
    const registry = new TopicRegistry({
      brokers: [{ host: host!, port: Number(port) }],
      clientId: 'topic-registry-test',
      requestTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      retryBackoffMs: 10,
      retryBackoffMaxMs: 100,
      reconnectBackoffMs: 10,
      reconnectBackoffMaxMs: 100,
      // An hour: only the refreshes a test asks for, unless it sets a short age itself.
      metadataMaxAgeMs: 3_600_000,
      metadataMaxIdleMs: 3_600_000,
      tls: null,
      sasl: null,
      ...overrides,
    });
    t.after(() => registry.close());
    return { broker, registry };
  }

  it('partitions added to the topic are seen by the next refresh, under the same topic index', async (t) => {
    const { broker, registry } = await setup(t);
    const first = await registry.load('grows', { timeoutMs: 10_000 });
    assert.deepEqual([first.partitionCount, first.available], [2, [0, 1]]);
    broker.partitionCount = 5;
    await registry.refresh();
    const grown = registry.get('grows')!;
    assert.deepEqual([grown.index, grown.partitionCount, grown.available], [first.index, 5, [0, 1, 2, 3, 4]]);
    assert.equal(registry.byIndex(first.index), grown);
  });

  it('an answer with fewer partitions under the same topic id (a broker behind the others) is not taken; a topic created again is', async (t) => {
    const { broker, registry } = await setup(t, {}, undefined, 13);
    broker.partitionCount = 8;
    const first = await registry.load('lagged', { timeoutMs: 10_000 });
    assert.equal(first.partitionCount, 8);
    broker.partitionCount = 4; // the answer of a broker whose view is older
    await registry.refresh();
    assert.equal(registry.get('lagged'), first, 'keyed records still hash over 8 partitions');
    broker.topicIdByte = 8; // deleted and created again with 4 partitions: a new topic id
    await registry.refresh();
    assert.deepEqual([registry.get('lagged')!.index, registry.get('lagged')!.partitionCount], [first.index, 4]);
    broker.partitionCount = 6; // partitions added to it later are still seen
    await registry.refresh();
    assert.equal(registry.get('lagged')!.partitionCount, 6);
  });

  it('a topic every refresh for 30 s has said does not exist is forgotten: its next send waits for its metadata', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    // The refresh timers' delays, as armed (the max age here is an hour; requests time out after 10 s).
    const armed: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    t.mock.method(globalThis, 'setTimeout', (callback: () => void, ms?: number) => {
      if ((ms ?? 0) > 10_000) armed.push(ms!);
      return realSetTimeout(callback, ms);
    });
    let deleted = false;
    const { registry } = await setup(t, {}, (topic) => deleted && topic === 'doomed');
    const first = await registry.load('doomed', { timeoutMs: 10_000 });
    deleted = true;
    armed.length = 0;
    await registry.refresh();
    assert.equal(registry.get('doomed'), first, 'one answer may come from a broker catching up: kept');
    // Not the max age: refreshed only then, a deleted topic was forgotten five to ten minutes after (by default).
    assert.deepEqual(armed, [30_000], 'asked again once it may count as deleted');
    t.mock.timers.tick(29_999);
    await registry.refresh();
    assert.equal(registry.get('doomed'), first, 'kept for 30 s of such answers');
    t.mock.timers.tick(1);
    await registry.refresh();
    // Kept, each send to it was accepted and held its bytes until its delivery timeout.
    assert.equal(registry.get('doomed'), undefined, 'forgotten');
    deleted = false; // created again
    const back = await registry.load('doomed', { timeoutMs: 10_000 });
    assert.equal(back.index, first.index, 'under its own index');
  });

  it('an answer that lists the topic again starts the 30 s over', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    let deleted = false;
    const { registry } = await setup(t, {}, (topic) => deleted && topic === 'flaky');
    const first = await registry.load('flaky', { timeoutMs: 10_000 });
    deleted = true;
    await registry.refresh();
    t.mock.timers.tick(20_000);
    deleted = false;
    await registry.refresh();
    deleted = true;
    t.mock.timers.tick(20_000);
    await registry.refresh();
    assert.equal(registry.get('flaky'), first, 'unknown for 20 s only');
  });

  it('an all-zero topic id is no id: fewer partitions are taken (a cluster whose metadata predates topic ids)', async (t) => {
    const { broker, registry } = await setup(t, {}, undefined, 13);
    broker.topicIdByte = 0;
    broker.partitionCount = 8;
    await registry.load('no-ids', { timeoutMs: 10_000 });
    broker.partitionCount = 4; // deleted and created again with fewer: nothing tells it from a lagging answer
    await registry.refresh();
    assert.equal(registry.get('no-ids')!.partitionCount, 4);
  });

  it('a partition without a leader leaves `available` and comes back with one; an unchanged answer keeps the object', async (t) => {
    const { broker, registry } = await setup(t);
    await registry.load('leaders', { timeoutMs: 10_000 });
    broker.partitionCount = 3;
    broker.leaderOf = (_, partition) => (partition === 1 ? -1 : 1);
    await registry.refresh();
    const without = registry.get('leaders')!;
    assert.deepEqual([without.partitionCount, without.available], [3, [0, 2]]);
    await registry.refresh();
    assert.equal(registry.get('leaders'), without, 'nothing changed: same object (the partitioner rescans per array)');
    broker.leaderOf = undefined;
    await registry.refresh();
    assert.deepEqual(registry.get('leaders')!.available, [0, 1, 2]);
  });

  it('a partition whose leader the answer\'s broker list does not name is left out of `available`, on first load and on refresh', async (t) => {
    const { broker, registry } = await setup(t);
    // Node 7 leads partition 1, and the answer lists node 1 only: no connection to it can be made, as with no leader.
    broker.partitionCount = 3;
    broker.leaderOf = (_, partition) => (partition === 1 ? 7 : 1);
    const loaded = await registry.load('unlisted', { timeoutMs: 10_000 });
    assert.deepEqual([loaded.partitionCount, loaded.available], [3, [0, 2]]);
    broker.leaderOf = undefined;
    await registry.refresh();
    assert.deepEqual(registry.get('unlisted')!.available, [0, 1, 2]);
    broker.leaderOf = (_, partition) => (partition === 2 ? 9 : 1);
    await registry.refresh();
    assert.deepEqual(registry.get('unlisted')!.available, [0, 1]);
  });

  it('topics asked for in the same turn are fetched in one Metadata request, each caller getting its own topic', async (t) => {
    const { broker, registry } = await setup(t, {}, (topic) => topic === 'absent');
    await registry.load('first', { timeoutMs: 10_000 }); // connected: what follows is the fetches alone
    const before = broker.metadataTopics.length;
    const names = Array.from({ length: 300 }, (_, i) => `many-${i}`);
    const absent = registry.load('absent', { timeoutMs: 500 });
    const loaded = await Promise.all(names.map((name) => registry.load(name, { timeoutMs: 10_000 })));
    assert.deepEqual(loaded.map((info) => info.name), names);
    // One request per topic before: 301 requests, five at a time on the one bootstrap connection.
    assert.deepEqual([...broker.metadataTopics[before]!].sort(), ['absent', ...names].sort());
    // A topic the answer says is unknown fails alone, retried on its own until its deadline.
    await assert.rejects(absent, (error: unknown) => error instanceof UnknownTopicError && error.topic === 'absent');
    assert.ok(broker.metadataTopics.slice(before + 1).every((asked) => asked.length === 1 && asked[0] === 'absent'));
  });

  it('a topic the answer reports with an error keeps its last view', async (t) => {
    let deleted = false;
    const { registry } = await setup(t, {}, () => deleted);
    const before = await registry.load('deleted', { timeoutMs: 10_000 });
    deleted = true;
    await registry.refresh();
    assert.equal(registry.get('deleted'), before);
  });

  it('a refresh answered with nonsense keeps the whole view and does not reject; the next honest one applies', async (t) => {
    const { broker, registry } = await setup(t);
    await registry.load('hostile', { timeoutMs: 10_000 });
    broker.partitionCount = 4;
    broker.tamper = (apiKey, frame) => {
      if (apiKey !== FAKE_API.metadata) return frame;
      const bad = Buffer.from(frame);
      // The first partition's partition_index (Metadata v1 layout, see test/workers/cluster-view.test.ts).
      bad.writeInt32BE(50_000_000, bad.indexOf(Buffer.from('hostile')) + 'hostile'.length + 1 + 4 + 2);
      return bad;
    };
    await registry.refresh();
    assert.equal(registry.get('hostile')!.partitionCount, 2);
    broker.tamper = undefined;
    await registry.refresh();
    assert.equal(registry.get('hostile')!.partitionCount, 4);
  });

  it('REBOOTSTRAP_REQUIRED (KIP-1102): nothing is applied, and the next attempt opens a connection afresh', async (t) => {
    const { broker, registry } = await setup(t, {}, undefined, 13);
    let rebootstraps = 1; // the first answer asks for it, then the broker answers as usual
    broker.metadataError = ErrorCode.REBOOTSTRAP_REQUIRED;
    broker.tamper = (apiKey, frame) => {
      if (apiKey === FAKE_API.metadata && --rebootstraps === 0) broker.metadataError = 0; // from the next answer on
      return frame;
    };
    const loaded = await registry.load('rebootstrap', { timeoutMs: 10_000 });
    assert.deepEqual([loaded.partitionCount, loaded.available], [2, [0, 1]]);
    assert.equal(broker.connections, 2, 'the connection that answered REBOOTSTRAP_REQUIRED was not asked again');

    rebootstraps = 1;
    broker.metadataError = ErrorCode.REBOOTSTRAP_REQUIRED;
    broker.partitionCount = 3;
    await registry.refresh();
    assert.equal(registry.get('rebootstrap'), loaded, 'the view is kept');
    await registry.refresh();
    assert.equal(registry.get('rebootstrap')!.partitionCount, 3);
    assert.equal(broker.connections, 3);
  });

  it('a topic the broker does not allow: UnknownTopicError carries TOPIC_AUTHORIZATION_FAILED and is not retriable', async (t) => {
    const { broker, registry } = await setup(t, {}, (topic) => topic === 'not-allowed');
    broker.tamper = (apiKey, frame) => {
      if (apiKey !== FAKE_API.metadata) return frame;
      // Metadata v1 topic entry: error_code, then the name (int16 length, bytes): 3 becomes 29.
      const refused = Buffer.from(frame);
      refused.writeInt16BE(ErrorCode.TOPIC_AUTHORIZATION_FAILED, refused.indexOf(Buffer.from('not-allowed')) - 4);
      return refused;
    };
    await assert.rejects(registry.load('not-allowed', { timeoutMs: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof UnknownTopicError);
      assert.deepEqual([error.errorCode, error.retriable], [ErrorCode.TOPIC_AUTHORIZATION_FAILED, false]);
      return true;
    });
    broker.tamper = undefined;
    // A topic merely missing stays retriable.
    // A second is ample for the answer (a 50 ms limit could expire first, and then the test proved nothing).
    await assert.rejects(registry.load('not-allowed', { timeoutMs: 1_000 }), (error: unknown) => {
      assert.ok(error instanceof UnknownTopicError);
      assert.deepEqual([error.errorCode, error.retriable], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, true]);
      // Said in words too: the code alone left a caller to guess why a send to a new topic never went.
      assert.match(error.message, /"not-allowed" is not available: UNKNOWN_TOPIC_OR_PARTITION \(the topic does not exist and the broker did not create it: auto\.create\.topics\.enable is off, /);
      return true;
    });
  });

  it('a topic answered with no partitions and no error: UnknownTopicError says so (not "NONE"), and stays retriable', async (t) => {
    const { broker, registry } = await setup(t);
    broker.partitionCount = 0;
    await assert.rejects(registry.load('empty', { timeoutMs: 1_000 }), (error: unknown) => {
      assert.ok(error instanceof UnknownTopicError);
      assert.match(error.message, /"empty" is not available: the answer lists no partitions for it$/);
      assert.deepEqual([error.topic, error.errorCode, error.retriable], ['empty', 0, true]);
      return true;
    });
    // Once the partitions exist, the same topic loads.
    broker.partitionCount = 2;
    assert.equal((await registry.load('empty', { timeoutMs: 10_000 })).partitionCount, 2);
  });

  it('refreshes on its own once the view is metadataMaxAgeMs old', async (t) => {
    const { broker, registry } = await setup(t, { metadataMaxAgeMs: 20 });
    await registry.load('aging', { timeoutMs: 10_000 });
    broker.partitionCount = 3;
    // The second answer is asked for only after the first was applied (the timer is re-armed after it).
    await broker.answers(FAKE_API.metadata, 2);
    assert.equal(registry.get('aging')!.partitionCount, 3);
  });

  it('a topic no record was placed on for metadataMaxIdleMs is forgotten: refreshes stop asking for it, and it comes back under its index', async (t) => {
    const { broker, registry } = await setup(t, { metadataMaxIdleMs: 500 });
    const idle = await registry.load('idle', { timeoutMs: 10_000 });
    const busy = await registry.load('busy', { timeoutMs: 10_000 });
    registry.get('busy'); // a record placed on it
    await registry.refresh();
    assert.deepEqual([...broker.metadataTopics.at(-1)!].sort(), ['busy', 'idle'], 'both are young yet');
    await new Promise((resolve) => setTimeout(resolve, 600));
    // The topic of the last lookup again: it must count as used since the refresh, which cleared the shortcut.
    registry.get('busy');
    await registry.refresh();
    assert.deepEqual(broker.metadataTopics.at(-1), ['busy'], 'the refresh asks only for the topic in use');
    assert.equal(registry.get('idle'), undefined, 'forgotten: its next record fetches it again');
    assert.equal(registry.get('busy')?.index, busy.index);
    assert.equal(registry.byIndex(idle.index)?.name, 'idle', 'results of its last records still name it');

    const back = await registry.load('idle', { timeoutMs: 10_000 });
    assert.equal(back.index, idle.index, 'the workers know it by the same index');
    assert.deepEqual(broker.metadataTopics.at(-1), ['idle'], 'fetched again, as the first time');
  });

  it('at the limit of distinct topics, a forgotten one still comes back (under its own index, which takes no room)', async (t) => {
    const { registry } = await setup(t, { metadataMaxIdleMs: 300, maxTopics: 2 });
    const a = await registry.load('a', { timeoutMs: 10_000 });
    await registry.load('b', { timeoutMs: 10_000 });
    await assert.rejects(registry.load('c', { timeoutMs: 10_000 }), (error: Error & { code?: string }) => error.code === 'ERR_TOO_MANY_TOPICS');
    await new Promise((resolve) => setTimeout(resolve, 400));
    registry.get('b');
    await registry.refresh(); // forgets 'a'
    assert.equal(registry.get('a'), undefined);
    assert.equal((await registry.load('a', { timeoutMs: 10_000 })).index, a.index);
  });

  it('callers asking for the connection at once share one: one socket, closed by close()', async (t) => {
    const { broker, registry } = await setup(t);
    // Each used to open its own, and only the last was kept (and closed): the others stayed open.
    const connections = await Promise.all(Array.from({ length: 4 }, () => registry.connection()));
    assert.equal(new Set(connections).size, 1, 'one connection for every caller');
    assert.equal(broker.connections, 1);
    await registry.close();
    assert.ok(connections[0]!.isClosed);
    // A closed connection is replaced once, however many ask.
    const { broker: second, registry: other } = await setup(t);
    const first = await other.connection();
    await first.close();
    const again = await Promise.all(Array.from({ length: 4 }, () => other.connection()));
    assert.equal(new Set(again).size, 1);
    assert.notEqual(again[0], first);
    assert.equal(second.connections, 2);
  });

  it("one caller's abort fails only its own wait for the shared connection", async (t) => {
    const { broker, registry } = await setup(t);
    let release: (() => void) | undefined;
    broker.tamper = (apiKey, frame, _nth, write) => {
      if (apiKey !== FAKE_API.apiVersions || release !== undefined) return frame;
      release = () => write(frame); // the handshake waits until both callers are waiting
      return null;
    };
    const abort = new AbortController();
    const first = registry.connection();
    const second = registry.connection(abort.signal);
    const third = registry.connection(abort.signal);
    abort.abort();
    // Before, a caller that found an attempt under way waited for it whatever its own signal said.
    await assert.rejects(second, { name: 'AbortError' });
    await assert.rejects(third, { name: 'AbortError' });
    while (release === undefined) await new Promise((resolve) => setImmediate(resolve));
    release();
    assert.equal((await first).isClosed, false, 'the caller without a signal still gets the connection');
  });

  it('with a retryBackoffMs of 0, a topic the first answer did not have is asked for again at once, not given up', async (t) => {
    // The loop's pause was the backoff capped by the deadline, and a pause of 0 read as "no time left".
    let answers = 0;
    const { registry } = await setup(t, { retryBackoffMs: 0, retryBackoffMaxMs: 0 }, (topic) => topic === 'late' && answers++ === 0);
    const info = await registry.load('late', { timeoutMs: 60_000 });
    assert.equal(info.name, 'late');
    assert.equal(answers, 2, 'missing from the first answer, there in the second');
  });

  it('with a retryBackoffMs of 0, a fetch stops asking once its deadline has passed', async (t) => {
    // With no pause between attempts, nothing checked the deadline: the fetch asked, answer after answer, until the
    // topic came or the producer closed, long after every caller had given up.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const start = Date.now();
    let answers = 0;
    const { broker, registry } = await setup(t, { retryBackoffMs: 0, retryBackoffMaxMs: 0 }, (topic) => {
      if (topic === 'never' && ++answers === 3) t.mock.timers.setTime(start + 120_000); // the deadline passes
      return topic === 'never';
    });
    const loading = registry.load('never', { timeoutMs: 60_000 });
    const tooMany = broker.answers(FAKE_API.metadata, 10).then(() => 'still asking');
    assert.equal(await Promise.race([loading.then(() => 'loaded', (error: Error) => error.name), tooMany]), 'UnknownTopicError');
    assert.equal(answers, 3, 'no attempt after the deadline');
  });

  it('close cuts short the backoff between metadata attempts: no timer of it is left', async (t) => {
    const live = trackTimers(t);
    const { broker, registry } = await setup(t, { retryBackoffMs: 60_000, retryBackoffMaxMs: 60_000 }, (topic) => topic === 'never');
    const loading = registry.load('never', { timeoutMs: 120_000 });
    loading.catch(() => undefined);
    await broker.answers(FAKE_API.metadata, 1); // refused once: the fetch now waits a minute before the next try
    await registry.close();
    assert.equal(live.size, 0, 'the backoff timer went with close (it kept a closed producer\'s process alive)');
    await assert.rejects(loading, UnknownTopicError);
  });

  it('close releases every timer it armed (the max-age timer included) and the refreshes stop', async (t) => {
    const live = trackTimers(t);
    const { registry } = await setup(t);
    await registry.load('closing', { timeoutMs: 10_000 });
    await registry.refresh(); // re-arms the (hour-long) max-age timer
    assert.equal(live.size, 1, 'the max-age timer is armed, once');
    await registry.close();
    assert.equal(live.size, 0, 'no timer left after close');
    await registry.refresh();
    assert.equal(live.size, 0, 'a refresh after close arms nothing');
  });
});
