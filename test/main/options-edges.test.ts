/**
 * resolveOptions at the edges mutation testing (`npm run test:mutation`) found unpinned: each case failed to
 * notice a planted change to src/main/options.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/shared/errors.js';
import { resolveOptions, type ProducerOptions } from '../../src/main/options.js';

const resolve = (options: unknown) => resolveOptions(options as ProducerOptions, {});

function rejects(options: unknown, message: RegExp): void {
  assert.throws(() => resolve(options), (e: unknown) => e instanceof ConfigError && message.test(e.message), JSON.stringify(options));
}

describe('resolveOptions edges', () => {
  it('takes null as no options', () => {
    assert.deepEqual(resolve(null), resolve(undefined));
  });

  it('accepts a clientId of 32767 characters (an int16 string) and rejects one more', () => {
    assert.equal(resolve({ clientId: 'c'.repeat(32767) }).clientId.length, 32767);
    // Named by its length, not quoted in full.
    rejects({ clientId: 'c'.repeat(32768) }, /^options\.clientId must be 1 to 32,767 letters, digits, '\.', '_' or '-', got "c{64}"… \(32768 characters\)$/);
  });

  it("accepts each serializer it names: 'msgpack' and 'json'", () => {
    assert.equal(resolve({ serializer: 'msgpack' }).serializer, 'msgpack');
    assert.equal(resolve({ serializer: 'json' }).serializer, 'json');
  });

  it('says an upper bound without a note plainly, and names what it got', () => {
    rejects({ workers: 257 }, /^options\.workers must be an integer <= 256, got 257$/);
    rejects({ workers: null }, /^options\.workers must be an integer >= 1, got null$/);
    rejects({ workers: {} }, /^options\.workers must be an integer >= 1, got an object$/);
    rejects({ workers: () => 1 }, /^options\.workers must be an integer >= 1, got a function$/);
  });

  it('rejects a broker address with a half-bracketed host, a space or slash in the host, an empty bracket or a port that is not decimal digits', () => {
    for (const bad of ['[::1:9092', 'a b:1', 'a/b:1', '[]:1', 'a:1e3', 'a:0x10', 'a: 1']) {
      rejects({ brokers: [bad] }, /^options\.brokers\[0\] must be 'host:port'/);
    }
    assert.deepEqual(resolve({ brokers: ['a:01'] }).brokers, [{ host: 'a', port: 1 }], 'leading zeros are still digits');
  });
});
