/**
 * ClusterView against the in-process fake broker, for what a healthy broker never does: a Metadata answer whose
 * numbers would size memory (a flipped byte in partition_index), connections that fail before proving
 * themselves, which must not be retried once per caller, a partition count that changes between two answers, and
 * KIP-951 leader hints naming brokers the metadata does not list. No test waits on time: each waits for an event or
 * checks a count after a round trip that is known to come later.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { ClusterView, type ConnectionSettings } from '../../src/workers/cluster-view.js';
import { BrokerError, ConnectionError, ProtocolError } from '../../src/shared/errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { Connection } from '../../src/net/connection.js';
import type { NodeEndpoint } from '../../src/protocol/apis/produce.js';
import { FAKE_API, FakeBroker, type ListedBroker } from '../helpers/fake-broker.js';
import { FakeSaslBroker } from '../helpers/fake-sasl-broker.js';
import { AuthenticationError } from '../../src/shared/producer-errors.js';
import { trackTimers } from '../helpers/timers.js';

const TOPIC = 'hostile-topic';

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    clientId: 'cluster-view-test',
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 10_000,
    maxInFlight: 5,
    tls: null,
    sasl: null,
    retryBackoffMs: 60_000,
    retryBackoffMaxMs: 60_000,
    reconnectBackoffMs: 60_000,
    reconnectBackoffMaxMs: 60_000,
    // An hour: only the refreshes a test asks for, unless it sets a short age itself.
    metadataMaxAgeMs: 3_600_000,
    ...overrides,
  };
}

async function setup(t: TestContext, overrides: Partial<ConnectionSettings> = {}): Promise<{ broker: FakeBroker; view: ClusterView }> {
  const broker = await FakeBroker.start(1);
  t.after(() => broker.close());
  const view = new ClusterView([broker.address], settings(overrides));
  t.after(() => view.close());
  return { broker, view };
}

/** A server that accepts connections and never answers (a host gone quiet), closed after the test. */
async function silentServer(t: TestContext): Promise<{ port: number; accepted: () => number }> {
  const server = net.createServer((socket) => socket.on('error', () => undefined));
  let accepted = 0;
  server.on('connection', () => accepted++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
}

/** Offset of the first partition's partition_index in the fake broker's Metadata v1 answer for TOPIC. */
function partitionIndexOffset(frame: Buffer): number {
  // topic: error_code, name, is_internal:int8, partitions count:int32, then error_code:int16, partition_index:int32
  return frame.indexOf(Buffer.from(TOPIC)) + TOPIC.length + 1 + 4 + 2;
}

describe('ClusterView: hostile Metadata', () => {
  it('a partition_index far beyond the partition count is a ProtocolError; nothing is sized by it', async (t) => {
    const { broker, view } = await setup(t);
    broker.tamper = (apiKey, frame, nth) => {
      if (apiKey !== FAKE_API.metadata || nth > 0) return frame;
      const bad = Buffer.from(frame);
      bad.writeInt32BE(50_000_000, partitionIndexOffset(bad)); // the issue saw 922746883
      return bad;
    };
    await assert.rejects(view.refresh(TOPIC), (error: unknown) => error instanceof ProtocolError && /partition_index 50000000/.test(error.message));
    assert.equal(view.topic(TOPIC), undefined, 'the bad answer left no layout behind');
    // The next refresh (an honest answer) uses a fresh connection: the one that lied is closed.
    await view.refresh(TOPIC);
    assert.deepEqual(view.topic(TOPIC)?.leaders, [1]);
    assert.equal(broker.connections, 2);
  });

  for (const [name, patch] of [
    ['negative partition_index', (frame: Buffer) => frame.writeInt32BE(-1, partitionIndexOffset(frame))],
    ['partition_index equal to the count', (frame: Buffer) => frame.writeInt32BE(1, partitionIndexOffset(frame))],
    ['leader_id below -1', (frame: Buffer) => frame.writeInt32BE(-7, partitionIndexOffset(frame) + 4)],
  ] as const) {
    it(`a ${name} is a ProtocolError`, async (t) => {
      const { broker, view } = await setup(t);
      broker.tamper = (apiKey, frame) => {
        if (apiKey !== FAKE_API.metadata) return frame;
        const bad = Buffer.from(frame);
        patch(bad);
        return bad;
      };
      await assert.rejects(view.refresh(TOPIC), ProtocolError);
      assert.equal(view.topic(TOPIC), undefined);
    });
  }
});

describe('ClusterView: connections to a broker', () => {
  it('concurrent callers share one connection attempt', async (t) => {
    const { broker, view } = await setup(t);
    await view.refresh(TOPIC);
    const before = broker.connections;
    const connections = await Promise.all(Array.from({ length: 50 }, () => view.connection(1)));
    assert.equal(new Set(connections).size, 1, 'one connection for every caller');
    assert.equal(broker.connections, before + 1);
  });

  it('after a connection that never proved itself, the next attempt backs off; every caller waits on it', async (t) => {
    const { broker, view } = await setup(t);
    await view.refresh(TOPIC);
    const first = await view.connection(1);
    const before = broker.connections;
    // The broker cuts it before any request is answered: like a protocol error right after the handshake.
    await first.close();
    const waiting = Array.from({ length: 50 }, () => view.connection(1));
    // A Metadata round trip on the other connection comes back after any connection attempt started above would
    // have been accepted: none was (reconnectBackoffMs is one minute).
    await view.refresh(TOPIC);
    assert.equal(broker.connections, before, 'no reconnect during the backoff');
    // close() ends the pause: every waiting caller is released at once, with no timer left behind.
    await view.close();
    const outcomes = await Promise.allSettled(waiting);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(outcome.reason instanceof ConnectionError);
    }
    assert.equal(broker.connections, before);
  });

  it('the pause is reconnectBackoffMs, whatever retryBackoffMs says: a retry backoff of 0 opens no connection per failure', async (t) => {
    // With the retry backoff as the pause, retryBackoffMs 0 (quick retries of a failed batch) reconnected to a broker
    // that cut every connection as fast as each one failed, hundreds of times a second.
    const { broker, view } = await setup(t, { retryBackoffMs: 0, retryBackoffMaxMs: 0 });
    await view.refresh(TOPIC);
    const first = await view.connection(1);
    const before = broker.connections;
    await first.close();
    const waiting = view.connection(1);
    waiting.catch(() => undefined);
    await view.refresh(TOPIC); // a round trip: an attempt without a pause would have been accepted by now
    assert.equal(broker.connections, before, 'no reconnect during reconnectBackoffMs (one minute)');
    await view.close();
    await assert.rejects(waiting, ConnectionError);
  });

  it('after a connection that served answers, reconnects at once', async (t) => {
    const { broker, view } = await setup(t);
    await view.refresh(TOPIC);
    const first = await view.connection(1);
    const { Metadata } = await import('../../src/protocol/apis/metadata.js');
    await first.request(Metadata, { topics: [TOPIC], allowAutoTopicCreation: false });
    assert.equal(first.proven, true);
    await first.close();
    const connected = once(broker, 'connection');
    const second = await view.connection(1);
    await connected;
    assert.notEqual(second, first);
    assert.equal(second.isClosed, false);
  });
});

