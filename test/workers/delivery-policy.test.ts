/**
 * The delivery policy on its own: one partition's batches, sequences and epoch through every kind of answer, with up
 * to five batches in flight. Each test names the rule it checks (src/workers/delivery-policy.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionState, type TopicState } from '../../src/workers/partition-state.js';
import { newBatch, splitBatch, type Batch } from '../../src/workers/batch.js';
import * as policy from '../../src/workers/delivery-policy.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ClientErrorCode } from '../../src/shared/completion-entry.js';

const IDEMPOTENT: policy.PolicySettings = { idempotent: true };
const PLAIN: policy.PolicySettings = { idempotent: false };
const NOW = 1_000_000;
const DEADLINE = NOW + 120_000;
const NO_CLOSE = Number.MAX_SAFE_INTEGER;

/**
 * A partition whose broker already acknowledged one of its batches in this epoch (so it holds our producer state and
 * refuses sequence gaps): the window is open. `fresh` gives one that has sent nothing yet.
 */
function partition(epoch = 0, { fresh = false } = {}): PartitionState {
  const topic: TopicState = { index: 0, name: 't', partitions: new Map() };
  const p = new PartitionState(topic, 0, epoch);
  p.acknowledgedInEpoch = !fresh;
  return p;
}

/** Seals `sizes.length` encoded batches of that many records each. */
function seal(p: PartitionState, ...sizes: number[]): Batch[] {
  return sizes.map((size) => {
    const batch = newBatch(new Uint32Array(size), DEADLINE);
    batch.bytes = Buffer.alloc(70);
    p.sealed.push(batch);
    return batch;
  });
}

/** Sends every batch the window lets go, as the worker's pump does; returns them in order. */
function sendAll(p: PartitionState, window = 5, settings = IDEMPOTENT): Batch[] {
  const sent: Batch[] = [];
  for (let batch; (batch = policy.nextToSend(p, window)) !== undefined; ) {
    policy.markSent(p, batch, settings);
    sent.push(batch);
  }
  return sent;
}

const ok: policy.Answer = { errorCode: ErrorCode.NONE, errorMessage: null };
const error = (errorCode: number): policy.Answer => ({ errorCode, errorMessage: `error ${errorCode}` });
const answer = (p: PartitionState, batch: Batch, a = ok, now = NOW, settings = IDEMPOTENT): policy.Verdict => policy.answered(p, batch, a, settings, now, NO_CLOSE);

describe('delivery policy: the first batch of an epoch goes alone', () => {
  test('a fresh partition sends one batch until the broker acknowledged one, then the whole window', () => {
    const p = partition(0, { fresh: true });
    const [a, b, c, d] = seal(p, 1, 1, 1, 1);
    assert.deepEqual(sendAll(p), [a], 'the broker may hold no state for us here: it would take any sequence');
    assert.equal(answer(p, a!).action, 'deliver');
    assert.deepEqual(sendAll(p), [b, c, d]);
    assert.deepEqual([a, b, c, d].map((x) => x!.baseSequence), [0, 1, 2, 3]);
  });

  test('a first batch refused before the broker looked at its sequence never has a later batch written ahead of it', () => {
    // Without producer state the broker accepts any sequence: had b been pipelined behind a, a refusal of a for
    // NOT_ENOUGH_REPLICAS would let b be written first, and a's retry (out of order for the broker, then an epoch
    // bump) would land after it.
    const p = partition(0, { fresh: true });
    const [a, b] = seal(p, 1, 1);
    assert.deepEqual(sendAll(p), [a]);
    assert.equal(answer(p, a!, error(ErrorCode.NOT_ENOUGH_REPLICAS)).action, 'retry');
    assert.deepEqual(sendAll(p), [a], 'a again, alone; b still waits');
    assert.equal(answer(p, a!).action, 'deliver');
    assert.deepEqual(sendAll(p), [b]);
  });

  test('numbers taken back from a refused first batch are never reused while a later batch may hold them', () => {
    // INVALID_TIMESTAMP fails x for good and hands its numbers on. Had y been pipelined with x's successors'
    // numbers and written, later records reusing those numbers would be dropped by the broker as duplicates of y.
    const p = partition(0, { fresh: true });
    const [x, y, z] = seal(p, 1, 2, 2);
    assert.deepEqual(sendAll(p), [x]);
    assert.equal(answer(p, x!, error(ErrorCode.INVALID_TIMESTAMP)).action, 'fail');
    assert.deepEqual(sendAll(p), [y], 'y takes x\'s base and still goes alone');
    assert.equal(y!.baseSequence, 0);
    assert.equal(answer(p, y!).action, 'deliver');
    assert.deepEqual(sendAll(p), [z]);
    assert.equal(z!.baseSequence, 2);
  });

  test('a transactional partition taking a new epoch sends one batch first again', () => {
    const p = partition(0);
    assert.equal(policy.adoptEpoch(p, 1n, 1), true);
    const [a, b] = seal(p, 1, 1);
    assert.deepEqual(sendAll(p), [a]);
    assert.equal(answer(p, a!).action, 'deliver');
    assert.deepEqual(sendAll(p), [b]);
  });
});

