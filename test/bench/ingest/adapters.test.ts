import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serially, settleTogether, toBytes, toMessage } from '../../../bench/ingest/adapters.js';

describe('toBytes and toMessage', () => {
  it('turns strings and byte views into Buffers, keeping a view to its own bytes', () => {
    assert.deepEqual(toBytes('hé'), Buffer.from('hé'));
    const view = new Uint8Array([9, 1, 2, 9]).subarray(1, 3);
    assert.deepEqual(toBytes(view), Buffer.from([1, 2]));
    assert.equal(toBytes(null), undefined);
    assert.throws(() => toBytes(7), TypeError);
  });

  it('leaves the key out when there is none and refuses a record without a value', () => {
    assert.deepEqual(toMessage({ topic: 't', key: null, value: 'v' }), { value: Buffer.from('v') });
    assert.deepEqual(toMessage({ topic: 't', key: 'k', value: 'v' }), { key: Buffer.from('k'), value: Buffer.from('v') });
    assert.throws(() => toMessage({ topic: 't', value: null }), TypeError);
  });
});

describe('settleTogether', () => {
  it("gives every record the call's outcome", async () => {
    assert.deepEqual(await settleTogether(2, Promise.resolve('ok')), [{ status: 'fulfilled', value: 'ok' }, { status: 'fulfilled', value: 'ok' }]);
    const error = new Error('down');
    assert.deepEqual(await settleTogether(2, Promise.reject(error)), [{ status: 'rejected', reason: error }, { status: 'rejected', reason: error }]);
  });
});

describe('serially', () => {
  it('starts a task only once the one before has settled, failed or not', async () => {
    const run = serially();
    const events: string[] = [];
    let release!: () => void;
    const first = run(async () => {
      events.push('first starts');
      await new Promise<void>((resolve) => (release = resolve));
      events.push('first ends');
      throw new Error('first fails');
    });
    const second = run(async () => {
      events.push('second starts');
      return 2;
    });
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(events, ['first starts']);
    release();
    await assert.rejects(first, /first fails/);
    assert.equal(await second, 2);
    assert.deepEqual(events, ['first starts', 'first ends', 'second starts']);
  });
});
