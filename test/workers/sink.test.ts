/**
 * What Sink does with a Produce answer that a single local broker never gives: NOT_LEADER_OR_FOLLOWER with the
 * KIP-951 current_leader and node_endpoints (Produce v10+; their decoding is checked byte by byte in
 * test/protocol/apis/produce.test.ts). The cluster view is real (its Metadata from the fake broker); only the
 * Produce exchange is a stand-in connection that answers with the decoded response. Also a Produce v13 answer, which
 * names topics by id only, leaving one batch out (a real broker never does): each batch finds its own topic's answer,
 * and the one left out is lost.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Connection } from '../../src/net/connection.js';
import type { ProducePartitionResponse, ProduceResponse } from '../../src/protocol/apis/produce.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import type { Batch } from '../../src/workers/batch.js';
import { ClusterView } from '../../src/workers/cluster-view.js';
import { Sink, type Outgoing, type PartitionOutcome } from '../../src/workers/sink.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { ConnectionError, ProtocolError, RequestNotSentError, UnsupportedVersionError } from '../../src/shared/errors.js';

const TOPIC = 'moving-leader';

async function viewAnswering(t: TestContext, response: ProduceResponse, produceVersion = 13): Promise<ClusterView> {
  const broker = await FakeBroker.start(1);
  t.after(() => broker.close());
  const view = new ClusterView([broker.address], {
    clientId: 'sink-test', requestTimeoutMs: 10_000, connectTimeoutMs: 10_000, maxInFlight: 5, tls: null, sasl: null,
    retryBackoffMs: 100, retryBackoffMaxMs: 1000, reconnectBackoffMs: 50, reconnectBackoffMaxMs: 1000, metadataMaxAgeMs: 3_600_000,
  });
  t.after(() => view.close());
  await view.refresh(TOPIC);
  const connection = { request: () => Promise.resolve(response), close: () => Promise.resolve(), versionFor: () => produceVersion } as unknown as Connection;
  view.connection = () => Promise.resolve(connection);
  return view;
}

function partition(fields: Partial<ProducePartitionResponse>): ProducePartitionResponse {
  return {
    index: 0, errorCode: 0, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], recordErrorsCut: 0,
    errorMessage: null, currentLeader: null, ...fields,
  };
}

/**
 * Sends one batch for partition 0 and resolves with its outcome, the leaders the view had at that moment, and whether
 * the sink could send again at once. The sink is closed when the test ends: a throttle's timer (a minute) kept the
 * file's process alive until it fired.
 */
function sendOne(t: TestContext, view: ClusterView): Promise<{ outcome: PartitionOutcome; leaders: readonly number[] | undefined; canSendNow: boolean }> {
  return new Promise((resolve, reject) => {
    const sink: Sink = new Sink(1, view, { acks: -1, requestTimeoutMs: 10_000, maxInFlight: 5, transactionalId: null, maxProduceVersion: 13 }, {
      answered: (_, outcome) => resolve({ outcome, leaders: view.topic(TOPIC)?.leaders, canSendNow: sink.canSend(Date.now()) }),
      lost: (_, error) => reject(error),
      ready: () => undefined,
      unreachable: () => undefined,
      throttled: () => undefined,
      inFlight: () => undefined,
    });
    t.after(() => sink.close());
    const batch = { recordIds: Uint32Array.of(1), bytes: Buffer.from('a record batch') } as unknown as Batch;
    const outgoing: Outgoing = { topic: TOPIC, topicId: new Uint8Array(16), partition: 0, batch };
    sink.send([outgoing]);
  });
}

describe('Sink: KIP-951 current_leader', () => {
  it('NOT_LEADER_OR_FOLLOWER with a newer leader: the view leads to it before the outcome is reported', async (t) => {
    const view = await viewAnswering(t, {
      responses: [{
        name: TOPIC, topicId: null,
        partitionResponses: [partition({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: 2, leaderEpoch: 3 } })],
      }],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: '127.0.0.1', port: 1, rack: null }],
    });
    const { outcome, leaders } = await sendOne(t, view);
    assert.equal(outcome.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.deepEqual(leaders, [2]);
  });

  it('an answer without a hint leaves the leader alone', async (t) => {
    const view = await viewAnswering(t, {
      responses: [{ name: TOPIC, topicId: null, partitionResponses: [partition({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER })] }],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    });
    const { outcome, leaders } = await sendOne(t, view);
    assert.equal(outcome.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.deepEqual(leaders, [1]);
  });
});