describe('ClusterView: the metadata connection', () => {
  it('after a failed attempt, the next waits out reconnectBackoffMs, not only the refreshes\' 100 ms floor', async (t) => {
    // Any broker will do for metadata, and that connection was opened at every refresh after a failure, 100 ms
    // apart at most, whatever reconnectBackoffMs said.
    const backoffs = trackTimers(t, 40_000); // the pause: a minute, less its jitter (the max-age timer: 30 s here)
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.resetAndDestroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const view = new ClusterView([`127.0.0.1:${(server.address() as net.AddressInfo).port}`], settings({ retryBackoffMs: 0, retryBackoffMaxMs: 0, metadataMaxAgeMs: 30_000 }));
    t.after(() => view.close());
    await assert.rejects(view.refresh(TOPIC), ConnectionError);
    const second = view.refresh(TOPIC);
    second.catch(() => undefined);
    while (backoffs.size === 0 && connections === 1) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(connections, 1, 'no second attempt before the pause ends');
    await view.close();
    await assert.rejects(second, ConnectionError);
    assert.equal(backoffs.size, 0, 'close ended the pause');
  });
});

describe('ClusterView: whether a broker is connected', () => {
  it('isConnected says whether connection() would hand out an open connection without opening one', async (t) => {
    const { view } = await setup(t);
    await view.refresh(TOPIC);
    assert.equal(view.isConnected(1), false, 'none opened yet');
    const connection = await view.connection(1);
    assert.equal(view.isConnected(1), true);
    await connection.close();
    assert.equal(view.isConnected(1), false, 'closed');
  });

  it('a leader missing from the broker list fails like any attempt: the next attempt backs off', async (t) => {
    // The sink asks again after each failure, and every failure refreshes metadata: without a backoff between
    // attempts, a worker sent a Metadata request per refresh interval until the delivery timeout.
    const { view } = await setup(t);
    await view.refresh(TOPIC);
    await assert.rejects(view.connection(7), /broker 7 is not in the metadata/);
    let settled = false;
    const second = view.connection(7).finally(() => (settled = true));
    second.catch(() => undefined);
    await view.refresh(TOPIC); // a round trip: an attempt without a backoff would have failed by now
    assert.equal(settled, false, 'the second attempt waits out reconnectBackoffMs (one minute)');
    await view.close();
    await assert.rejects(second, ConnectionError);
  });
});

