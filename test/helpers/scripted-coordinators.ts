/**
 * A transaction coordinator scripted per API (no broker, no clock), and a TransactionManager initialised against it:
 * for the tests of the transaction state machine and of what runs on top of it.
 */
import type { Coordinators } from '../../src/main/transactions/coordinators.js';
import { TransactionManager } from '../../src/main/transactions/transaction-manager.js';
import { createProducerIdentity, ProducerIdentityView } from '../../src/shared/producer-identity.js';

export interface Call {
  readonly api: string;
  readonly request: Record<string, unknown>;
  readonly maxVersion: number | undefined;
}

export type Answer = Record<string, unknown> | Error;

const sentUnanswered = new WeakSet<object>();

/**
 * A scripted outcome of a call one request of which went to the coordinator and got no answer (Coordinators.call's
 * `unanswered`): a failure, or the answer a later attempt got.
 */
export function unanswered<T extends object>(outcome: T): T {
  sentUnanswered.add(outcome);
  return outcome;
}

/** A coordinator that answers each API from a queue of scripted answers (default: success) and records every call. */
export class ScriptedCoordinators {
  readonly calls: Call[] = [];
  readonly answers = new Map<string, Answer[]>();
  constructor(readonly transactionVersion: number) {}

  script(api: string, ...answers: Answer[]): void {
    this.answers.set(api, [...(this.answers.get(api) ?? []), ...answers]);
  }

  async connection(): Promise<{ finalizedFeature(name: string): number }> {
    return { finalizedFeature: (name) => (name === 'transaction.version' ? this.transactionVersion : 0) };
  }

  async call(
    _type: number, _key: string, api: { name: string }, request: Record<string, unknown>,
    options: { maxVersion?: number; unanswered?: { value: boolean } },
  ): Promise<unknown> {
    this.calls.push({ api: api.name, request, maxVersion: options.maxVersion });
    const next = this.answers.get(api.name)?.shift();
    if (next !== undefined && sentUnanswered.has(next) && options.unanswered !== undefined) options.unanswered.value = true;
    if (next instanceof Error) throw next;
    if (next !== undefined) return next;
    switch (api.name) {
      case 'InitProducerId': return { errorCode: 0, producerId: 42n, producerEpoch: 7 };
      case 'EndTxn': return { errorCode: 0, producerId: -1n, producerEpoch: -1 };
      case 'TxnOffsetCommit': return { topics: [{ name: 'in', partitions: [{ partition: 0, errorCode: 0 }] }] };
      case 'AddPartitionsToTxn': return { topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] };
      default: return { errorCode: 0 };
    }
  }
}

export async function setUp(transactionVersion = 2) {
  const drained = { promise: Promise.resolve() };
  const coordinators = new ScriptedCoordinators(transactionVersion);
  const view = new ProducerIdentityView(createProducerIdentity());
  const manager = new TransactionManager(
    { transactionalId: 'tx-1', transactionTimeoutMs: 60_000, blockMs: 1000 },
    coordinators as unknown as Coordinators,
    view,
    () => drained.promise,
  );
  await manager.init();
  return { coordinators, view, manager, drained };
}

/** A promise and the functions that settle it. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

export const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

