/** workerSettings: the worker's share of the options, plain data a worker can be started with. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveOptions } from '../../src/main/options.js';
import { workerSettings } from '../../src/main/worker-settings.js';
import { Codec } from '../../src/protocol/compression.js';

describe('workerSettings', () => {
  it('carries the options a worker needs, brokers as host:port and the codec as its wire value', () => {
    const settings = workerSettings(resolveOptions({ brokers: ['a:1', 'b:2'], compression: 'zstd', lingerMs: 7, acks: 1, idempotent: false }));
    assert.deepEqual(settings.brokers, ['a:1', 'b:2']);
    assert.equal(settings.codec, Codec.zstd);
    assert.equal(settings.lingerMs, 7);
    assert.equal(settings.acks, 1);
    assert.equal(settings.idempotent, false);
    assert.equal(settings.sasl, null);
    assert.equal(settings.tls, null);
  });

  it('gives the workers the byte budget, whose share bounds the batch buffers each keeps idle', () => {
    assert.equal(workerSettings(resolveOptions({ maxBufferedBytes: 5_000_000 })).maxBufferedBytes, 5_000_000);
    assert.equal(workerSettings(resolveOptions({})).maxBufferedBytes, 64 * 1024 * 1024);
  });

  it('keeps the OAUTHBEARER token provider on the main thread: the worker gets the mechanism and extensions only', () => {
    const token = () => ({ value: 't', lifetimeMs: 1000 });
    const settings = workerSettings(resolveOptions({ sasl: { mechanism: 'oauthbearer', token, extensions: { k: 'v' } } }));
    assert.deepEqual(settings.sasl, { mechanism: 'oauthbearer', extensions: { k: 'v' } });
    structuredClone(settings); // what a worker is started with must survive the copy to its thread
  });

  it('passes a PLAIN or SCRAM login through', () => {
    const sasl = { mechanism: 'scram-sha-256', username: 'u', password: 'p' } as const;
    assert.deepEqual(workerSettings(resolveOptions({ sasl })).sasl, sasl);
  });
});
