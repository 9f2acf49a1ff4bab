import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkedProducerOptions, connectionOptions } from '../../src/cli/connection-flags.js';
import { UsageError } from '../../src/cli/args.js';
import type { ProducerOptions } from '../../src/main/index.js';

const NO_ENV = {};

test('brokers from the flag, else KAFKA_BROKERS, else the local default', () => {
  assert.deepEqual(connectionOptions({ brokers: 'a:1, b:2' }, { KAFKA_BROKERS: 'c:3' }).brokers, ['a:1', 'b:2']);
  assert.deepEqual(connectionOptions({}, { KAFKA_BROKERS: 'c:3' }).brokers, ['c:3']);
  assert.deepEqual(connectionOptions({}, NO_ENV).brokers, ['127.0.0.1:9092']);
  assert.throws(() => connectionOptions({ brokers: ' , ' }, NO_ENV), /--brokers names no broker/);
  // An empty or blank KAFKA_BROKERS is unset, as every RINGKAFKA_* variable is (it was refused by a flag never given).
  assert.deepEqual(connectionOptions({}, { KAFKA_BROKERS: '' }).brokers, ['127.0.0.1:9092']);
  assert.deepEqual(connectionOptions({}, { KAFKA_BROKERS: '  ' }).brokers, ['127.0.0.1:9092']);
});

test('TLS: files from flags or variables are read; --tls alone means Node defaults; cert needs key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkafka-cli-'));
  for (const name of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(join(dir, name), `pem of ${name}`);
  const tls = connectionOptions({ 'tls-cert': join(dir, 'client.pem') }, { RINGKAFKA_TLS_CA: join(dir, 'ca.pem'), RINGKAFKA_TLS_KEY: join(dir, 'client.key') }).tls as Record<string, Buffer>;
  assert.equal(tls.ca!.toString(), 'pem of ca.pem');
  assert.equal(tls.cert!.toString(), 'pem of client.pem');
  assert.equal(tls.key!.toString(), 'pem of client.key');
  assert.equal(connectionOptions({ tls: true }, NO_ENV).tls, true);
  assert.equal(connectionOptions({}, NO_ENV).tls, undefined);
  assert.throws(() => connectionOptions({ 'tls-cert': join(dir, 'client.pem') }, NO_ENV), /--tls-key is missing/);
  assert.throws(() => connectionOptions({ 'tls-ca': join(dir, 'nope.pem') }, NO_ENV), /--tls-ca .*nope\.pem: ENOENT/);
});

test('SASL: mechanism, user and password from flags or variables; each missing piece is named', () => {
  assert.deepEqual(
    connectionOptions({ 'sasl-mechanism': 'scram-sha-512', 'sasl-username': 'alice' }, { RINGKAFKA_SASL_PASSWORD: 'secret' }).sasl,
    { mechanism: 'scram-sha-512', username: 'alice', password: 'secret' },
  );
  assert.throws(() => connectionOptions({ 'sasl-mechanism': 'plain' }, NO_ENV), /--sasl-username is missing/);
  assert.throws(() => connectionOptions({ 'sasl-mechanism': 'plain', 'sasl-username': 'a' }, NO_ENV), /--sasl-password is missing/);
  assert.throws(() => connectionOptions({ 'sasl-username': 'a' }, NO_ENV), /--sasl-mechanism is missing/);
  assert.throws(() => connectionOptions({ 'sasl-mechanism': 'gssapi' }, NO_ENV), /--sasl-mechanism must be one of plain, scram-sha-256, scram-sha-512/);
});

test('a value the producer refuses is a usage mistake naming the flag, not a ConfigError naming the option', () => {
  const refused = (options: ProducerOptions, flag: RegExp): void =>
    assert.throws(() => checkedProducerOptions(options, {}), (error: unknown) => error instanceof UsageError && flag.test(error.message));
  refused({ brokers: ['b:9092'], batchMaxBytes: 100 }, /^--batch-bytes: .*batchMaxBytes/);
  refused({ brokers: ['b:9092'], maxBufferedBytes: 3e9 }, /^--buffer-bytes: /);
  refused({ brokers: ['b:9092'], clientId: 'a:b' }, /^--client-id: /);
  const fine: ProducerOptions = { brokers: ['b:9092'], lingerMs: 5 };
  assert.equal(checkedProducerOptions(fine, {}), fine);
});

test('SASL mechanisms in any case, as Kafka spells them (PLAIN, SCRAM-SHA-256), from the flag or the variable', () => {
  const credentials = { RINGKAFKA_SASL_USERNAME: 'alice', RINGKAFKA_SASL_PASSWORD: 'secret' };
  assert.equal((connectionOptions({ 'sasl-mechanism': 'PLAIN' }, credentials).sasl as { mechanism: string }).mechanism, 'plain');
  assert.equal((connectionOptions({}, { ...credentials, RINGKAFKA_SASL_MECHANISM: 'SCRAM-SHA-256' }).sasl as { mechanism: string }).mechanism, 'scram-sha-256');
  assert.equal((connectionOptions({ 'sasl-mechanism': 'Scram-Sha-512' }, credentials).sasl as { mechanism: string }).mechanism, 'scram-sha-512');
});

test('a value from an environment variable is named by the variable, not by a flag the user never gave', () => {
  const usage = (pattern: RegExp) => (error: unknown): boolean => error instanceof UsageError && pattern.test(error.message);
  // Refused here:
  assert.throws(() => connectionOptions({}, { RINGKAFKA_SASL_MECHANISM: 'GSSAPI' }), usage(/^RINGKAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512 .*got "GSSAPI"/));
  assert.throws(() => connectionOptions({}, { KAFKA_BROKERS: ' , ' }), usage(/^KAFKA_BROKERS names no broker/));
  assert.throws(() => connectionOptions({}, { RINGKAFKA_TLS_CA: '/nonexistent/ca.pem' }), usage(/^RINGKAFKA_TLS_CA \/nonexistent\/ca\.pem: ENOENT/));
  assert.throws(() => connectionOptions({}, { RINGKAFKA_SASL_MECHANISM: 'plain' }), usage(/RINGKAFKA_SASL_MECHANISM asks for SASL plain/));
  assert.throws(() => connectionOptions({}, { RINGKAFKA_SASL_USERNAME: 'alice' }), usage(/^--sasl-mechanism is missing \(or RINGKAFKA_SASL_MECHANISM\): .*\(given: RINGKAFKA_SASL_USERNAME\)$/));
  // Refused by the producer:
  const env = { KAFKA_BROKERS: 'foo' };
  assert.throws(() => checkedProducerOptions(connectionOptions({}, env), env, {}), usage(/^KAFKA_BROKERS: .*brokers\[0\].*"foo"/));
  // A flag given wins over the variable, and is what is named.
  const values = { brokers: 'bar' };
  assert.throws(() => checkedProducerOptions(connectionOptions(values, env), env, values), usage(/^--brokers: .*"bar"/));
  assert.throws(() => connectionOptions({ 'sasl-mechanism': 'gssapi' }, { RINGKAFKA_SASL_MECHANISM: 'plain' }), usage(/^--sasl-mechanism must be one of/));
});
