/**
 * bootstrap.ts: connecting to any broker of a list. An address that accepts TCP and never answers costs one setup
 * timeout, and only once: the next attempt tries the others first (address-order.ts). Against a silent listener and
 * the fake broker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressOrder } from '../../src/net/address-order.js';
import { AuthGate } from '../../src/net/auth-gate.js';
import { connectToAny, type ClientSettings } from '../../src/net/bootstrap.js';
import { ConnectionError } from '../../src/shared/errors.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { silentListener } from '../helpers/silent-listener.js';

const SETTINGS: ClientSettings = { clientId: 'test', requestTimeoutMs: 600_000, connectTimeoutMs: 200, maxInFlight: 1, tls: null, sasl: null };

function hostPort(address: string): { host: string; port: number } {
  const [host, port] = address.split(':');
  return { host: host!, port: Number(port) };
}

describe('connectToAny', { timeout: 20_000 }, () => {
  it('passes a silent address after connectTimeoutMs, and tries it last next time', async (t) => {
    const silent = await silentListener(t);
    const broker = await FakeBroker.start();
    t.after(() => broker.close());
    const brokers = [silent.address, hostPort(broker.address)];
    const order = new AddressOrder();
    const options = { stopped: () => false, order };
    const first = await connectToAny(brokers, SETTINGS, new AuthGate(100, 1000), options);
    await first.close();
    assert.equal(silent.accepted(), 1);
    const second = await connectToAny(brokers, SETTINGS, new AuthGate(100, 1000), options);
    await second.close();
    assert.equal(silent.accepted(), 1, 'the silent address was tried first again');
  });

  it('fails with the last error when no address answers, each within connectTimeoutMs', async (t) => {
    const a = await silentListener(t);
    const b = await silentListener(t);
    await assert.rejects(
      connectToAny([a.address, b.address], SETTINGS, new AuthGate(100, 1000), { stopped: () => false }),
      (e: unknown) => e instanceof ConnectionError && e.message.includes(`127.0.0.1:${b.address.port} accepted the connection`),
    );
    assert.deepEqual([a.accepted(), b.accepted()], [1, 1]);
  });
});

describe('AddressOrder', () => {
  it('keeps the given order, puts failed addresses last (the longest-failed first), and forgets a failure on success', (t) => {
    let now = 1000;
    t.mock.method(Date, 'now', () => now);
    const order = new AddressOrder();
    const [a, b, c] = [{ host: 'a', port: 1 }, { host: 'b', port: 2 }, { host: 'c', port: 3 }];
    assert.deepEqual(order.sorted([a, b, c]), [a, b, c]);
    order.failed(b);
    now++;
    order.failed(a);
    assert.deepEqual(order.sorted([a, b, c]), [c, b, a]);
    assert.deepEqual(order.sortedAddresses(['a:1', 'b:2', 'c:3']), ['c:3', 'b:2', 'a:1']);
    order.succeeded(a);
    assert.deepEqual(order.sorted([a, b, c]), [a, c, b]);
  });
});
