/**
 * A transaction's end does not wait out lingerMs (src/main/producer.ts, `#sealingUntil`): an abort, or close with a
 * transaction open, waits for the workers to report every record of the transaction, and a worker reports one only
 * once it seals its batch. With lingerMs of ten minutes, close() took them all; the aborted record must be dropped
 * by its worker, never sent. Against the fake broker, transactions of protocol v1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '../../src/main/producer.js';
import { AbortError } from '../../src/shared/producer-errors.js';
import { FAKE_API, FakeBroker } from '../helpers/fake-broker.js';
import { until } from '../helpers/readback.js';

for (const end of ['abortTransaction()', 'close()'] as const) {
  test(`${end} with a record of the open transaction in its worker's open batch ends at once; the record is dropped, not sent`, { timeout: 30_000 }, async () => {
    const broker = await FakeBroker.start(1, () => false, { transactions: true, autoAck: true });
    const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 600_000, transactionalId: `tx-end-${end}` });
    let closed = false;
    try {
      await producer.beginTransaction();
      const sent = producer.send({ topic: 't', partition: 0, value: 'v' }).then(() => assert.fail('delivered'), (error: unknown) => error);
      // The record goes to its worker once its partition is added to the transaction; the worker reads it into its
      // partition's open batch a moment later (were it slower, the test could only pass, never fail wrongly).
      await until(() => broker.requests.some((r) => r.apiKey === FAKE_API.addPartitionsToTxn), 'AddPartitionsToTxn');
      await until(() => producer.metrics().bufferedRecords === 1, 'the record buffered');
      await sleep(100);
      if (end === 'close()') {
        await producer.close();
        closed = true;
      } else await producer.abortTransaction();
      const error = await sent;
      assert.ok(error instanceof AbortError, `the transaction's abort releases its sends: ${String(error)}`);
      assert.equal((error as AbortError).delivery, 'not-sent');
      assert.equal(broker.produces.length, 0, 'the aborted record was sent');
      assert.deepEqual(broker.endTxns.map((e) => e.committed), [false], 'the transaction ends with one abort');
      assert.equal(producer.metrics().bufferedRecords, 0);
    } finally {
      if (!closed) await producer.close({ timeoutMs: 1000 });
      await broker.close();
    }
  });
}