describe('delivery policy: the window', () => {
  test('up to `window` batches go in order, each with the next sequences; the rest wait', () => {
    const p = partition();
    const batches = seal(p, 3, 2, 4, 1, 1, 1, 1);
    const sent = sendAll(p);
    assert.deepEqual(sent, batches.slice(0, 5));
    assert.deepEqual(sent.map((b) => b.baseSequence), [0, 3, 5, 9, 10]);
    assert.equal(p.inFlight, 5);
    assert.equal(p.nextSequence, 11);
    assert.equal(policy.nextToSend(p, 5), undefined, 'the window is full');
    assert.equal(answer(p, batches[0]!).action, 'deliver');
    assert.equal(policy.nextToSend(p, 5), batches[5], 'one answer frees one place');
  });

  test('without idempotence one batch at a time, and no sequences', () => {
    const p = partition();
    seal(p, 2, 2);
    const window = policy.partitionWindow(false, 5);
    assert.equal(window, 1);
    assert.equal(policy.partitionWindow(true, 5), 5);
    const sent = sendAll(p, window, PLAIN);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.baseSequence, -1);
    assert.equal(policy.markSent(p, seal(p, 1)[0]!, PLAIN), false, 'nothing to stamp');
  });

  test('a batch still encoding holds back everything behind it', () => {
    const p = partition();
    const [first, second] = seal(p, 1, 1);
    first!.bytes = undefined;
    assert.equal(policy.nextToSend(p, 5), undefined);
    first!.bytes = Buffer.alloc(70);
    assert.deepEqual(sendAll(p), [first, second]);
  });

  test('a stamped sequence is kept on resend: markSent asks for a new one only when it has none', () => {
    const p = partition();
    const [batch] = seal(p, 4);
    assert.equal(policy.markSent(p, batch!, IDEMPOTENT), true);
    assert.equal(answer(p, batch!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER)).action, 'retry');
    assert.equal(policy.markSent(p, batch!, IDEMPOTENT), false);
    assert.equal(batch!.baseSequence, 0);
    assert.equal(batch!.attempts, 2);
    assert.equal(p.nextSequence, 4);
  });

  test('sequences wrap from 2^31 - 1 to 0', () => {
    const p = partition();
    p.nextSequence = 2 ** 31 - 2;
    const [a, b] = seal(p, 2, 1);
    sendAll(p);
    assert.equal(a!.baseSequence, 2 ** 31 - 2);
    assert.equal(b!.baseSequence, 0);
  });
});

describe('delivery policy: success', () => {
  test('DUPLICATE_SEQUENCE_NUMBER is a success: the broker already holds the batch', () => {
    const p = partition();
    const [batch] = seal(p, 2);
    sendAll(p);
    assert.equal(answer(p, batch!, error(ErrorCode.DUPLICATE_SEQUENCE_NUMBER)).action, 'deliver');
    assert.equal(p.sealed.length, 0);
    assert.equal(p.inFlight, 0);
  });

  test('an answer for a batch close already reported is ignored', () => {
    const p = partition();
    const [batch] = seal(p, 1);
    sendAll(p);
    assert.deepEqual(policy.abandonAll(p), [batch]);
    assert.equal(answer(p, batch!).action, 'ignore');
    assert.equal(policy.lost(p, batch!, true, undefined, IDEMPOTENT).action, 'ignore');
    assert.equal(p.inFlight, 0);
  });

  test('acks 0: the answer on write is a success like any other', () => {
    const p = partition();
    const [batch] = seal(p, 1);
    sendAll(p, 1, PLAIN);
    assert.equal(answer(p, batch!, { errorCode: 0, errorMessage: null }, NOW, PLAIN).action, 'deliver');
  });
});