describe('ClusterView: nodes that leave the cluster', () => {
  it('a node the latest answer no longer lists is not tried for the metadata connection', async (t) => {
    // Node 2 accepts connections and never answers (a decommissioned host). It is listed first in the first answer
    // only; when the metadata connection must be reopened, it used to be tried first, for a request timeout.
    const silent = await silentServer(t);
    const silentPort = silent.port;
    const { broker, view } = await setup(t, { retryBackoffMs: 1, retryBackoffMaxMs: 1, reconnectBackoffMs: 1, reconnectBackoffMaxMs: 1 });
    let phase: 'with node 2' | 'without' | 'corrupt' = 'with node 2';
    broker.tamper = (apiKey, frame) => {
      if (apiKey !== FAKE_API.metadata || phase === 'without') return frame;
      if (phase === 'corrupt') {
        // Framed, but cut after the broker count: a ProtocolError, and the metadata connection is dropped.
        const cut = Buffer.from(frame.subarray(0, 12));
        cut.writeInt32BE(8, 0);
        return cut;
      }
      // Metadata v1: size, correlation id, then the brokers array; node 2 goes in front of node 1.
      const host = Buffer.from('127.0.0.1');
      const node2 = Buffer.alloc(4 + 2 + host.length + 4 + 2);
      let at = node2.writeInt32BE(2, 0);
      at = node2.writeInt16BE(host.length, at);
      at += host.copy(node2, at);
      at = node2.writeInt32BE(silentPort, at);
      node2.writeInt16BE(-1, at); // rack: null
      const count = Buffer.alloc(4);
      count.writeInt32BE(frame.readInt32BE(8) + 1);
      const out = Buffer.concat([frame.subarray(0, 8), count, node2, frame.subarray(12)]);
      out.writeInt32BE(out.length - 4, 0);
      return out;
    };
    await view.refresh(TOPIC);
    phase = 'without';
    await view.refresh(TOPIC);
    phase = 'corrupt';
    await assert.rejects(view.refresh(TOPIC), ProtocolError);
    phase = 'without';
    await view.refresh(TOPIC);
    assert.equal(silent.accepted(), 0, 'the node that left was tried');
  });
});

describe('ClusterView: a leader that moves to another broker', () => {
  it('the connection to the node that left is closed, once the request in flight on it is answered', async (t) => {
    const { broker, view } = await setup(t);
    const other = await FakeBroker.start(1);
    t.after(() => other.close());
    const node = (nodeId: number, to: FakeBroker): ListedBroker => ({ nodeId, host: '127.0.0.1', port: Number(to.address.split(':')[1]) });
    broker.listedBrokers = [node(1, broker), node(2, other)];
    broker.leaderOf = () => 2;
    await view.refresh(TOPIC);
    assert.equal(view.hasBroker(2), true);
    const toNode2 = await view.connection(2);
    // A request in flight on it when node 2 leaves: its answer is held until the test releases it.
    let release: (() => void) | undefined;
    other.tamper = (apiKey, frame, _nth, write) => {
      if (apiKey !== FAKE_API.metadata) return frame;
      release = () => write(frame);
      return null;
    };
    const { Metadata } = await import('../../src/protocol/apis/metadata.js');
    const inFlight = toNode2.request(Metadata, { topics: [TOPIC], allowAutoTopicCreation: false });
    while (release === undefined) await new Promise((resolve) => setImmediate(resolve));

    // The leader moves back to node 1 and node 2 leaves the cluster.
    broker.listedBrokers = [node(1, broker)];
    broker.leaderOf = () => 1;
    await view.refresh(TOPIC);
    assert.deepEqual(view.topic(TOPIC)?.leaders, [1]);
    assert.deepEqual([view.hasBroker(1), view.hasBroker(2)], [true, false], 'the view still has the node that left');
    assert.equal(toNode2.isClosed, false, 'not closed under the request in flight: it is left to its answer');
    release!();
    await inFlight;
    // The next answer applied finds it idle: it is closed (it stayed open for the worker's life).
    await view.refresh(TOPIC);
    assert.equal(toNode2.isClosed, true, 'the connection to the node that left is closed');
    await toNode2.closed;
    assert.equal((await view.connection(1)).isClosed, false, 'the leader\'s connection is open');
    await assert.rejects(view.connection(2), (error: unknown) => error instanceof ConnectionError && /not in the metadata/.test(error.message));
  });
});

