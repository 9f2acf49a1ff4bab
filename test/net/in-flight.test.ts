/**
 * The requests in flight on their own: answers matched to the oldest by correlation id, the wait for none in flight
 * that re-authentication uses, and the one timer that fails the oldest and then the connection. The whole
 * connection is tested against fake brokers in connection.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiDefinition } from '../../src/protocol/api.js';
import { Exchange } from '../../src/net/exchange.js';
import { InFlight } from '../../src/net/in-flight.js';
import { ConnectionError, ProtocolError, RequestTimeoutError, type KafkaProducerError } from '../../src/shared/errors.js';

const Echo: ApiDefinition<number, number> = {
  key: 1000,
  name: 'Echo',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 1,
  encodeRequest: () => {},
  decodeResponse: (reader) => reader.int32(),
};

function exchange(correlationId: number): { exchange: Exchange; result: Promise<unknown> } {
  const exchange = new Exchange(Echo, 0, correlationId, [new Uint8Array(4)], true, () => {});
  const result = exchange.settlement<unknown>();
  result.catch(() => undefined);
  return { exchange, result };
}

const noFailure = (reason: KafkaProducerError): void => assert.fail(`unexpected failure: ${reason.message}`);

describe('InFlight', () => {
  it('hands an answer only to the oldest request, and names the one it expected when not', () => {
    const inFlight = new InFlight('broker:9092', 60_000, noFailure);
    const first = exchange(7);
    const second = exchange(8);
    inFlight.add(first.exchange);
    inFlight.add(second.exchange);
    assert.equal(inFlight.take(8), undefined);
    assert.match(inFlight.mismatch(8).message, /correlation id 8 from broker:9092, expected 7 \(Echo\)/);
    assert.equal(inFlight.take(7), first.exchange);
    assert.equal(inFlight.take(8), second.exchange);
    assert.equal(inFlight.length, 0);
    assert.ok(inFlight.mismatch(9) instanceof ProtocolError);
    assert.match(inFlight.mismatch(9).message, /nothing is in flight/);
  });

  it('whenEmpty resolves once the last answer is taken, or once the connection fails', async () => {
    const inFlight = new InFlight('broker:9092', 60_000, noFailure);
    await inFlight.whenEmpty();
    const one = exchange(1);
    inFlight.add(one.exchange);
    let emptied = false;
    const waiting = inFlight.whenEmpty().then(() => (emptied = true));
    await Promise.resolve();
    assert.equal(emptied, false);
    inFlight.take(1);
    await waiting;
    const two = exchange(2);
    inFlight.add(two.exchange);
    const failed = inFlight.whenEmpty();
    const reason = new ConnectionError('down');
    inFlight.failAll(reason);
    await failed;
    await assert.rejects(two.result, (error) => error === reason);
    inFlight.stopTimer();
  });

  it('a request past its deadline fails with RequestTimeoutError, then the connection with ConnectionError', async () => {
    let failConnection!: (reason: KafkaProducerError) => void;
    const connectionFailed = new Promise<KafkaProducerError>((resolve) => (failConnection = resolve));
    const inFlight = new InFlight('broker:9092', 5, failConnection);
    const one = exchange(1);
    inFlight.add(one.exchange);
    const reason = await connectionFailed;
    const timeout = await one.result.then(() => undefined, (error: unknown) => error);
    assert.ok(timeout instanceof RequestTimeoutError);
    assert.match(timeout.message, /Echo request \(correlation id 1\) got no answer from broker:9092 within 5 ms/);
    assert.ok(reason instanceof ConnectionError);
    assert.equal(reason.cause, timeout);
  });
});
