/**
 * Coordinators.call (src/main/transactions/coordinators.ts) tells its caller whether a request went out and got no
 * answer: only then may the coordinator have applied it (an EndTxn(commit) whose fate is unknown).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndTxn } from '../../../src/protocol/apis/end-txn.js';
import { CoordinatorType } from '../../../src/protocol/apis/find-coordinator.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { Coordinators } from '../../../src/main/transactions/coordinators.js';
import type { TopicRegistry } from '../../../src/main/topic-registry.js';
import { ConnectionError, ProtocolError } from '../../../src/shared/errors.js';
import { AbortError } from '../../../src/shared/producer-errors.js';
import { TransactionAbortableError, TransactionFatalError, TransactionRetriableError } from '../../../src/shared/transaction-errors.js';

const FOUND = { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: 1, host: '127.0.0.1', port: 1 };
const NOT_AVAILABLE = { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null, nodeId: -1, host: '', port: -1 };

/** A registry whose FindCoordinator answers `found()`, and whose coordinator answers EndTxn with `endTxn()`. */
function coordinatorsWith(found: () => object, endTxn: () => Promise<object>): Coordinators {
  const connection = { isClosed: false, request: () => endTxn(), close: async () => undefined };
  const registry = {
    connection: async () => ({ request: async () => found() }),
    connectTo: async () => connection,
    reconnectDelay: () => 0,
    reconnectReason: () => undefined,
  } as unknown as TopicRegistry;
  return new Coordinators(registry, { retryBackoffMs: 1, retryBackoffMaxMs: 1 });
}

const endTxn = { transactionalId: 'tx', producerId: 1n, producerEpoch: 0, committed: true };

describe('Coordinators.call', () => {
  it('marks a request that was sent and lost its connection as unanswered', async () => {
    const coordinators = coordinatorsWith(() => FOUND, () => Promise.reject(new ConnectionError('connection closed by the broker')));
    const unanswered = { value: false };
    await assert.rejects(
      coordinators.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 20, errorOf: (r) => r.errorCode, unanswered }),
      TransactionRetriableError,
    );
    assert.equal(unanswered.value, true);
    await coordinators.close();
  });

  it('leaves it false when no coordinator was ever found, and when the caller aborted before a request went out', async () => {
    const notFound = coordinatorsWith(() => NOT_AVAILABLE, () => Promise.reject(new Error('never asked')));
    const unanswered = { value: false };
    await assert.rejects(
      notFound.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 20, errorOf: (r) => r.errorCode, unanswered }),
      TransactionRetriableError,
    );
    assert.equal(unanswered.value, false);

    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      notFound.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 1000, signal: controller.signal, errorOf: (r) => r.errorCode, unanswered }),
      AbortError,
    );
    assert.equal(unanswered.value, false);
    await notFound.close();
  });

  it('releases its caller as the signal aborts while the coordinator is being found: nothing was sent', { timeout: 30_000 }, async () => {
    // The lookup (FindCoordinator, shared by every caller) was awaited without the signal: a commit whose signal
    // aborted before its EndTxn went out waited for a coordinator that did not answer, up to requestTimeoutMs.
    let answerLookup!: (answer: object) => void;
    const lookup = new Promise<object>((resolve) => (answerLookup = resolve));
    const silent = coordinatorsWith(() => lookup, () => Promise.reject(new Error('never asked')));
    const controller = new AbortController();
    const unanswered = { value: false };
    const call = silent.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, {
      deadline: Date.now() + 600_000, signal: controller.signal, errorOf: (r) => r.errorCode, unanswered,
    });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('deadline'));
    await assert.rejects(call, (error: unknown) => error instanceof AbortError && error.delivery === 'not-sent');
    assert.equal(unanswered.value, false, 'no request went out');
    answerLookup(NOT_AVAILABLE); // close waits for the lookup under way
    await silent.close();
  });

  it('leaves it false when every request was answered, with a code to retry', async () => {
    const busy = coordinatorsWith(() => FOUND, async () => ({ errorCode: ErrorCode.CONCURRENT_TRANSACTIONS, producerId: -1n, producerEpoch: -1 }));
    const unanswered = { value: false };
    await assert.rejects(
      busy.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 30, errorOf: (r) => r.errorCode, unanswered }),
      TransactionRetriableError,
    );
    assert.equal(unanswered.value, false);
    await busy.close();
  });

  it('gives up on a code it retried naming where in the answer it was (`where`), as the last answer said', async () => {
    // TxnOffsetCommit's UNKNOWN_TOPIC_OR_PARTITION is retried to the deadline: the error then said the code alone,
    // not which of the commit's partitions the coordinator does not know.
    const unknown = coordinatorsWith(() => FOUND, async () => ({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, producerId: -1n, producerEpoch: -1 }));
    await assert.rejects(
      unknown.call(CoordinatorType.GROUP, 'g', EndTxn, endTxn, { deadline: Date.now() + 30, errorOf: (r) => r.errorCode, where: () => 'partition in-3' }),
      (error: unknown) => error instanceof TransactionRetriableError
        && error.message === 'EndTxn for g did not succeed in time: UNKNOWN_TOPIC_OR_PARTITION (partition in-3)',
    );
    await unknown.close();
  });
});

