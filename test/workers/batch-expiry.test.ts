/**
 * A worker's delivery deadlines (src/workers/batch-expiry.ts): which sealed batches fail at their deadline, with what
 * reason, and what the worker is told to wake for. The parts it acts through are played by the test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientErrorCode } from '../../src/shared/completion-entry.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { BatchExpiry, DELETED_AFTER_MS } from '../../src/workers/batch-expiry.js';
import { newBatch, type Batch } from '../../src/workers/batch.js';
import { PartitionState, type TopicState } from '../../src/workers/partition-state.js';
import type { TopicLayout } from '../../src/workers/cluster-view.js';
import type { Sink } from '../../src/workers/sink.js';
import { ConnectionError, UnsupportedVersionError } from '../../src/shared/errors.js';

const NOW = 1_000_000;

/** One partition of topic 't' led by broker 1 (or by none), batches sealed with the given deadlines, encoded. */
function setup({ leader = 1, unknownTopic = false, unknownForMs = DELETED_AFTER_MS, sink = undefined as Sink | undefined, layoutChange = {} as Partial<TopicLayout> } = {}) {
  const topic: TopicState = { index: 0, name: 't', partitions: new Map() };
  const p = new PartitionState(topic, 0, 0);
  const failed: { batch: Batch; code: number; message: string }[] = [];
  const layout: TopicLayout = { name: 't', topicId: new Uint8Array(16), leaders: [leader], leaderEpochs: [0], errorCode: 0, ...layoutChange };
  const expiry = new BatchExpiry({
    batches: { sending: [p] },
    view: {
      topic: () => layout, isUnknownTopic: () => unknownTopic, unknownFor: () => (unknownTopic ? unknownForMs : 0),
      describeTopicError: () => 'UNKNOWN_TOPIC_OR_PARTITION',
    },
    outcomes: {
      abandon: (partition, batch, code, message) => {
        partition.sealed.splice(partition.sealed.indexOf(batch), 1);
        failed.push({ batch, code, message });
      },
    },
    sinkOf: () => sink,
  });
  const seal = (...deadlines: number[]): Batch[] => deadlines.map((deadline) => {
    const batch = newBatch(Uint32Array.of(p.sealed.length), deadline);
    batch.bytes = Buffer.alloc(70);
    p.sealed.push(batch);
    return batch;
  });
  return { p, expiry, failed, seal, layout: layout as { -readonly [K in keyof TopicLayout]: TopicLayout[K] } };
}