describe('Sink: an answer no broker can give', () => {
  it('an error code below -1 (the producer\'s own codes) is a broken answer: the batch is lost, like an unanswered one, not failed', async (t) => {
    // Passed on, -1005 read on the main thread as "the producer closed", and failed 'not-sent' a batch that an
    // earlier, unanswered attempt may have written.
    for (const errorCode of [-1005, -1001, -2]) {
      const view = await viewAnswering(t, {
        responses: [{ name: TOPIC, topicId: null, partitionResponses: [partition({ errorCode })] }],
        throttleTimeMs: 0,
        nodeEndpoints: [],
      });
      await assert.rejects(sendOne(t, view), (error: Error) => error instanceof ProtocolError && error.message.includes(`error_code ${errorCode}`));
    }
  });
});

describe('Sink: throttling (KIP-219)', () => {
  const throttled: ProduceResponse = {
    responses: [{ name: TOPIC, topicId: null, partitionResponses: [partition({ baseOffset: 7n })] }],
    throttleTimeMs: 60_000,
    nodeEndpoints: [],
  };

  it('from Produce v6 the client waits out throttle_time_ms: nothing more goes before it is over', async (t) => {
    const { outcome, canSendNow } = await sendOne(t, await viewAnswering(t, throttled, 6));
    assert.equal(outcome.baseOffset, 7);
    assert.equal(canSendNow, false);
  });

  it('before v6 the broker already held its answer back for the throttle time: the client does not wait again', async (t) => {
    const { outcome, canSendNow } = await sendOne(t, await viewAnswering(t, throttled, 5));
    assert.equal(outcome.baseOffset, 7);
    assert.equal(canSendNow, true);
  });
});