describe('ClusterView: answers that stand instead of a cluster view', () => {
  it('REBOOTSTRAP_REQUIRED (KIP-1102): nothing is applied, and the next refresh connects to a bootstrap address first', async (t) => {
    // The bootstrap address is broker B; B's answers name node 1 at broker A's address. So the view knows node 1 as
    // A, and only a connection made from the bootstrap list goes to B again.
    const a = await FakeBroker.start(1, undefined, { metadataVersion: 13 });
    const b = await FakeBroker.start(1, undefined, { metadataVersion: 13 });
    t.after(() => Promise.all([a.close(), b.close()]));
    const aPort = Number(a.address.split(':')[1]);
    b.tamper = (apiKey, frame) => {
      if (apiKey !== FAKE_API.metadata || b.metadataError !== 0) return frame;
      // v13: size, correlation id, header tagged fields, throttle_time_ms, broker count, node_id, host "127.0.0.1".
      const named = Buffer.from(frame);
      named.writeInt32BE(aPort, 4 + 4 + 1 + 4 + 1 + 4 + 1 + '127.0.0.1'.length);
      return named;
    };
    const view = new ClusterView([b.address], settings());
    t.after(() => view.close());
    await view.refresh(TOPIC);
    assert.deepEqual(view.topic(TOPIC)?.leaders, [1]);

    b.metadataError = ErrorCode.REBOOTSTRAP_REQUIRED;
    await assert.rejects(view.refresh(TOPIC), (error: unknown) => error instanceof BrokerError && error.errorName === 'REBOOTSTRAP_REQUIRED');
    assert.deepEqual(view.topic(TOPIC)?.leaders, [1], 'the layout from before is kept');
    assert.equal((await view.connection(1)).isClosed, false, 'node 1 (broker A) is still known: its connection opens');

    b.metadataError = 0;
    const bConnections = b.connections;
    await view.refresh(TOPIC);
    assert.equal(b.connections, bConnections + 1, 'the refresh after it opened a new connection to the bootstrap address');
    assert.equal(a.requests.filter((r) => r.apiKey === FAKE_API.metadata).length, 0, 'not to the known broker');
  });

  it('an answer that lists no brokers (a broker still starting) is not applied', async (t) => {
    const { broker, view } = await setup(t);
    await view.refresh(TOPIC);
    broker.tamper = (apiKey, frame) => {
      if (apiKey !== FAKE_API.metadata) return frame;
      // Metadata v1: size, correlation id, broker count, then node 1 (node_id, host, port, rack: null); dropped.
      const brokerBytes = 4 + 2 + '127.0.0.1'.length + 4 + 2;
      const none = Buffer.concat([frame.subarray(0, 8), Buffer.alloc(4), frame.subarray(12 + brokerBytes)]);
      none.writeInt32BE(none.length - 4, 0);
      return none;
    };
    await assert.rejects(view.refresh(TOPIC), (error: unknown) => error instanceof ProtocolError && /no brokers/.test(error.message));
    broker.tamper = undefined;
    await view.refresh(TOPIC);
    assert.deepEqual(view.topic(TOPIC)?.leaders, [1]);
  });
});

