import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newClusterId, parseTransactionVersion, storageFormatArgs } from '../../../scripts/kafka/format-args.js';

const base = { clusterId: 'abc', properties: '/k/node-1/server.properties', scram: ['--add-scram', 'SCRAM-SHA-256=[name=a,password=b]'] };

describe('StorageTool format arguments', () => {
  it('finalizes transaction.version with --feature when one is asked for', () => {
    assert.deepEqual(storageFormatArgs({ ...base, transactionVersion: 1 }), [
      'format', '--cluster-id=abc', '-c', '/k/node-1/server.properties', '--add-scram', 'SCRAM-SHA-256=[name=a,password=b]',
      '--feature', 'transaction.version=1',
    ]);
    assert.deepEqual(storageFormatArgs({ ...base, transactionVersion: 0 }).slice(-2), ['--feature', 'transaction.version=0']);
  });

  it("gives the cluster id joined to its flag, so an id that starts with '-' is not read as a flag", () => {
    const args = storageFormatArgs({ ...base, clusterId: '-pv6Z8muMLZ9BdCj6Q0zRQ' });
    assert.equal(args[1], '--cluster-id=-pv6Z8muMLZ9BdCj6Q0zRQ');
    assert.ok(!args.includes('-t'));
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

describe('newClusterId', () => {
  it("draws again while the id starts with '-', which the StorageTool would read as a flag", () => {
    // Bytes from 0xf8 to 0xfb encode to '-' first in URL-safe base64 (the '-pv6Z…' of a failed CI format began 0xfa 0x9b).
    const draws = [Buffer.alloc(16, 0xfb), Buffer.alloc(16, 0xfa), Buffer.alloc(16, 0x01)];
    let drawn = 0;
    const id = newClusterId((size) => {
      assert.equal(size, 16);
      return draws[drawn++]!;
    });
    assert.equal(drawn, 3, 'the two ids starting with - were drawn again');
    assert.equal(id, Buffer.alloc(16, 0x01).toString('base64url'));
    assert.equal(id.length, 22, '16 bytes, no padding');
  });

  it('gives 22 URL-safe characters, never a leading -', () => {
    for (let i = 0; i < 2000; i++) {
      const id = newClusterId();
      assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