describe('Sink: answers by topic id (Produce v13)', () => {
  it('matches each batch to its topic\'s answer by id when the answer names no topic; a batch without one is lost', async (t) => {
    const idA = new Uint8Array(16).fill(0xa1);
    const idB = new Uint8Array(16).fill(0xb2);
    const idC = new Uint8Array(16).fill(0xc3);
    const view = await viewAnswering(t, {
      responses: [
        { name: null, topicId: idB, partitionResponses: [partition({ index: 0, baseOffset: 200n }), partition({ index: 1, baseOffset: 210n })] },
        { name: null, topicId: idA, partitionResponses: [partition({ index: 0, baseOffset: 100n })] },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    });
    const answered = new Map<string, number>();
    const lost: string[] = [];
    const items: Outgoing[] = [
      { topic: 'a', topicId: Uint8Array.from(idA), partition: 0 },
      { topic: 'b', topicId: idB, partition: 1 },
      { topic: 'b', topicId: idB, partition: 0 },
      { topic: 'c', topicId: idC, partition: 0 },
    ].map((item) => ({ ...item, batch: { recordIds: Uint32Array.of(1), bytes: Buffer.from('a record batch') } as unknown as Batch }));
    await new Promise<void>((resolve) => {
      const settled = (): void => {
        if (answered.size + lost.length === items.length) resolve();
      };
      const sink = new Sink(1, view, { acks: -1, requestTimeoutMs: 10_000, maxInFlight: 5, transactionalId: null, maxProduceVersion: 13 }, {
        answered: (item, outcome) => {
          answered.set(`${item.topic}-${item.partition}`, outcome.baseOffset);
          settled();
        },
        lost: (item) => {
          lost.push(`${item.topic}-${item.partition}`);
          settled();
        },
        ready: () => undefined,
        unreachable: () => undefined,
        throttled: () => undefined,
        inFlight: () => undefined,
      });
      sink.send(items);
    });
    assert.deepEqual(Object.fromEntries(answered), { 'a-0': 100, 'b-1': 210, 'b-0': 200 });
    assert.deepEqual(lost, ['c-0']);
  });
});

describe('Sink: what a success carries', () => {
  const answering = (fields: Partial<ProducePartitionResponse>): ProduceResponse => ({
    responses: [{ name: TOPIC, topicId: null, partitionResponses: [partition({ baseOffset: 7n, ...fields })] }],
    throttleTimeMs: 0,
    nodeEndpoints: [],
  });

  it('the partition\'s log start offset and log append time, as answered', async (t) => {
    const view = await viewAnswering(t, answering({ logStartOffset: 2n ** 40n + 1n, logAppendTimeMs: 1_700_000_000_123n }));
    const { outcome } = await sendOne(t, view);
    assert.deepEqual(
      [outcome.baseOffset, outcome.logStartOffset, outcome.logAppendTimeMs],
      [7, 2 ** 40 + 1, 1_700_000_000_123],
    );
  });

  it('a log start offset below -1 or beyond 2^53 is no answer: the batch is lost', async (t) => {
    for (const logStartOffset of [-2n, 2n ** 53n + 2n]) {
      const view = await viewAnswering(t, answering({ logStartOffset }));
      await assert.rejects(sendOne(t, view), (error: Error) => error instanceof ProtocolError && error.message.includes(`log_start_offset ${logStartOffset}`));
    }
  });
});

describe('Sink: a Produce that never left', () => {
  it('is lost as not written (so not ambiguous); one written and unanswered is lost as written', async (t) => {
    const view = await viewAnswering(t, { responses: [], throttleTimeMs: 0, nodeEndpoints: [] });
    const connection = await view.connection(1);
    const lostAs = async (error: Error): Promise<boolean> => {
      (connection as unknown as { request: () => Promise<never> }).request = () => Promise.reject(error);
      return new Promise((resolve) => {
        const sink = new Sink(1, view, { acks: -1, requestTimeoutMs: 10_000, maxInFlight: 5, transactionalId: null, maxProduceVersion: 13 }, {
          answered: () => assert.fail('answered'),
          lost: (_, _error, written) => resolve(written),
          ready: () => undefined,
          unreachable: () => undefined,
          throttled: () => undefined,
          inFlight: () => undefined,
        });
        const batch = { recordIds: Uint32Array.of(1), bytes: Buffer.from('a record batch') } as unknown as Batch;
        sink.send([{ topic: TOPIC, topicId: new Uint8Array(16), partition: 0, batch }]);
      });
    };
    assert.equal(await lostAs(new RequestNotSentError('connection closed by the broker')), false, 'queued when the connection went');
    assert.equal(await lostAs(new UnsupportedVersionError('Produce v3 is not supported')), false, 'refused before it was written');
    assert.equal(await lostAs(new ConnectionError('connection closed by the broker')), true, 'written: the broker may have it');
  });
});

describe('Sink.connect: a batch waits for its connection unsent', () => {
  /** A sink on a stand-in view whose connection attempts the test settles by hand. */
  function sinkOnHeldView() {
    const attempts: { resolve: (c: Connection) => void; reject: (e: Error) => void }[] = [];
    let open = false;
    const view = {
      isConnected: () => open,
      connection: () => new Promise<Connection>((resolve, reject) => attempts.push({ resolve, reject })),
    } as unknown as ClusterView;
    const events: string[] = [];
    const sink = new Sink(1, view, { acks: -1, requestTimeoutMs: 10_000, maxInFlight: 5, transactionalId: null, maxProduceVersion: 13 }, {
      answered: () => assert.fail('answered'),
      lost: () => assert.fail('lost'),
      ready: () => events.push('ready'),
      unreachable: (error) => events.push(`unreachable: ${error.message}`),
      throttled: () => undefined,
      inFlight: () => undefined,
    });
    return { sink, attempts, events, setOpen: (value: boolean) => (open = value) };
  }
  const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('opens one connection however often it is asked, says ready once it is open, and opens none while it is', async () => {
    const { sink, attempts, events, setOpen } = sinkOnHeldView();
    sink.connect();
    sink.connect();
    assert.equal(attempts.length, 1, 'one attempt at a time');
    setOpen(true);
    attempts[0]!.resolve({} as Connection);
    await settled();
    assert.deepEqual(events, ['ready']);
    assert.equal(sink.isConnected, true);
    sink.connect();
    assert.equal(attempts.length, 1, 'no attempt while the connection is open');
  });

  it('says unreachable with the error when the attempt fails, keeps it, and tries again when next asked', async () => {
    const { sink, attempts, events } = sinkOnHeldView();
    sink.connect();
    attempts[0]!.reject(new ConnectionError('connect ECONNREFUSED 127.0.0.1:9'));
    await settled();
    assert.deepEqual(events, ['unreachable: connect ECONNREFUSED 127.0.0.1:9']);
    assert.equal(sink.connectFailure?.message, 'connect ECONNREFUSED 127.0.0.1:9');
    sink.connect();
    assert.equal(attempts.length, 2);
  });

  it('tells nothing once closed, and opens nothing more', async () => {
    const { sink, attempts, events } = sinkOnHeldView();
    sink.connect();
    sink.close();
    attempts[0]!.reject(new ConnectionError('the producer is closing'));
    await settled();
    sink.connect();
    assert.deepEqual(events, []);
    assert.equal(attempts.length, 1);
  });
});