describe('ClusterView: a lagging answer', () => {
  it('a leader kept at its newer epoch stays reachable though the lagging answer does not list its node', async (t) => {
    const { broker, view } = await setup(t);
    const [host, portText] = broker.address.split(':');
    const port = Number(portText);
    let answer: 'fresh' | 'lagging' = 'fresh';
    const request = Connection.prototype.request;
    t.after(() => void (Connection.prototype.request = request));
    // Metadata at v7+ (leader epochs), which the fake broker does not speak: answered where the view asks.
    Connection.prototype.request = function (this: Connection, ...args: Parameters<Connection['request']>) {
      const [api] = args as unknown as [{ name: string }];
      if (api.name !== 'Metadata') return request.apply(this, args);
      const fresh = answer === 'fresh';
      const partition = { errorCode: 0, partitionIndex: 0, leaderId: fresh ? 2 : 1, leaderEpoch: fresh ? 5 : 4, replicaNodes: [1, 2], isrNodes: [1, 2], offlineReplicas: [] };
      const brokers = [{ nodeId: 1, host: host!, port, rack: null }, ...(fresh ? [{ nodeId: 2, host: host!, port, rack: null }] : [])];
      return Promise.resolve({
        throttleTimeMs: 0, brokers, clusterId: null, controllerId: 1, errorCode: 0, clusterAuthorizedOperations: -2147483648,
        topics: [{ errorCode: 0, name: TOPIC, topicId: new Uint8Array(16), isInternal: false, partitions: [partition], topicAuthorizedOperations: -2147483648 }],
      });
    } as Connection['request'];
    await view.refresh(TOPIC);
    answer = 'lagging';
    await view.refresh(TOPIC);
    assert.equal(view.topic(TOPIC)!.leaders[0], 2, 'the leader known at the newer epoch is kept');
    await view.connection(2); // rejected "not in the metadata" once the lagging answer made the view forget node 2
  });

  it('a leader the answer does not list is none; a leader known at a newer epoch is kept over it only while newer', async (t) => {
    const { broker, view } = await setup(t);
    const [host, portText] = broker.address.split(':');
    const port = Number(portText);
    let answer = { leaderId: 2, leaderEpoch: 5, listed: [1, 2] };
    const request = Connection.prototype.request;
    t.after(() => void (Connection.prototype.request = request));
    // Metadata at v7+ (leader epochs), which the fake broker does not speak: answered where the view asks.
    Connection.prototype.request = function (this: Connection, ...args: Parameters<Connection['request']>) {
      const [api] = args as unknown as [{ name: string }];
      if (api.name !== 'Metadata') return request.apply(this, args);
      const { leaderId, leaderEpoch, listed } = answer;
      const partition = { errorCode: 0, partitionIndex: 0, leaderId, leaderEpoch, replicaNodes: [1, 2, 3], isrNodes: [1, 2, 3], offlineReplicas: [] };
      return Promise.resolve({
        throttleTimeMs: 0, brokers: listed.map((nodeId) => ({ nodeId, host: host!, port, rack: null })), clusterId: null, controllerId: 1,
        errorCode: 0, clusterAuthorizedOperations: -2147483648,
        topics: [{ errorCode: 0, name: TOPIC, topicId: new Uint8Array(16), isInternal: false, partitions: [partition], topicAuthorizedOperations: -2147483648 }],
      });
    } as Connection['request'];
    const leaders: number[] = [];
    for (const next of [
      { leaderId: 2, leaderEpoch: 5, listed: [1, 2] }, // node 2 leads, at an address the answer gives
      { leaderId: 3, leaderEpoch: 4, listed: [1] }, // a lagging answer naming an unlisted node: node 2 (epoch 5) stays
      { leaderId: 3, leaderEpoch: 6, listed: [1] }, // newer, but node 3 has no address: no leader, not node 3 nor 2
    ]) {
      answer = next;
      await view.refresh(TOPIC);
      leaders.push(view.topic(TOPIC)!.leaders[0]!);
    }
    // Taken as the leader, node 3 had the worker's batches try "broker 3 is not in the metadata" until they expired.
    assert.deepEqual(leaders, [2, 2, -1]);
  });
});

describe('ClusterView: the KIP-951 leader hint of a Produce answer', () => {
  const endpoint = (broker: FakeBroker, nodeId = 2): NodeEndpoint => {
    const [host, port] = broker.address.split(':');
    return { nodeId, host: host!, port: Number(port), rack: null };
  };

  it('a newer leader epoch moves the partition to the named leader, at the endpoint the answer lists', async (t) => {
    const { view } = await setup(t);
    const other = await FakeBroker.start(1);
    t.after(() => other.close());
    await view.refresh(TOPIC);
    assert.deepEqual([view.topic(TOPIC)?.leaders, view.topic(TOPIC)?.leaderEpochs], [[1], [-1]]);
    assert.equal(view.applyLeaderHint(TOPIC, 0, { leaderId: 2, leaderEpoch: 5 }, [endpoint(other)]), true);
    assert.deepEqual([view.topic(TOPIC)?.leaders, view.topic(TOPIC)?.leaderEpochs], [[2], [5]]);
    // No Metadata round trip: the connection to node 2 goes to the endpoint from the hint.
    const connection = await view.connection(2);
    assert.equal(connection.port, Number(endpoint(other).port));
    assert.equal(other.connections, 1);
  });

  it('a leader that moved to another address is connected to there at once: the old connection\'s close is no failure', async (t) => {
    // Closed on purpose before it served an answer, the old connection was booked as a failure, and the first
    // attempt at the new address waited out reconnectBackoffMs (a minute here).
    const { view } = await setup(t);
    const other = await FakeBroker.start(1);
    t.after(() => other.close());
    await view.refresh(TOPIC);
    const first = await view.connection(1); // only its handshake answered: not proven
    assert.equal(view.applyLeaderHint(TOPIC, 0, { leaderId: 1, leaderEpoch: 5 }, [endpoint(other, 1)]), true);
    await first.closed;
    const moved = await view.connection(1);
    assert.equal(moved.port, Number(endpoint(other).port));
    assert.equal(other.connections, 1);
  });

  it('is ignored when not newer, when the leader has no known address, for -1/-1, or for an unknown partition', async (t) => {
    const { broker, view } = await setup(t);
    await view.refresh(TOPIC);
    assert.equal(view.applyLeaderHint(TOPIC, 0, { leaderId: 1, leaderEpoch: 7 }, []), true, 'node 1 is known from Metadata');
    for (const [what, partition, hint, endpoints] of [
      ['an equal epoch', 0, { leaderId: 2, leaderEpoch: 7 }, [endpoint(broker)]],
      ['an older epoch', 0, { leaderId: 2, leaderEpoch: 6 }, [endpoint(broker)]],
      ['a leader without an address', 0, { leaderId: 3, leaderEpoch: 8 }, []],
      ['an impossible endpoint', 0, { leaderId: 2, leaderEpoch: 8 }, [{ ...endpoint(broker), port: 0 }]],
      ['no leader', 0, { leaderId: -1, leaderEpoch: -1 }, []],
      ['a partition the topic does not have', 1, { leaderId: 1, leaderEpoch: 8 }, []],
    ] as const) {
      assert.equal(view.applyLeaderHint(TOPIC, partition, hint, endpoints), false, what);
      assert.deepEqual([view.topic(TOPIC)?.leaders, view.topic(TOPIC)?.leaderEpochs], [[1], [7]], what);
    }
    assert.equal(view.applyLeaderHint('never-seen', 0, { leaderId: 1, leaderEpoch: 1 }, []), false);
  });
});