describe('delivery policy: retries', () => {
  test('NOT_LEADER_OR_FOLLOWER: retried with a metadata refresh; nothing more is sent until the window is empty', () => {
    const p = partition();
    const [a, b, c] = seal(p, 1, 1, 1);
    sendAll(p, 2);
    assert.deepEqual(answer(p, a!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER)), { action: 'retry', refreshMetadata: true });
    assert.equal(p.recovering, true);
    assert.equal(policy.nextToSend(p, 5), undefined, 'b is still in flight');
    assert.equal(answer(p, b!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER)).action, 'retry');
    assert.equal(p.recovering, false);
    // Resent in order with their own sequences, then the new batch takes the next one.
    assert.deepEqual(sendAll(p), [a, b, c]);
    assert.deepEqual([a, b, c].map((x) => x!.baseSequence), [0, 1, 2]);
  });

  test('OUT_OF_ORDER_SEQUENCE_NUMBER behind an unanswered or failed batch is retried, not an epoch bump', () => {
    const p = partition();
    const [a, b] = seal(p, 1, 1);
    sendAll(p);
    assert.equal(answer(p, a!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER)).action, 'retry');
    assert.equal(answer(p, b!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)).action, 'retry');
    assert.equal(p.epoch, 0);
    assert.deepEqual(sendAll(p).map((x) => x.baseSequence), [0, 1]);
  });

  test('OUT_OF_ORDER_SEQUENCE_NUMBER for the oldest batch: the next epoch once the window is empty, every batch renumbered from 0', () => {
    const p = partition(3);
    const [a, b, c] = seal(p, 2, 2, 2);
    sendAll(p, 2);
    p.nextSequence = 40; // as if earlier batches had been delivered
    assert.equal(answer(p, a!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)).action, 'retry');
    assert.equal(p.epoch, 3, 'not while b is in flight');
    assert.equal(answer(p, b!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)).action, 'retry');
    assert.equal(p.epoch, 4);
    assert.deepEqual(sendAll(p), [a], 'the broker lost our state: one batch alone until it holds the new epoch');
    assert.equal(answer(p, a!).action, 'deliver');
    assert.deepEqual(sendAll(p), [b, c]);
    assert.deepEqual([a, b, c].map((x) => x!.baseSequence), [0, 2, 4]);
  });

  test('OUT_OF_ORDER_SEQUENCE_NUMBER for the oldest batch that acknowledged later batches overtook: no bump, failed as possibly written', () => {
    // a is answered REQUEST_TIMED_OUT (written), b..e succeed after it; a's retry is refused before the log (a
    // leader change) while f behind it is appended: b..f are the broker's last five batches, and a's next retry
    // gets OUT_OF_ORDER_SEQUENCE_NUMBER. Resent under the next epoch, a would be written twice, after f.
    const p = partition();
    const [a, b, c, d, e] = seal(p, 1, 1, 1, 1, 1);
    sendAll(p);
    assert.equal(answer(p, a!, error(ErrorCode.REQUEST_TIMED_OUT)).action, 'retry');
    for (const x of [b, c, d, e]) assert.equal(answer(p, x!).action, 'deliver');
    const [f] = seal(p, 1);
    assert.deepEqual(sendAll(p), [a, f]);
    assert.equal(answer(p, a!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER)).action, 'retry');
    assert.equal(answer(p, f!).action, 'deliver');
    sendAll(p);
    const verdict = answer(p, a!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
    assert.equal(verdict.action, 'fail');
    assert.equal(p.epoch, 0);
    assert.equal(a!.ambiguous, true);
    assert.equal(p.nextSequence, 6, 'its numbers stay taken');
  });

  test('UNKNOWN_PRODUCER_ID for the oldest batch bumps the epoch too', () => {
    const p = partition();
    const [a] = seal(p, 1);
    sendAll(p);
    assert.equal(answer(p, a!, error(ErrorCode.UNKNOWN_PRODUCER_ID)).action, 'retry');
    assert.equal(p.epoch, 1);
    assert.equal(p.nextSequence, 0);
  });

  test('at the last epoch a sequence gap fails the batch', () => {
    const p = partition(policy.MAX_EPOCH);
    const [a] = seal(p, 1);
    sendAll(p);
    const verdict = answer(p, a!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
    assert.equal(verdict.action, 'fail');
    assert.equal(p.epoch, policy.MAX_EPOCH);
  });

  test('REQUEST_TIMED_OUT is ambiguous: retried past the delivery deadline, and its sequence is never handed back', () => {
    const p = partition();
    const [a] = seal(p, 3);
    sendAll(p);
    assert.equal(answer(p, a!, error(ErrorCode.REQUEST_TIMED_OUT), DEADLINE + 1).action, 'retry');
    assert.equal(a!.ambiguous, true);
    sendAll(p);
    assert.equal(answer(p, a!, error(ErrorCode.INVALID_RECORD)).action, 'fail');
    assert.equal(p.nextSequence, 3, 'the broker may hold 0..2');
  });

  test('a retriable error after the delivery deadline or the close deadline fails the batch', () => {
    const p = partition();
    const [a, b] = seal(p, 1, 1);
    sendAll(p, 1);
    const late = answer(p, a!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER), DEADLINE);
    assert.deepEqual(late, { action: 'fail', errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, message: `error ${ErrorCode.NOT_LEADER_OR_FOLLOWER}` });
    sendAll(p, 1);
    assert.equal(policy.answered(p, b!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER), IDEMPOTENT, NOW, NOW).action, 'fail');
  });

  test("with acks=-1 NOT_LEADER_OR_FOLLOWER makes the batch ambiguous: retried past its deadline, its numbers kept", () => {
    // A leader that appended the batch and lost its leadership while waiting for the replicas answers so; the
    // follower leading now may hold it. Handed back, its numbers would go to the next batch, which that leader
    // could take for a duplicate of this one.
    const ALL: policy.PolicySettings = { idempotent: true, acks: -1 };
    const p = partition();
    const [a] = seal(p, 3);
    sendAll(p, 1);
    assert.equal(policy.answered(p, a!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER), ALL, DEADLINE, NO_CLOSE).action, 'retry');
    assert.equal(a!.ambiguous, true);
    policy.abandon(p, a!, ALL); // not taken back even if it were abandoned
    assert.equal(p.nextSequence, 3, 'the broker may hold 0..2');
    // With acks=1 the answer comes from the append itself: a leader that was not leader appended nothing.
    const q = partition();
    const [b] = seal(q, 3);
    sendAll(q, 1);
    policy.answered(q, b!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER), { idempotent: true, acks: 1 }, NOW, NO_CLOSE);
    assert.equal(b!.ambiguous, false);
  });

  test('a lost answer: written makes the batch ambiguous; not written keeps it clean; both are retried', () => {
    const p = partition();
    const [a, b] = seal(p, 1, 1);
    sendAll(p, 1);
    assert.deepEqual(policy.lost(p, a!, false, undefined, IDEMPOTENT), { action: 'retry', refreshMetadata: true });
    assert.equal(a!.ambiguous, false);
    sendAll(p, 1);
    assert.equal(policy.lost(p, a!, true, undefined, IDEMPOTENT).action, 'retry');
    assert.equal(a!.ambiguous, true);
    assert.equal(b!.attempts, 0);
  });

  test('a connection refused at authentication fails the batch and hands its sequences on', () => {
    const p = partition();
    const [a, b] = seal(p, 2, 1);
    sendAll(p);
    assert.deepEqual(policy.lost(p, a!, false, 'bad password', IDEMPOTENT), { action: 'fail', errorCode: ClientErrorCode.authentication, message: 'bad password' });
    assert.equal(p.nextSequence, 0);
    assert.equal(b!.baseSequence, -1);
  });

  test('refused at authentication after an attempt went unanswered: failed as possibly written, its numbers kept', () => {
    const p = partition();
    const [a] = seal(p, 2, 1);
    sendAll(p, 1);
    assert.equal(policy.lost(p, a!, true, undefined, IDEMPOTENT).action, 'retry', 'the answer was lost');
    assert.deepEqual(sendAll(p, 1), [a]);
    assert.deepEqual(policy.lost(p, a!, false, 'bad password', IDEMPOTENT), { action: 'fail', errorCode: ClientErrorCode.authenticationAfterLoss, message: 'bad password' });
    assert.equal(p.nextSequence, 2, 'the broker may hold 0-1: not handed on');
  });
});

