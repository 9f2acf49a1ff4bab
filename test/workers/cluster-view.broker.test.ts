/**
 * ClusterView against the real broker, whose Metadata (v7 and later) carries leader epochs, the order in which a
 * worker takes what it learns about leaders: a KIP-951 hint only when newer, and never an answer that would move a
 * partition back to an older epoch (a broker whose metadata lags behind the hint it or another broker gave).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterView } from '../../src/workers/cluster-view.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';

test('leader epochs order what the view learns: an older hint is ignored, a newer one kept over a later Metadata answer', { timeout: 120_000 }, async (t) => {
  const brokers = await useBroker();
  const topic = uniqueTopic('epochs');
  await createTopic(topic, 1);
  const view = new ClusterView(brokers, {
    clientId: 'cluster-view-broker-test', requestTimeoutMs: 30_000, connectTimeoutMs: 10_000, maxInFlight: 5, tls: null,
    sasl: null, retryBackoffMs: 100, retryBackoffMaxMs: 1000, reconnectBackoffMs: 50, reconnectBackoffMaxMs: 1000, metadataMaxAgeMs: 3_600_000,
  });
  t.after(() => view.close());
  await view.refresh(topic);
  const layout = view.topic(topic)!;
  const [leader] = layout.leaders;
  const [epoch] = layout.leaderEpochs;
  assert.ok(leader! >= 0 && epoch! >= 0, `the broker gives a leader and its epoch, got ${leader} at ${epoch}`);
  // A hint ahead of the broker's own metadata (as a new leader's would be, before the others hear of it).
  assert.equal(view.applyLeaderHint(topic, 0, { leaderId: leader!, leaderEpoch: epoch! + 10 }, []), true);
  assert.equal(view.applyLeaderHint(topic, 0, { leaderId: leader!, leaderEpoch: epoch! + 5 }, []), false, 'an older hint');
  assert.deepEqual(view.topic(topic)!.leaderEpochs, [epoch! + 10]);
  await view.refresh(topic);
  assert.deepEqual(view.topic(topic)!.leaderEpochs, [epoch! + 10], 'the answer at the older epoch did not win');
});
