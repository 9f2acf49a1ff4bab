/**
 * The transaction wire protocol on the real broker: FindCoordinator for a transactional id, InitProducerId with
 * that id at the coordinator, then EndTxn(abort) with nothing in the transaction. The broker must answer each with
 * a well-defined code, and its handshake must carry the finalized `transaction.version` feature (KIP-890).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../src/net/connection.js';
import { CoordinatorType, FindCoordinator, type FindCoordinatorResponse } from '../../src/protocol/apis/find-coordinator.js';
import { InitProducerId, type InitProducerIdResponse } from '../../src/protocol/apis/init-producer-id.js';
import { EndTxn } from '../../src/protocol/apis/end-txn.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { ErrorCode, transactionErrorCategory } from '../../src/protocol/error-codes.js';
import { uniqueTopic, useBroker } from '../helpers/broker.js';

const connect = (host: string, port: number): Promise<Connection> =>
  Connection.connect({ host, port, clientId: 'ringkafka-test', requestTimeoutMs: 30_000, maxInFlight: 1 });

/** Sends until the answer is not retriable: a fresh cluster creates __transaction_state on first use. */
async function untilSettled<T extends { errorCode: number }>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const response = await send();
    const settled = response.errorCode === 0 || transactionErrorCategory(response.errorCode) === 'fatal' || transactionErrorCategory(response.errorCode) === 'abortable';
    if (settled || attempt >= 100) return response;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('FindCoordinator → InitProducerId → EndTxn(abort) with a transactional id', async (t) => {
  const [address] = await useBroker();
  const [host, port] = address!.split(':');
  const transactionalId = uniqueTopic('ringkafka-txn');
  const bootstrap = await connect(host!, Number(port));
  let coordinator: Connection | undefined;
  try {
    const transactionVersion = bootstrap.finalizedFeature('transaction.version');
    t.diagnostic(`finalized transaction.version ${transactionVersion} (epoch ${bootstrap.finalizedFeaturesEpoch})`);
    assert.ok(bootstrap.finalizedFeaturesEpoch >= 0n, 'a KRaft broker sends its finalized features epoch');
    assert.ok(bootstrap.finalizedFeatures.has('metadata.version'), 'metadata.version is always finalized on KRaft');
    assert.ok(transactionVersion >= 0 && transactionVersion <= 2);
    // The cap the worker needs under transaction protocol v1: Produce never above v11.
    assert.equal(bootstrap.versionFor(Produce, 11), Math.min(11, bootstrap.versionFor(Produce)));

    const found: FindCoordinatorResponse = await untilSettled(() =>
      bootstrap.request(FindCoordinator, { keyType: CoordinatorType.TRANSACTION, key: transactionalId }),
    );
    t.diagnostic(`FindCoordinator v${bootstrap.versionFor(FindCoordinator)}: node ${found.nodeId} at ${found.host}:${found.port}`);
    assert.equal(found.errorCode, 0, `FindCoordinator error ${found.errorCode} ${found.errorMessage ?? ''}`);
    assert.ok(found.nodeId >= 0 && found.port > 0 && found.host.length > 0);

    coordinator = await connect(found.host, found.port);
    const init: InitProducerIdResponse = await untilSettled(() =>
      coordinator!.request(InitProducerId, { transactionalId, transactionTimeoutMs: 60_000 }),
    );
    assert.equal(init.errorCode, 0, `InitProducerId error ${init.errorCode}`);
    assert.ok(init.producerId >= 0n && init.producerEpoch >= 0);

    const endVersion = coordinator.versionFor(EndTxn, transactionVersion >= 2 ? undefined : 4);
    const end = await untilSettled(() =>
      coordinator!.request(
        EndTxn,
        { transactionalId, producerId: init.producerId, producerEpoch: init.producerEpoch, committed: false },
        { version: endVersion },
      ),
    );
    t.diagnostic(`EndTxn v${endVersion} (abort, empty transaction): error ${end.errorCode}, next ${end.producerId}/${end.producerEpoch}`);
    // An empty transaction is not ongoing: a well-defined answer is NONE or INVALID_TXN_STATE.
    assert.ok([ErrorCode.NONE, ErrorCode.INVALID_TXN_STATE].includes(end.errorCode as 0 | 48), `EndTxn error ${end.errorCode}`);
    if (endVersion < 5) assert.deepEqual([end.producerId, end.producerEpoch], [-1n, -1]);
  } finally {
    await bootstrap.close();
    await coordinator?.close();
  }
});