describe('BatchExpiry.expireDue', () => {
  it('fails a due batch queued behind one in flight, saying the batch ahead is unanswered', () => {
    const { expiry, failed, seal } = setup();
    const [ahead, queued] = seal(NOW - 10, NOW - 5);
    ahead!.inFlight = true;
    expiry.expireDue(NOW);
    assert.deepEqual(failed.map((f) => [f.batch, f.code]), [[queued, ClientErrorCode.deliveryTimeout]]);
    assert.equal(failed[0]!.message, 'not written by any broker: 1 earlier batch(es) of t-0 were unanswered (in flight, or to be retried)');
  });

  it('leaves batches in flight, ambiguous or still encoding, whatever their deadline', () => {
    const { p, expiry, failed, seal } = setup();
    const [inFlight, ambiguous, encoding] = seal(NOW - 30, NOW - 20, NOW - 10);
    inFlight!.inFlight = true;
    ambiguous!.ambiguous = true;
    encoding!.bytes = undefined;
    assert.equal(expiry.expireDue(NOW), Infinity, 'nothing left that could expire');
    assert.deepEqual(failed, []);
    assert.equal(p.sealed.length, 3);
  });

  it('fails an ambiguous batch past its deadline once its topic is unknown (deleted), as possibly written', () => {
    const { p, expiry, failed, seal } = setup({ unknownTopic: true });
    const [lost, later] = seal(NOW - 10, NOW + 50);
    lost!.ambiguous = true;
    later!.ambiguous = true;
    assert.equal(expiry.expireDue(NOW), NOW + 50, 'woken at the next such deadline');
    assert.deepEqual(failed.map((f) => [f.batch, f.code]), [[lost, ClientErrorCode.expiredAfterLoss]]);
    assert.equal(failed[0]!.message, 'topic t: UNKNOWN_TOPIC_OR_PARTITION, and an earlier attempt of t-0 went unanswered');
    assert.deepEqual(p.sealed, [later]);
  });

  it('keeps an ambiguous batch past its deadline while its topic has been unknown for less than DELETED_AFTER_MS (one answer of a broker catching up)', () => {
    const { expiry, failed, seal } = setup({ unknownTopic: true, unknownForMs: DELETED_AFTER_MS - 1 });
    const [lost] = seal(NOW - 10);
    lost!.ambiguous = true;
    expiry.expireDue(NOW);
    assert.deepEqual(failed, []);
  });

  it('fails past its deadline, as possibly written, an ambiguous batch whose last attempt could not be sent (no usable Produce version)', () => {
    // Retried until a broker answers, it was never sent again: the partition, and a transaction's commit, waited
    // for ever on a broker that offers no Produce version this producer can write.
    const { expiry, failed, seal } = setup();
    const [stuck, early] = seal(NOW - 10, NOW + 10);
    for (const batch of [stuck!, early!]) {
      batch.ambiguous = true;
      batch.unsendable = true;
      batch.lastError = 'no common version of Produce';
    }
    expiry.expireDue(NOW);
    assert.deepEqual(failed.map((f) => [f.batch, f.code]), [[stuck, ClientErrorCode.expiredAfterLoss]], 'not before its deadline');
    assert.match(failed[0]!.message, /its last attempt could not be sent \(no common version of Produce\), and an earlier attempt of t-0 went unanswered/);
  });

  it('fails past its deadline, as possibly written, an ambiguous batch whose leader refused the handshake\'s versions', () => {
    const refused = new UnsupportedVersionError('127.0.0.1:9092 supports no ApiVersions version that ringkafka speaks');
    for (const connectFailure of [refused, new ConnectionError('connect ECONNREFUSED 127.0.0.1:9092')]) {
      const { expiry, failed, seal } = setup({ sink: { isConnected: false, connectFailure } as unknown as Sink });
      const [due, later] = seal(NOW - 1, NOW + 50);
      due!.ambiguous = true;
      later!.ambiguous = true;
      const wake = expiry.expireDue(NOW);
      if (connectFailure === refused) {
        assert.deepEqual(failed.map((f) => [f.batch, f.code]), [[due, ClientErrorCode.expiredAfterLoss]]);
        assert.equal(failed[0]!.message, `no connection to its leader could be opened (${refused.message}), and an earlier attempt of t-0 went unanswered`);
        assert.equal(wake, NOW + 50, 'and wakes for the next one');
      } else {
        assert.deepEqual(failed, [], 'a broker out of reach may come back and answer: retried');
      }
    }
  });

  it('fails past its deadline, as possibly written, an ambiguous batch whose topic is refused or has no such partition any more', () => {
    const cases: [Partial<TopicLayout>, string][] = [
      [{ leaders: [], leaderEpochs: [], errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }, 'topic t: UNKNOWN_TOPIC_OR_PARTITION'],
      [{ leaders: [], leaderEpochs: [], errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION }, 'topic t: UNKNOWN_TOPIC_OR_PARTITION'],
      // Created again with fewer partitions (the batch is of partition 0 here: none left).
      [{ leaders: [], leaderEpochs: [], errorCode: ErrorCode.NONE }, 'topic t has 0 partition(s) now, so no partition 0'],
    ];
    for (const [layoutChange, why] of cases) {
      const { expiry, failed, seal } = setup({ layoutChange });
      const [due, later] = seal(NOW - 1, NOW + DELETED_AFTER_MS + 50);
      due!.ambiguous = true;
      later!.ambiguous = true;
      // The metadata's word must hold for DELETED_AFTER_MS first (one answer of a lagging broker says as much).
      assert.equal(expiry.expireDue(NOW), NOW + DELETED_AFTER_MS, why);
      assert.equal(failed.length, 0);
      assert.equal(expiry.expireDue(NOW + DELETED_AFTER_MS), NOW + DELETED_AFTER_MS + 50, why);
      assert.deepEqual(failed.map((f) => [f.batch, f.code, f.message]), [[due, ClientErrorCode.expiredAfterLoss, `${why}, and an earlier attempt of t-0 went unanswered`]]);
    }
    // An answer that names the partition again starts the wait afresh.
    const lagging = setup({ layoutChange: { leaders: [], leaderEpochs: [], errorCode: ErrorCode.NONE } });
    const [kept] = lagging.seal(NOW - 1);
    kept!.ambiguous = true;
    lagging.expiry.expireDue(NOW);
    lagging.layout.leaders = [1];
    lagging.expiry.expireDue(NOW + 10);
    lagging.layout.leaders = [];
    assert.equal(lagging.expiry.expireDue(NOW + DELETED_AFTER_MS), NOW + DELETED_AFTER_MS + DELETED_AFTER_MS, 'held since its last return');
    assert.deepEqual(lagging.failed, []);
    // A leader missing for now (an election) may come back: retried.
    const { expiry, failed, seal } = setup({ leader: -1 });
    seal(NOW - 1)[0]!.ambiguous = true;
    expiry.expireDue(NOW);
    assert.deepEqual(failed, []);
  });

  it('keeps an ambiguous batch past its deadline while its topic is known, and one in flight whatever the topic', () => {
    const known = setup();
    const [kept] = known.seal(NOW - 10);
    kept!.ambiguous = true;
    known.expiry.expireDue(NOW);
    assert.deepEqual(known.failed, [], 'a leader may come back and answer');
    const deleted = setup({ unknownTopic: true });
    const [inFlight] = deleted.seal(NOW - 10);
    inFlight!.ambiguous = true;
    inFlight!.inFlight = true;
    deleted.expiry.expireDue(NOW);
    assert.deepEqual(deleted.failed, [], 'its answer may still come');
  });

  it('stops at the first batch not yet due and returns its deadline to wake at', () => {
    const { p, expiry, failed, seal } = setup();
    const [due] = seal(NOW, NOW + 100, NOW + 200);
    assert.equal(expiry.expireDue(NOW), NOW + 100);
    assert.deepEqual(failed.map((f) => f.batch), [due]);
    assert.equal(p.sealed.length, 2);
  });

  it("names the last attempt's error, or the missing leader", () => {
    const tried = setup();
    const [batch] = tried.seal(NOW);
    batch!.attempts = 2;
    batch!.lastError = 'NOT_ENOUGH_REPLICAS from broker 1';
    tried.expiry.expireDue(NOW);
    assert.equal(tried.failed[0]!.message, 'not written by any broker: its last attempt (of 2) failed: NOT_ENOUGH_REPLICAS from broker 1');
    const leaderless = setup({ leader: -1 });
    leaderless.seal(NOW);
    leaderless.expiry.expireDue(NOW);
    assert.equal(leaderless.failed[0]!.message, 'not written by any broker: t-0 had no leader known to the producer');
    // No such partition any more (the topic deleted and created again with fewer): said so, not "no leader".
    const gone = setup({ layoutChange: { leaders: [], leaderEpochs: [] } });
    gone.seal(NOW);
    gone.expiry.expireDue(NOW);
    assert.equal(gone.failed[0]!.code, ClientErrorCode.deliveryTimeout);
    assert.equal(gone.failed[0]!.message, 'not written by any broker: topic t has 0 partition(s) now, so no partition 0 (deleted and created again?)');
  });

  it('names the connection it waited for, and why the last attempt to open it failed', () => {
    const unconnected = (connectFailure: Error | undefined) => ({ isConnected: false, connectFailure, canSend: () => true }) as unknown as Sink;
    const opening = setup({ sink: unconnected(undefined) });
    opening.seal(NOW);
    opening.expiry.expireDue(NOW);
    assert.equal(opening.failed[0]!.message, 'not written by any broker: no connection to broker 1 was open');
    const refused = setup({ sink: unconnected(new Error('connect ECONNREFUSED 127.0.0.1:9')) });
    const [batch] = refused.seal(NOW);
    batch!.attempts = 1;
    batch!.lastError = 'NOT_LEADER_OR_FOLLOWER from broker 2';
    refused.expiry.expireDue(NOW);
    assert.equal(
      refused.failed[0]!.message,
      'not written by any broker: no connection to broker 1 was open; the last attempt to connect failed: connect ECONNREFUSED 127.0.0.1:9; ' +
        'its last attempt (of 1) failed: NOT_LEADER_OR_FOLLOWER from broker 2',
    );
  });

  it('fails a batch of a topic the cluster says is unknown as such', () => {
    const { expiry, failed, seal } = setup({ unknownTopic: true });
    seal(NOW);
    expiry.expireDue(NOW);
    assert.deepEqual([failed[0]!.code, failed[0]!.message], [ClientErrorCode.unknownTopic, 'topic t: UNKNOWN_TOPIC_OR_PARTITION']);
  });
});

describe('BatchExpiry.abandonUnsent (close\'s send cut-off)', () => {
  it('fails every batch no broker may hold, whatever its deadline, and leaves the rest', () => {
    const { p, expiry, failed, seal } = setup();
    const [inFlight, refused, ambiguous, encoding, queued] = seal(NOW + 10, NOW + 20, NOW + 30, NOW + 40, NOW + 50);
    inFlight!.inFlight = true;
    // `refused`: answered with an error and backing off, so neither in flight nor ambiguous.
    ambiguous!.ambiguous = true;
    encoding!.bytes = undefined;
    expiry.abandonUnsent(ClientErrorCode.closed, 'the producer closed before the batch was sent');
    assert.deepEqual(failed.map((f) => [f.batch, f.code, f.message]), [
      [refused, ClientErrorCode.closed, 'the producer closed before the batch was sent'],
      [queued, ClientErrorCode.closed, 'the producer closed before the batch was sent'],
    ]);
    assert.deepEqual(p.sealed, [inFlight, ambiguous, encoding]);
  });
});