describe('Coordinators.call, when FindCoordinator refuses or misleads', () => {
  const refused = (errorCode: number) => ({ errorCode, errorMessage: 'not allowed', nodeId: -1, host: '', port: -1 });

  it('a transactional id not authorised is fatal, a group not authorised abortable, each naming FindCoordinator', async () => {
    const noId = coordinatorsWith(() => refused(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED), () => Promise.reject(new Error('never asked')));
    await assert.rejects(
      noId.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 1000, errorOf: (r) => r.errorCode }),
      (error: unknown) => error instanceof TransactionFatalError && error.errorCode === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED &&
        /^FindCoordinator for tx: TRANSACTIONAL_ID_AUTHORIZATION_FAILED \(not allowed\)$/.test(error.message),
    );
    await noId.close();
    const noGroup = coordinatorsWith(() => refused(ErrorCode.GROUP_AUTHORIZATION_FAILED), () => Promise.reject(new Error('never asked')));
    await assert.rejects(
      noGroup.call(CoordinatorType.GROUP, 'g', EndTxn, endTxn, { deadline: Date.now() + 1000, errorOf: (r) => r.errorCode }),
      (error: unknown) => error instanceof TransactionAbortableError && error.errorCode === ErrorCode.GROUP_AUTHORIZATION_FAILED,
    );
    await noGroup.close();
  });

  it('an address no connection can have is asked again, never connected to', async () => {
    const answers = [{ ...FOUND, port: 70_000 }, { ...FOUND, host: '' }, FOUND];
    const connectedTo: unknown[] = [];
    const registry = {
      connection: async () => ({ request: async () => answers.shift() }),
      connectTo: async (broker: { host: string; port: number }) => {
        connectedTo.push(`${broker.host}:${broker.port}`);
        return { isClosed: false, request: async () => ({ errorCode: ErrorCode.NONE }), close: async () => undefined };
      },
      reconnectDelay: () => 0,
      reconnectReason: () => undefined,
    } as unknown as TopicRegistry;
    const coordinators = new Coordinators(registry, { retryBackoffMs: 1, retryBackoffMaxMs: 1 });
    await coordinators.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 1000, errorOf: (r) => r.errorCode });
    assert.deepEqual(connectedTo, ['127.0.0.1:1']);
    await coordinators.close();
  });

  it('an answer that cannot be read is retried on a new connection, and marks the call unanswered', async () => {
    const answers: (() => Promise<object>)[] = [
      () => Promise.reject(new ProtocolError('EndTxn response: 3 bytes left over')),
      async () => ({ errorCode: ErrorCode.NONE, producerId: -1n, producerEpoch: -1 }),
    ];
    const coordinators = coordinatorsWith(() => FOUND, () => answers.shift()!());
    const unanswered = { value: false };
    const answer = await coordinators.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 1000, errorOf: (r) => r.errorCode, unanswered });
    assert.equal(answer.errorCode, ErrorCode.NONE);
    assert.equal(unanswered.value, true, 'the unreadable answer may have been an applied EndTxn');
    await coordinators.close();
  });
});