describe('delivery policy: definitive failures hand their sequences on', () => {
  test('a failed batch in the middle of the window: the batches after it take new numbers from its base', () => {
    const p = partition();
    const [a, b, c, d] = seal(p, 2, 3, 4, 5);
    sendAll(p, 3); // a 0-1, b 2-4, c 5-8 in flight; d waits
    assert.equal(answer(p, a!).action, 'deliver');
    assert.equal(answer(p, b!, error(ErrorCode.INVALID_RECORD)).action, 'fail');
    assert.equal(p.nextSequence, 2);
    assert.equal(c!.baseSequence, -1, 'c was sent with 5 and now needs 2');
    // c comes back refused for the gap b left: its own number was taken back, so no epoch bump.
    assert.equal(answer(p, c!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)).action, 'retry');
    assert.equal(p.epoch, 0);
    assert.deepEqual(sendAll(p), [c, d]);
    assert.deepEqual([c!.baseSequence, d!.baseSequence], [2, 6]);
  });

  test('a failure behind an unanswered retry keeps the older batch\'s number', () => {
    const p = partition();
    const [a, b, c] = seal(p, 1, 1, 1);
    sendAll(p);
    assert.equal(answer(p, a!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER)).action, 'retry');
    assert.equal(answer(p, b!, error(ErrorCode.INVALID_TIMESTAMP)).action, 'fail');
    assert.equal(answer(p, c!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)).action, 'retry');
    assert.deepEqual(sendAll(p), [a, c]);
    assert.deepEqual([a!.baseSequence, c!.baseSequence], [0, 1]);
  });

  test('MESSAGE_TOO_LARGE splits a multi-record batch in its place; a single record fails', () => {
    const p = partition();
    const [a, b] = seal(p, 4, 1);
    sendAll(p, 1);
    assert.deepEqual(answer(p, a!, error(ErrorCode.MESSAGE_TOO_LARGE)), { action: 'split', index: 0 });
    assert.equal(p.sealed.includes(a!), true, 'the worker replaces it with its halves');
    assert.equal(p.nextSequence, 0);
    p.sealed.splice(0, 1);
    sendAll(p, 1);
    assert.equal(answer(p, b!, error(ErrorCode.MESSAGE_TOO_LARGE)).action, 'fail');
  });

  test('the halves of a split take the whole\'s numbers, in order, even when an earlier attempt of it went unanswered', () => {
    // A size refusal says an earlier attempt of the same bytes was refused too. Kept back for an ambiguous batch,
    // its numbers (0-3) left a gap: the halves were numbered 5 and 7, after b, and every one of them was refused.
    const settings: policy.PolicySettings = { idempotent: true, acks: -1, transactionalId: 'tx' };
    const p = partition();
    const [a, b] = seal(p, 4, 1);
    sendAll(p, 5, settings);
    assert.equal(answer(p, a!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER), NOW, settings).action, 'retry');
    assert.equal(a!.ambiguous, true);
    assert.equal(answer(p, b!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), NOW, settings).action, 'retry');
    sendAll(p, 5, settings);
    assert.deepEqual(answer(p, a!, error(ErrorCode.MESSAGE_TOO_LARGE), NOW, settings), { action: 'split', index: 0 });
    const [first, second] = splitBatch(a!);
    p.sealed.splice(0, 1, first, second); // as the worker does (BatchOutcomes#split)
    for (const half of [first, second]) half.bytes = Buffer.alloc(70);
    assert.equal(answer(p, b!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), NOW, settings).action, 'retry');
    assert.deepEqual(sendAll(p, 5, settings), [first, second, b]);
    assert.deepEqual([first.baseSequence, second.baseSequence, b!.baseSequence], [0, 2, 4]);
    for (const batch of [first, second, b!]) assert.equal(answer(p, batch, ok, NOW, settings).action, 'deliver');
  });

  test('abandon (deadline, close, encoding failure) hands the numbers on and ignores a batch in flight', () => {
    const p = partition();
    const [a, b] = seal(p, 2, 2);
    sendAll(p, 5);
    policy.abandon(p, a!, IDEMPOTENT);
    assert.equal(p.sealed.length, 2, 'in flight: not abandoned');
    assert.equal(answer(p, a!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER)).action, 'retry');
    assert.equal(answer(p, b!, error(ErrorCode.NOT_LEADER_OR_FOLLOWER)).action, 'retry');
    policy.abandon(p, a!, IDEMPOTENT);
    assert.deepEqual(p.sealed, [b]);
    assert.equal(b!.baseSequence, -1);
    assert.deepEqual(sendAll(p).map((x) => x.baseSequence), [0]);
  });

  test('an ambiguous batch that is abandoned keeps its numbers taken', () => {
    const p = partition();
    const [a, b] = seal(p, 2, 2);
    sendAll(p, 1);
    policy.lost(p, a!, true, undefined, IDEMPOTENT);
    policy.abandon(p, a!, IDEMPOTENT);
    assert.equal(p.nextSequence, 2);
    assert.deepEqual(sendAll(p), [b]);
    assert.equal(b!.baseSequence, 2);
  });

  test('without idempotence nothing is renumbered', () => {
    const p = partition();
    const [a, b] = seal(p, 1, 1);
    sendAll(p, 1, PLAIN);
    assert.equal(answer(p, a!, error(ErrorCode.INVALID_RECORD), NOW, PLAIN).action, 'fail');
    assert.equal(answer(p, a!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), NOW, PLAIN).action, 'ignore');
    assert.deepEqual(sendAll(p, 1, PLAIN), [b]);
    assert.equal(p.nextSequence, 0);
  });
});