describe('ClusterView: metadataMaxAgeMs', () => {
  it('fetches its topics again once its view is metadataMaxAgeMs old: partitions added are seen', async (t) => {
    const { broker, view } = await setup(t, { metadataMaxAgeMs: 20 });
    await view.refresh(TOPIC);
    broker.partitionCount = 3;
    // The second answer is asked for only after the first was applied (each refresh re-arms the timer).
    await broker.answers(FAKE_API.metadata, 2);
    assert.deepEqual(view.topic(TOPIC)?.leaders, [1, 1, 1]);
  });

  it('refreshes never ask the broker to create a topic: a deleted topic is not brought back', async (t) => {
    // The fake broker speaks Metadata v1, which has no such flag: the request is read where the view makes it.
    const asked: unknown[] = [];
    const request = Connection.prototype.request;
    t.after(() => void (Connection.prototype.request = request));
    Connection.prototype.request = function (this: Connection, ...args: Parameters<Connection['request']>) {
      const [api, body] = args as unknown as [{ name: string }, { allowAutoTopicCreation?: boolean }];
      if (api.name === 'Metadata') asked.push(body.allowAutoTopicCreation);
      return request.apply(this, args);
    } as Connection['request'];
    const { broker, view } = await setup(t, { metadataMaxAgeMs: 50 });
    await view.refresh(TOPIC);
    await broker.answers(FAKE_API.metadata, 3); // two max-age refreshes after the first
    assert.ok(asked.length >= 3);
    assert.deepEqual(new Set(asked), new Set([false]), 'every refresh, the max-age ones included, with allowAutoTopicCreation false');
  });

  it('close while the metadata connection is being opened: that connection is closed too, and no request is sent on it', async (t) => {
    const { broker, view } = await setup(t);
    let release: (() => void) | undefined;
    broker.tamper = (apiKey, frame, _nth, write) => {
      if (apiKey !== FAKE_API.apiVersions || release !== undefined) return frame;
      release = () => write(frame); // the handshake's answer is held back until the view has closed
      return null;
    };
    const refreshing = view.refresh(TOPIC);
    refreshing.catch(() => undefined);
    while (release === undefined) await new Promise((resolve) => setImmediate(resolve));
    const { socket } = broker.requests.find((r) => r.apiKey === FAKE_API.apiVersions)!;
    await view.close();
    const closed = once(socket, 'close');
    release!();
    await assert.rejects(refreshing); // the attempt is aborted by close
    await closed; // the connection opened after close() is closed (it used to stay open for the thread's life)
    assert.equal(broker.requests.filter((r) => r.apiKey === FAKE_API.metadata).length, 0, 'no Metadata request after close');
  });

  it('close aborts a connection to a broker still in its handshake, rather than wait for the handshake to time out', { timeout: 30_000 }, async (t) => {
    // A request timeout the test never reaches: close used to wait for it.
    const { broker, view } = await setup(t, { requestTimeoutMs: 600_000 });
    await view.refresh(TOPIC); // node 1 is this broker; the metadata connection is the first
    let held = false;
    broker.tamper = (apiKey, frame, nth) => {
      if (apiKey !== FAKE_API.apiVersions || nth < 1) return frame;
      held = true; // the second connection's handshake is never answered
      return null;
    };
    const connecting = view.connection(1);
    connecting.catch(() => undefined);
    while (!held) await new Promise((resolve) => setImmediate(resolve));
    await view.close();
    await assert.rejects(connecting, (error: unknown) => error instanceof Error && error.name === 'AbortError');
  });

  it('connections to many brokers at once listen to close once between them: no MaxListenersExceededWarning', async (t) => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    // Twelve brokers that accept and never answer the handshake: every attempt is still open when the view closes.
    const { port, accepted } = await silentServer(t);
    const { view } = await setup(t, { requestTimeoutMs: 600_000 });
    await view.refresh(TOPIC);
    const attempts = Array.from({ length: 12 }, (_, i) => {
      const nodeId = 10 + i;
      // Each partition-0 hint names a newer leader: the view learns node `nodeId` at the silent server's address.
      view.applyLeaderHint(TOPIC, 0, { leaderId: nodeId, leaderEpoch: 100 + i }, [{ nodeId, host: '127.0.0.1', port, rack: null }]);
      const attempt = view.connection(nodeId);
      attempt.catch(() => undefined);
      return attempt;
    });
    while (accepted() < attempts.length) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve)); // a warning is emitted a tick after the listener that caused it
    await view.close();
    for (const outcome of await Promise.allSettled(attempts)) assert.equal(outcome.status, 'rejected', 'close aborts every attempt');
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
  });

  it('close releases the max-age timer (and every other)', async (t) => {
    const live = trackTimers(t);
    const { view } = await setup(t);
    await view.refresh(TOPIC);
    assert.equal(live.size, 1, 'the max-age timer is armed');
    await view.close();
    assert.equal(live.size, 0);
  });
});