describe('Coordinators.call, with a coordinator out of reach', () => {
  it('waits out the coordinator\'s reconnect backoff before connecting again, up to its deadline, and gives up there', async () => {
    // A retry backoff of 1 ms: without the reconnect backoff, a connection to the coordinator was tried every
    // millisecond or so until the deadline.
    let attempts = 0;
    const registry = {
      connection: async () => ({ request: async () => FOUND }),
      connectTo: async () => {
        attempts++;
        throw new ConnectionError('connecting to 127.0.0.1:1 failed: connect ECONNREFUSED 127.0.0.1:1');
      },
      reconnectDelay: (target?: object) => (attempts > 0 && target !== undefined ? 60_000 : 0),
      reconnectReason: (target?: object) => (target === undefined ? undefined : 'refused at 127.0.0.1:1'),
    } as unknown as TopicRegistry;
    const coordinators = new Coordinators(registry, { retryBackoffMs: 1, retryBackoffMaxMs: 1 });
    await assert.rejects(
      coordinators.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 1000, errorOf: (r) => r.errorCode }),
      (error: unknown) => error instanceof TransactionRetriableError && /ECONNREFUSED/.test(error.message),
    );
    assert.equal(attempts, 1, 'the next attempt would have come after the deadline');
    // A later call waits out the rest of that pause before it connects, up to its own deadline: no attempt at all.
    await assert.rejects(
      coordinators.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 200, errorOf: (r) => r.errorCode }),
      (error: unknown) => error instanceof TransactionRetriableError && /did not succeed in time: no connection: refused at 127\.0\.0\.1:1/.test(error.message),
    );
    assert.equal(attempts, 1);
    await coordinators.close();
  });
});

/** A wait that ends only when `signal` aborts, as the registry's and a connection's waits honour their signal. */
const untilAbort = (signal: AbortSignal | undefined): Promise<never> =>
  new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new AbortError('not-sent', 'aborted')), { once: true }));

describe('Coordinators: group coordinators\' connections', () => {
  it('keeps at most 8 open, closing the least recently called first, but never one a call is using', async () => {
    // One connection per consumer group ever passed to sendOffsets stayed open for the producer's life.
    const opened: { group: string; closed: boolean; answer: () => void }[] = [];
    let lookingUp = '';
    const registry = {
      connection: async () => ({ request: async (_api: unknown, request: { key: string }) => ((lookingUp = request.key), FOUND) }),
      connectTo: async () => {
        const connection = {
          group: lookingUp, closed: false, answer: () => {},
          isClosed: false,
          // The first group's request waits until the test answers it: its call is under way meanwhile.
          request: () => (connection.group === 'group-0' ? new Promise((resolve) => (connection.answer = () => resolve({ errorCode: 0 }))) : Promise.resolve({ errorCode: 0 })),
          close: async () => void (connection.closed = true),
        };
        opened.push(connection);
        return connection;
      },
      reconnectDelay: () => 0,
      reconnectReason: () => undefined,
    } as unknown as TopicRegistry;
    const coordinators = new Coordinators(registry, { retryBackoffMs: 1, retryBackoffMaxMs: 1 });
    const call = (group: string) =>
      coordinators.call(CoordinatorType.GROUP, group, EndTxn, endTxn, { deadline: Date.now() + 60_000, errorOf: (r) => r.errorCode });
    const first = call('group-0');
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 1; i <= 20; i++) await call(`group-${i}`);
    const open = opened.filter((c) => !c.closed).map((c) => c.group);
    assert.deepEqual(open, ['group-0', ...Array.from({ length: 8 }, (_, i) => `group-${13 + i}`)], 'the 8 last called, and the one in use');
    opened[0]!.answer();
    await first;
    // group-0's call ended last but one: it counts as recently used; 13 and 14 are the least recently called now.
    await call('group-21');
    assert.deepEqual(opened.filter((c) => !c.closed).map((c) => c.group), ['group-0', ...Array.from({ length: 7 }, (_, i) => `group-${15 + i}`)]);
    await coordinators.close();
  });
});

describe('Coordinators.close', () => {
  it('ends while a lookup waits for the bootstrap connection or for the coordinator\'s, and the caller is told', async () => {
    for (const stuck of ['bootstrap', 'coordinator'] as const) {
      const registry = {
        connection: (signal?: AbortSignal) => (stuck === 'bootstrap' ? untilAbort(signal) : Promise.resolve({ request: async () => FOUND })),
        connectTo: (_broker: unknown, signal?: AbortSignal) => untilAbort(signal),
        reconnectDelay: () => 0,
    reconnectReason: () => undefined,
      } as unknown as TopicRegistry;
      const coordinators = new Coordinators(registry, { retryBackoffMs: 1, retryBackoffMaxMs: 1 });
      const call = coordinators.call(CoordinatorType.TRANSACTION, 'tx', EndTxn, endTxn, { deadline: Date.now() + 60_000, errorOf: (r) => r.errorCode });
      await new Promise((resolve) => setImmediate(resolve)); // the lookup is under way
      await coordinators.close();
      await assert.rejects(call, AbortError, `stuck at the ${stuck} connection`);
    }
  });
});