describe('a transactional producer (its epoch is the coordinator\'s)', () => {
  const TRANSACTIONAL: policy.PolicySettings = { idempotent: true, transactionalId: 'tx' };

  test('a lost sequence state fails the batch: no local epoch bump, the transaction must abort', () => {
    for (const code of [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode.UNKNOWN_PRODUCER_ID]) {
      const p = partition(3);
      const [a] = seal(p, 1);
      sendAll(p, 5, TRANSACTIONAL);
      const verdict = answer(p, a!, error(code), NOW, TRANSACTIONAL);
      assert.equal(verdict.action, 'fail');
      assert.equal(p.epoch, 3, 'the epoch stays the coordinator\'s');
    }
  });

  test('behind an older failed batch it is still retried (the older batch is the one that failed)', () => {
    const p = partition();
    const [, b] = seal(p, 1, 1);
    sendAll(p, 5, TRANSACTIONAL);
    assert.equal(answer(p, b!, error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), NOW, TRANSACTIONAL).action, 'retry');
  });

  test('a fenced answer fails the batch', () => {
    const p = partition();
    const [a] = seal(p, 1);
    sendAll(p, 5, TRANSACTIONAL);
    const verdict = answer(p, a!, error(ErrorCode.INVALID_PRODUCER_EPOCH), NOW, TRANSACTIONAL);
    assert.deepEqual(verdict.action, 'fail');
  });

  test('adoptEpoch: a new published epoch restarts sequences at 0, but only once nothing is in flight', () => {
    const p = partition(5);
    const [a, b] = seal(p, 2, 2);
    sendAll(p, 1, TRANSACTIONAL);
    assert.equal(p.nextSequence, 2);
    assert.equal(policy.adoptEpoch(p, 1n, 6), false, 'a batch is in flight');
    assert.equal(p.epoch, 5);
    assert.equal(answer(p, a!, ok, NOW, TRANSACTIONAL).action, 'deliver');
    assert.equal(policy.adoptEpoch(p, 1n, 6), true);
    assert.equal(p.epoch, 6);
    assert.equal(p.nextSequence, 0);
    assert.equal(b!.baseSequence, -1, 'the waiting batch takes a new number');
    sendAll(p, 1, TRANSACTIONAL);
    assert.equal(b!.baseSequence, 0);
    assert.equal(policy.adoptEpoch(p, 1n, 6), true, 'the same id and epoch is a no-op');
    assert.equal(p.nextSequence, 2);
  });

  test('adoptEpoch: a new producer id at the epoch the partition last used restarts sequences too (the epoch ran out)', () => {
    // When the epoch runs out the coordinator hands out a new producer id at epoch 0 (KIP-890's EndTxn, KIP-360's
    // InitProducerId). A partition idle since the old id, last at the epoch the new id has reached, kept the old
    // id's sequences and pipelined batches to a broker with no state for the new id.
    const p = partition(7);
    assert.equal(policy.adoptEpoch(p, 1000n, 7), true);
    const [a, b] = seal(p, 3, 2);
    sendAll(p, 5, TRANSACTIONAL);
    answer(p, a!, ok, NOW, TRANSACTIONAL);
    sendAll(p, 5, TRANSACTIONAL);
    answer(p, b!, ok, NOW, TRANSACTIONAL);
    assert.equal(p.nextSequence, 5);
    assert.equal(policy.adoptEpoch(p, 2000n, 7), true);
    assert.equal(p.nextSequence, 0);
    const [c, d] = seal(p, 1, 1);
    assert.deepEqual(sendAll(p, 5, TRANSACTIONAL), [c], 'one batch alone first, as in any new epoch');
    assert.equal(c!.baseSequence, 0);
    assert.equal(d!.baseSequence, -1);
  });
});