describe('ClusterView: topics idle for metadataMaxIdleMs', () => {
  it('leave the view at the next refresh, which no longer asks for them; a record for one asks again (want)', async (t) => {
    let idle: string[] = [];
    const { broker, view } = await setup(t, { idleTopics: () => idle });
    await view.refresh('quiet');
    await view.refresh('busy');
    assert.deepEqual([...broker.metadataTopics.at(-1)!].sort(), ['busy', 'quiet']);
    idle = ['quiet'];
    await new Promise((resolve) => setTimeout(resolve, 150)); // past the view's minimum interval between refreshes
    await view.refresh();
    assert.deepEqual(broker.metadataTopics.at(-1), ['busy'], 'the idle topic is not asked for');
    assert.equal(view.topic('quiet'), undefined, 'and its layout is gone');
    assert.notEqual(view.topic('busy'), undefined);

    idle = [];
    view.want('quiet');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await view.refresh();
    assert.deepEqual([...broker.metadataTopics.at(-1)!].sort(), ['busy', 'quiet'], 'wanted again');
    assert.notEqual(view.topic('quiet'), undefined);

    idle = ['busy', 'quiet'];
    const asked = broker.metadataTopics.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    await view.refresh();
    assert.equal(broker.metadataTopics.length, asked, 'every topic idle: no Metadata request at all');
  });
});

describe('ClusterView: a refresh refused authentication', () => {
  it('authRefusal is the refusal a new connection attempt would meet at once, for every broker', async (t) => {
    const broker = await FakeSaslBroker.start(() => ({ lifetimeMs: 0, refuse: true }));
    t.after(() => broker.close());
    // retryBackoffMs of a minute: the refusal holds for the whole test.
    const view = new ClusterView([`127.0.0.1:${broker.port}`], settings({ sasl: { mechanism: 'plain', username: 'alice', password: 'secret' } }));
    t.after(() => view.close());
    const refusal = (): Error | undefined => view.authRefusal(1); // read afresh each time
    assert.equal(refusal(), undefined);
    await assert.rejects(view.refresh('t'), AuthenticationError);
    assert.ok(refusal() instanceof AuthenticationError);
  });

  it('is what metadataAuthFailure says, until a topic no refresh asked for yet is wanted (its refresh decides)', async (t) => {
    // A broker that refuses every authentication: the view's refresh fails with AuthenticationError.
    const broker = await FakeSaslBroker.start(() => ({ lifetimeMs: 0, refuse: true }));
    t.after(() => broker.close());
    // Short reconnect pauses too: the last refresh connects again, and a minute's pause made the test wait it out.
    const view = new ClusterView([`127.0.0.1:${broker.port}`], settings({
      sasl: { mechanism: 'plain', username: 'alice', password: 'secret' }, retryBackoffMs: 1, retryBackoffMaxMs: 1, reconnectBackoffMs: 1, reconnectBackoffMaxMs: 1,
    }));
    t.after(() => view.close());
    const failure = (): Error | undefined => view.metadataAuthFailure; // read afresh each time (a getter)
    assert.equal(failure(), undefined);
    await assert.rejects(view.refresh('t'), AuthenticationError);
    assert.ok(failure() instanceof AuthenticationError, 'a refresh was refused');
    view.want('t');
    assert.ok(failure() instanceof AuthenticationError, "wanting a topic already asked for changes nothing");
    // A topic the view forgot and wants again: no refresh asked for it since the failure, which may be old.
    view.want('back');
    assert.equal(failure(), undefined);
    await new Promise((resolve) => setTimeout(resolve, 150)); // past the view's minimum interval between refreshes
    await assert.rejects(view.refresh(), AuthenticationError);
    assert.ok(failure() instanceof AuthenticationError, 'the refresh asking for it was refused too');
  });
});

