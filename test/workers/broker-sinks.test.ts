/**
 * A worker's sinks are bounded by the brokers it sends to now, not by every node id it ever sent to: a broker
 * replaced under a new node id left one sink behind per id, kept for the worker's life. The cluster view is a
 * stand-in that says which nodes the cluster has and never completes a connection (a sink that was asked to connect
 * stays busy until the test ends).
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import type { Connection } from '../../src/net/connection.js';
import type { WorkerInit } from '../../src/shared/worker-protocol.js';
import { WorkerStats, createWorkerStats } from '../../src/shared/worker-stats.js';
import { BrokerSinks } from '../../src/workers/broker-sinks.js';
import type { ClusterView } from '../../src/workers/cluster-view.js';

function sinksFor(t: TestContext, cluster: Set<number>): BrokerSinks {
  const view = {
    hasBroker: (nodeId: number) => cluster.has(nodeId),
    isConnected: () => false,
    connection: () => new Promise<Connection>(() => undefined),
  } as unknown as ClusterView;
  const { port1 } = new MessageChannel();
  const settings = { acks: -1, requestTimeoutMs: 30_000, maxInFlight: 5, transactionalId: null, maxProduceVersion: 13 } as unknown as WorkerInit['settings'];
  const outcomes = { answered: () => undefined, lost: () => undefined, metadataStale: () => undefined };
  const sinks = new BrokerSinks({ settings, view, outcomes, stats: new WorkerStats(createWorkerStats()), port: port1 }, { pump: () => undefined, refresh: () => undefined });
  t.after(() => {
    sinks.closeAll();
    port1.close();
  });
  return sinks;
}

describe('BrokerSinks: nodes that left the cluster', () => {
  it('the sink of a node the cluster no longer has is closed and forgotten when the next sink is made', (t) => {
    const cluster = new Set([1]);
    const sinks = sinksFor(t, cluster);
    let previous = sinks.for(1);
    // The broker comes back under a new node id, again and again (a re-provisioned broker gets a new id).
    for (let nodeId = 2; nodeId <= 50; nodeId++) {
      cluster.delete(nodeId - 1);
      cluster.add(nodeId);
      sinks.for(nodeId);
      assert.equal(sinks.get(nodeId - 1), undefined, `node ${nodeId - 1}'s sink was kept after the node left`);
      assert.equal(previous.canSend(Date.now()), false, 'the forgotten sink was closed');
      previous = sinks.get(nodeId)!;
    }
  });

  it('a sink that is busy (a connection attempt under way) stays until it is idle; one the cluster still has stays', (t) => {
    const cluster = new Set([1, 2, 3]);
    const sinks = sinksFor(t, cluster);
    const kept = sinks.for(1);
    const busy = sinks.for(2);
    busy.connect(); // never completes here
    cluster.delete(2);
    sinks.for(3);
    assert.equal(sinks.get(1), kept, 'a node the cluster has keeps its sink');
    assert.equal(sinks.get(2), busy, 'a busy sink was dropped with its attempt under way');
    assert.equal(busy.isIdle, false);
  });
});
