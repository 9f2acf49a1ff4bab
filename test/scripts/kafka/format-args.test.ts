import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTransactionVersion, storageFormatArgs } from '../../../scripts/kafka/format-args.js';

const base = { clusterId: 'abc', properties: '/k/node-1/server.properties', scram: ['--add-scram', 'SCRAM-SHA-256=[name=a,password=b]'] };

describe('StorageTool format arguments', () => {
  it('finalizes transaction.version with --feature when one is asked for', () => {
    assert.deepEqual(storageFormatArgs({ ...base, transactionVersion: 1 }), [
      'format', '-t', 'abc', '-c', '/k/node-1/server.properties', '--add-scram', 'SCRAM-SHA-256=[name=a,password=b]',
      '--feature', 'transaction.version=1',
    ]);
    assert.deepEqual(storageFormatArgs({ ...base, transactionVersion: 0 }).slice(-2), ['--feature', 'transaction.version=0']);
  });

  it("leaves the release's default alone otherwise", () => {
    assert.ok(!storageFormatArgs(base).includes('--feature'));
    assert.ok(!storageFormatArgs({ ...base, transactionVersion: undefined }).includes('--feature'));
  });
});

describe('--transaction-version', () => {
  it('accepts the levels Kafka 4.3 knows', () => {
    assert.equal(parseTransactionVersion('1'), 1);
    assert.equal(parseTransactionVersion('2'), 2);
    assert.equal(parseTransactionVersion('0'), 0);
  });

  it('rejects anything else, naming what it accepts', () => {
    for (const text of ['3', '', 'v1', '1.5', '-1']) assert.throws(() => parseTransactionVersion(text), /must be one of 0, 1, 2/, text);
  });
});