/**
 * The refresh floors of `view`, asked for before its first refresh: the returned function runs `count` refreshes of
 * `topic` and gives the waits before each, as asked of setTimeout. Each fires at once so the test takes no time,
 * and the clock stands still, so each wait is the whole floor.
 */
function refreshFloors(t: TestContext, view: ClusterView, topic: string): (count: number) => Promise<number[]> {
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  const waits: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  t.mock.method(globalThis, 'setTimeout', (callback: () => void, ms = 0) => {
    if (ms > 5_000) return realSetTimeout(callback, ms); // the max-age timer
    waits.push(ms);
    return realSetTimeout(callback, 0);
  });
  return async (count) => {
    waits.length = 0;
    for (let i = 0; i < count; i++) await view.refresh(topic);
    return [...waits];
  };
}

describe('ClusterView refresh floor', () => {
  it('a leader the answer\'s broker list does not name is none: the partition is leaderless and the floor doubles', async (t) => {
    const broker = await FakeBroker.start(2);
    t.after(() => broker.close());
    broker.leaderOf = (_topic, partition) => (partition === 1 ? 3 : 1); // the answer lists node 1 only
    const view = new ClusterView([broker.address], settings({ retryBackoffMs: 100, retryBackoffMaxMs: 1000 }));
    t.after(() => view.close());
    const floors = refreshFloors(t, view, 't');
    await view.refresh('t');
    // Taken as the leader, node 3 cost a connect error ("not in the metadata") per reconnect backoff, and every
    // failure asked for metadata, which came at the 100 ms floor: the partition did not count as leaderless.
    assert.deepEqual({ leaders: view.topic('t')?.leaders, floors: await floors(4) }, { leaders: [1, -1], floors: [100, 200, 400, 800] });
  });

  it('doubles while a partition the worker holds batches for is beyond the topic\'s partition count; falls back once none is', async (t) => {
    // A batch for partition 7 of a topic now of 2 (deleted and created again smaller): every pump finds it without a
    // leader and asks for metadata, and the answers, each leaving every partition of the topic led, kept the floor at
    // 100 ms: ten Metadata requests a second until the delivery timeout.
    const broker = await FakeBroker.start(2);
    t.after(() => broker.close());
    let held = [{ topic: { name: 't' }, partition: 7 }];
    const view = new ClusterView([broker.address], settings({ retryBackoffMs: 100, retryBackoffMaxMs: 1000, heldPartitions: () => held }));
    t.after(() => view.close());
    const floors = refreshFloors(t, view, 't');
    await view.refresh('t');
    assert.deepEqual(await floors(4), [100, 200, 400, 800]);
    held = [{ topic: { name: 't' }, partition: 1 }]; // a batch for a partition with a leader: the answer is not fruitless
    assert.deepEqual(await floors(2), [1000, 100]);
  });

  it('doubles, up to retryBackoffMaxMs, while answers change nothing and a partition stays leaderless; falls back once one changes', async (t) => {
    const broker = await FakeBroker.start(2);
    t.after(() => broker.close());
    broker.leaderOf = (_topic, partition) => (partition === 1 ? -1 : 1);
    const view = new ClusterView([broker.address], settings({ retryBackoffMs: 100, retryBackoffMaxMs: 1000 }));
    t.after(() => view.close());
    const floors = refreshFloors(t, view, 't');
    await view.refresh('t'); // the first answer: new to the view
    // Each later answer leaves partition 1 without a leader and changes nothing: the pump that found it so asked
    // again ten times a second before.
    assert.deepEqual(await floors(6), [100, 200, 400, 800, 1000, 1000]);
    broker.leaderOf = undefined; // a leader is elected: the answer changes the view, and the floor falls back
    assert.deepEqual(await floors(2), [1000, 100]);
  });
});

describe('ClusterView.unknownFor', () => {
  it('counts from the first of the answers in a row that say a topic does not exist, and is 0 once one lists it', async (t) => {
    let missing = true;
    const broker = await FakeBroker.start(1, (topic) => missing && topic === 'gone');
    t.after(() => broker.close());
    const view = new ClusterView([broker.address], settings());
    t.after(() => view.close());
    await view.refresh('gone');
    assert.equal(view.isUnknownTopic('gone'), true);
    const firstSeen = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 150)); // past the view's minimum interval between refreshes
    await view.refresh('gone');
    const later = Date.now() + 60_000;
    assert.ok(view.unknownFor('gone', later) >= later - firstSeen, 'the second answer did not start the count again');
    missing = false;
    await new Promise((resolve) => setTimeout(resolve, 150));
    await view.refresh('gone');
    assert.equal(view.unknownFor('gone', later), 0);
  });
});
