import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/shared/errors.js';
import { resolveOptions, type ProducerOptions } from '../../src/main/options.js';

const NO_ENV = {};

/** Asserts that `options` is rejected with a ConfigError whose message matches `pattern`. */
function rejects(options: unknown, pattern: RegExp, env: Record<string, string> = NO_ENV): void {
  assert.throws(
    () => resolveOptions(options as ProducerOptions, env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.code, 'ERR_CONFIG');
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('resolveOptions defaults', () => {
  it('match the documented defaults (docs/architecture.md)', () => {
    const resolved = resolveOptions(undefined, NO_ENV);
    assert.deepEqual(resolved, {
      brokers: [{ host: '127.0.0.1', port: 9092 }],
      clientId: 'ringkafka',
      workers: Math.min(4, Math.max(1, availableParallelism() - 1)),
      acks: -1,
      idempotent: true,
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      compression: 'none',
      lingerMs: 5,
      batchMaxBytes: 1_048_576,
      maxBufferedBytes: 64 * 1_048_576,
      maxBufferedRecords: 1_000_000,
      bufferTimeoutMs: 60_000,
      deliveryTimeoutMs: 120_000,
      requestTimeoutMs: 30_000,
      maxInFlight: 5,
      partitioner: 'default',
      serializer: null,
      maxRequestBytes: 1_048_576,
      requestGatherBytes: 16 * 1_048_576,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      reconnectBackoffMs: 50,
      reconnectBackoffMaxMs: 1000,
      connectTimeoutMs: 10_000,
      metadataMaxAgeMs: 300_000,
      metadataMaxIdleMs: 300_000,
      tls: null,
      sasl: null,
    });
    assert.deepEqual(resolveOptions({}, NO_ENV), resolved, '{} is the same as nothing');
  });

  it('make a transactional producer idempotent, as Java does', () => {
    const resolved = resolveOptions({ transactionalId: 'orders-1', transactionTimeoutMs: 30_000 }, NO_ENV);
    assert.equal(resolved.transactionalId, 'orders-1');
    assert.equal(resolved.transactionTimeoutMs, 30_000);
    assert.equal(resolved.idempotent, true);
  });

  it('treat an explicitly undefined option as absent', () => {
    assert.equal(resolveOptions({ lingerMs: undefined }, NO_ENV).lingerMs, 5);
  });

  it('raise the default deliveryTimeoutMs to lingerMs + requestTimeoutMs when that is more, as Java does', () => {
    // It stayed 120 s, where the same value given explicitly is refused: a record could expire while its request
    // still awaited its answer.
    assert.equal(resolveOptions({ requestTimeoutMs: 200_000 }, NO_ENV).deliveryTimeoutMs, 200_005);
    assert.equal(resolveOptions({ requestTimeoutMs: 200_000, lingerMs: 0 }, NO_ENV).deliveryTimeoutMs, 200_000);
    assert.equal(resolveOptions({ requestTimeoutMs: 60_000 }, NO_ENV).deliveryTimeoutMs, 120_000);
  });

  it('keep a smaller maxRequestBytes consistent with the default batchMaxBytes', () => {
    assert.equal(resolveOptions({ maxRequestBytes: 65_536 }, NO_ENV).batchMaxBytes, 65_536);
  });

  it('let requests gather 16 MiB of batches unless maxRequestBytes is set, then that many', () => {
    assert.equal(resolveOptions({}, NO_ENV).requestGatherBytes, 16 * 1_048_576);
    assert.equal(resolveOptions({ maxRequestBytes: 65_536 }, NO_ENV).requestGatherBytes, 65_536);
    assert.equal(resolveOptions({ maxRequestBytes: 32 * 1_048_576 }, NO_ENV).requestGatherBytes, 32 * 1_048_576);
  });

  it('follow Java when idempotence is left unset: acks 1 or maxInFlight > 5 turn it off quietly', () => {
    assert.equal(resolveOptions({ acks: 1 }, NO_ENV).idempotent, false);
    assert.equal(resolveOptions({ acks: 0 }, NO_ENV).idempotent, false);
    assert.equal(resolveOptions({ maxInFlight: 10 }, NO_ENV).idempotent, false);
    assert.equal(resolveOptions({ acks: 'all', maxInFlight: 5 }, NO_ENV).idempotent, true);
  });
});

describe('resolveOptions brokers', () => {
  it('uses KAFKA_BROKERS when brokers is not given', () => {
    const { brokers } = resolveOptions({}, { KAFKA_BROKERS: 'kafka-1:9092, kafka-2:19092' });
    assert.deepEqual(brokers, [{ host: 'kafka-1', port: 9092 }, { host: 'kafka-2', port: 19092 }]);
  });

  it('prefers options.brokers over KAFKA_BROKERS, and ignores an empty KAFKA_BROKERS', () => {
    assert.deepEqual(resolveOptions({ brokers: ['a:1'] }, { KAFKA_BROKERS: 'b:2' }).brokers, [{ host: 'a', port: 1 }]);
    assert.deepEqual(resolveOptions({}, { KAFKA_BROKERS: '  ' }).brokers, [{ host: '127.0.0.1', port: 9092 }]);
  });

  it('reads process.env by default', () => {
    const saved = process.env.KAFKA_BROKERS;
    process.env.KAFKA_BROKERS = 'from-env:9999';
    try {
      assert.deepEqual(resolveOptions({}).brokers, [{ host: 'from-env', port: 9999 }]);
    } finally {
      if (saved === undefined) delete process.env.KAFKA_BROKERS;
      else process.env.KAFKA_BROKERS = saved;
    }
  });

  it('accepts an array, a comma-separated string and bracketed IPv6', () => {
    // Empty entries are skipped, as Java skips them: a trailing comma is common in an environment variable.
    assert.deepEqual(resolveOptions({}, { KAFKA_BROKERS: 'a:1,' }).brokers, [{ host: 'a', port: 1 }]);
    assert.deepEqual(resolveOptions({ brokers: 'a:1,,b:2' }, NO_ENV).brokers, [{ host: 'a', port: 1 }, { host: 'b', port: 2 }]);
    assert.deepEqual(resolveOptions({ brokers: 'a:1,b:65535' }, NO_ENV).brokers, [
      { host: 'a', port: 1 },
      { host: 'b', port: 65535 },
    ]);
    assert.deepEqual(resolveOptions({ brokers: ['[::1]:9092'] }, NO_ENV).brokers, [{ host: '::1', port: 9092 }]);
  });

  it('rejects bad addresses, naming the field and the entry', () => {
    rejects({ brokers: [] }, /options\.brokers must list at least one 'host:port', got an empty array/);
    rejects({ brokers: ' , ' }, /options\.brokers must list at least one 'host:port', got " , "/);
    rejects({ brokers: 9092 }, /options\.brokers must be an array of 'host:port' strings or one comma-separated string, got 9092/);
    rejects({ brokers: ['a:1', 'b'] }, /options\.brokers\[1\] must be 'host:port' .*got "b"/);
    rejects({ brokers: ['a:0'] }, /options\.brokers\[0\] must be 'host:port' with a port from 1 to 65535/);
    rejects({ brokers: ['a:65536'] }, /options\.brokers\[0\].*got "a:65536"/);
    rejects({ brokers: ['a:12x'] }, /options\.brokers\[0\]/);
    rejects({ brokers: [':9092'] }, /options\.brokers\[0\]/);
    rejects({ brokers: ['::1:9092'] }, /IPv6 as '\[::1\]:9092'/);
    rejects({ brokers: [42] }, /options\.brokers\[0\] must be a 'host:port' string, got 42/);
    rejects({}, /brokers \(from the KAFKA_BROKERS environment variable\) must be 'host:port'.*got "nope"/, {
      KAFKA_BROKERS: 'nope',
    });
  });
});

describe('resolveOptions rejects each bad option, naming it', () => {
  const cases: Array<[ProducerOptions | Record<string, unknown>, RegExp]> = [
    [{ clientId: '' }, /options\.clientId must be 1 to 32,767 letters, digits, '\.', '_' or '-', got ""/],
    [{ clientId: 'my client' }, /options\.clientId .*got "my client"/],
    [{ clientId: '@scope/pkg' }, /options\.clientId/],
    [{ clientId: 7 }, /options\.clientId .*got 7/],
    [{ workers: 0 }, /options\.workers must be an integer >= 1, got 0/],
    [{ workers: 1.5 }, /options\.workers must be an integer >= 1, got 1\.5/],
    [{ workers: '2' }, /options\.workers must be an integer >= 1, got "2"/],
    [{ acks: 2 }, /options\.acks must be 0, 1, 'all' or -1, got 2/],
    [{ acks: 'ALL' }, /options\.acks .*got "ALL"/],
    [{ idempotent: 'yes' }, /options\.idempotent must be a boolean, got "yes"/],
    [{ idempotent: true, acks: 1 }, /options\.idempotent: true requires options\.acks 'all', got 1/],
    [{ idempotent: true, maxInFlight: 6 }, /options\.idempotent: true requires options\.maxInFlight <= 5, got 6/],
    [{ transactionalId: '' }, /options\.transactionalId must be a non-empty string of at most 32767 bytes, got ""/],
    [{ transactionalId: 5 }, /options\.transactionalId must be a non-empty string .*got 5/],
    [{ transactionalId: 't', idempotent: false }, /options\.idempotent: false contradicts options\.transactionalId/],
    [{ transactionalId: 't', acks: 1 }, /options\.transactionalId requires options\.acks 'all', got 1/],
    [{ transactionalId: 't', maxInFlight: 6 }, /options\.transactionalId requires options\.maxInFlight <= 5, got 6/],
    [{ transactionTimeoutMs: 0 }, /options\.transactionTimeoutMs must be an integer >= 1, got 0/],
    [{ compression: 'brotli' }, /options\.compression must be one of 'none', 'gzip', 'snappy', 'lz4', 'zstd', got "brotli"/],
    [{ lingerMs: -1 }, /^options\.lingerMs must be an integer >= 0, got -1$/],
    [{ lingerMs: 2 ** 31 }, /options\.lingerMs must be an integer <= 2147483647 \(Node's timer limit\), got 2147483648/],
    [{ batchMaxBytes: 1023 }, /options\.batchMaxBytes must be an integer >= 1024, got 1023/],
    [{ batchMaxBytes: 2_000_000 }, /options\.batchMaxBytes must be an integer <= 1048576 \(options\.maxRequestBytes\), got 2000000/],
    [{ maxRequestBytes: 100 }, /options\.maxRequestBytes must be an integer >= 1024, got 100/],
    [{ maxBufferedBytes: 0 }, /options\.maxBufferedBytes must be an integer >= 1, got 0/],
    [{ maxBufferedBytes: 2 ** 31 }, /options\.maxBufferedBytes must be an integer <= 2147483647 \(an Int32 shared counter\)/],
    [{ maxBufferedRecords: 0 }, /options\.maxBufferedRecords must be an integer >= 1, got 0/],
    [{ bufferTimeoutMs: -5 }, /options\.bufferTimeoutMs must be an integer >= 0, got -5/],
    [{ requestTimeoutMs: 0 }, /options\.requestTimeoutMs must be an integer >= 1, got 0/],
    [{ deliveryTimeoutMs: 30_004 }, /options\.deliveryTimeoutMs must be an integer >= 30005 \(options\.lingerMs \+ options\.requestTimeoutMs\), got 30004/],
    [{ deliveryTimeoutMs: 1000, lingerMs: 0, requestTimeoutMs: 1001 }, /options\.deliveryTimeoutMs must be an integer >= 1001/],
    [{ maxInFlight: 0 }, /options\.maxInFlight must be an integer >= 1, got 0/],
    [{ partitioner: 'murmur2' }, /options\.partitioner must be 'default' or a function .*got "murmur2"/],
    [{ serializer: 'avro' }, /options\.serializer must be 'msgpack', 'json' or a function .*got "avro"/],
    [{ retryBackoffMs: -1 }, /options\.retryBackoffMs must be an integer >= 0, got -1/],
    [{ retryBackoffMaxMs: Number.NaN }, /options\.retryBackoffMaxMs must be an integer >= 0, got NaN/],
    [{ reconnectBackoffMs: -1 }, /options\.reconnectBackoffMs must be an integer >= 0, got -1/],
    [{ reconnectBackoffMs: '50' }, /options\.reconnectBackoffMs must be an integer >= 0, got "50"/],
    [{ reconnectBackoffMaxMs: 2 ** 31 }, /options\.reconnectBackoffMaxMs must be an integer <= 2147483647 \(Node's timer limit\), got 2147483648/],
    [{ connectTimeoutMs: 0 }, /options\.connectTimeoutMs must be an integer >= 1, got 0/],
    [{ metadataMaxAgeMs: 0 }, /options\.metadataMaxAgeMs must be an integer >= 1, got 0/],
    [{ metadataMaxAgeMs: 1.5 }, /options\.metadataMaxAgeMs must be an integer >= 1, got 1\.5/],
    [{ metadataMaxAgeMs: 2 ** 31 }, /options\.metadataMaxAgeMs must be an integer <= 2147483647 \(Node's timer limit\), got 2147483648/],
    [{ metadataMaxIdleMs: 4999 }, /options\.metadataMaxIdleMs must be an integer >= 5000, got 4999/],
    [{ metadataMaxIdleMs: Infinity }, /options\.metadataMaxIdleMs must be an integer >= 5000, got Infinity/],
  ];
  for (const [options, pattern] of cases) {
    it(JSON.stringify(options), () => rejects(options, pattern));
  }

  it('refuses null as every option does, not as the default for some (transactionalId: null is none, as in Java)', () => {
    // null was the default for these and an error for numbers, booleans, brokers, tls and sasl.
    rejects({ clientId: null }, /^options\.clientId must be .*got null$/);
    rejects({ acks: null }, /^options\.acks must be 0, 1, 'all' or -1, got null$/);
    rejects({ compression: null }, /^options\.compression must be one of .*got null$/);
    rejects({ partitioner: null }, /^options\.partitioner must be 'default' or a function .*got null$/);
    rejects({ serializer: null }, /^options\.serializer must be 'msgpack', 'json' or a function .*got null$/);
    rejects({ lingerMs: null }, /^options\.lingerMs must be an integer >= 0, got null$/);
    assert.equal(resolveOptions({ transactionalId: null }, NO_ENV).transactionalId, null);
  });

  it('says a bigint with its n, not as the number it failed to be', () => {
    rejects({ lingerMs: 5n as unknown as number }, /^options\.lingerMs must be an integer >= 0, got 5n \(a bigint\)$/);
  });

  it('rejects unknown option names, suggesting the near miss', () => {
    rejects({ lingerMS: 10 }, /unknown option "lingerMS" \(did you mean "lingerMs"\?\)/);
    rejects({ linger: 10, batchSize: 1 }, /unknown options "linger" \(did you mean "lingerMs"\?\), "batchSize"; expected one of brokers, clientId/);
  });

  it('rejects options that are not an object', () => {
    rejects('127.0.0.1:9092', /options must be an object, got "127\.0\.0\.1:9092"/);
    rejects([], /options must be an object, got an array/);
  });
});

describe('resolveOptions accepts', () => {
  it('every documented value', () => {
    const serializer = (value: unknown) => String(value);
    const partitioner = () => 0;
    const resolved = resolveOptions(
      {
        brokers: ['h:1'],
        clientId: 'svc.ingest_1-a',
        workers: 2,
        acks: 'all',
        idempotent: false,
        compression: 'zstd',
        lingerMs: 0,
        batchMaxBytes: 1024,
        maxBufferedBytes: 2 ** 31 - 1,
        maxBufferedRecords: 1,
        bufferTimeoutMs: 0,
        deliveryTimeoutMs: 1000,
        requestTimeoutMs: 1000,
        maxInFlight: 1,
        partitioner,
        serializer,
        maxRequestBytes: 1024,
        retryBackoffMs: 0,
        retryBackoffMaxMs: 0,
        reconnectBackoffMs: 0,
        reconnectBackoffMaxMs: 0,
        connectTimeoutMs: 1,
        metadataMaxAgeMs: 1,
        metadataMaxIdleMs: 5000,
      },
      NO_ENV,
    );
    assert.equal(resolved.partitioner, partitioner);
    assert.equal(resolved.serializer, serializer);
    assert.equal(resolved.compression, 'zstd');
    assert.equal(resolveOptions({ acks: -1 }, NO_ENV).acks, -1);
    assert.equal(resolveOptions({ acks: 0, idempotent: false }, NO_ENV).acks, 0);
    assert.equal(resolveOptions({ serializer: 'msgpack' }, NO_ENV).serializer, 'msgpack');
    // No timer waits metadataMaxIdleMs: the largest safe integer is taken, and means never forgetting a topic.
    assert.equal(resolveOptions({ metadataMaxIdleMs: Number.MAX_SAFE_INTEGER }, NO_ENV).metadataMaxIdleMs, Number.MAX_SAFE_INTEGER);
    assert.equal(resolveOptions({ idempotent: true, maxInFlight: 5 }, NO_ENV).idempotent, true);
  });
});
