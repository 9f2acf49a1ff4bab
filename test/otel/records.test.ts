/**
 * ringkafka/otel and what each record holds: headers the producer refuses reach it unchanged under
 * injectTraceContext, failed records are counted under their own error types, and a single send's span carries the
 * record's key and tombstone flag. No broker is needed except where a record must be delivered (a fake one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Producer } from '../../src/main/producer.js';
import { InvalidRecordError } from '../../src/main/serialize.js';
import { channels } from '../../src/main/tracing.js';
import type { ProducerRecord } from '../../src/main/types.js';
import { instrumentRingkafka, type InstrumentationOptions } from '../../src/otel/index.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { metered } from './fixtures/metered.js';

const upstream = '00-11111111111111111111111111111111-2222222222222222-01';

/** A producer that never connects (nothing listens on port 1): the records here are refused, or aborted. */
const offlineProducer = (): Producer => new Producer({ brokers: ['127.0.0.1:1'], workers: 1, maxRequestBytes: 2000 });

function traced(options: InstrumentationOptions = {}) {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const instrumentation = instrumentRingkafka({ tracerProvider, meterProvider: new MeterProvider(), ...options });
  return { spans, instrumentation };
}

/** The record each send call hands the producer: a subscriber after the instrumentation sees its replacement. */
function watchSends() {
  const seen: ProducerRecord[] = [];
  const watcher = { start: (message: unknown) => void seen.push((message as { record: ProducerRecord }).record), end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
  channels.send.subscribe(watcher as never);
  return { seen, stop: () => channels.send.unsubscribe(watcher as never) };
}

/**
 * Sends the record and aborts at once: a record the producer refuses is refused within send(), before the abort,
 * and one it accepted is aborted (no broker answers), so the rejection tells which.
 */
async function refusal(producer: Producer, record: ProducerRecord): Promise<unknown> {
  const abort = new AbortController();
  const sent = producer.send(record, { signal: abort.signal });
  abort.abort();
  return sent.then(() => assert.fail('sent'), (error: unknown) => error);
}

test('injectTraceContext hands headers the producer refuses on unchanged, for it to refuse them naming the field', async () => {
  const { instrumentation } = traced({ injectTraceContext: true });
  const { seen, stop } = watchSends();
  const producer = offlineProducer();
  class Meta {
    app = 'x';
  }
  // Each refused by the producer alone; turned into other headers they were sent, their own headers lost, or the
  // bad trace header dropped.
  const cases: Array<[string, unknown, RegExp]> = [
    ['a fetch Headers', new Headers({ app: 'x', tenant: 't1' }), /^record\.headers must be an object of header values/],
    ['a class instance', new Meta(), /^record\.headers must be an object of header values/],
    ['a trace header that is not a header value', { app: 'x', traceparent: 42 }, /^record\.headers\["traceparent"\] must be/],
    ['a trace header of three elements', [['traceparent', upstream, 'x']], /^record\.headers\[0\] must be a \[key, value\] pair/],
    ['a bad pair after a trace header, at its own index', [['traceparent', upstream], ['app', 42]], /^record\.headers\[1\]\[1\] must be/],
    ['a bad trace header value among good ones', [['app', 'x'], ['Tracestate', 7]], /^record\.headers\[1\]\[1\] must be/],
  ];
  try {
    for (const [name, headers, message] of cases) {
      const record = { topic: 't', value: 'v', headers } as unknown as ProducerRecord;
      const error = await refusal(producer, record);
      assert.ok(error instanceof InvalidRecordError, `${name}: refused, got ${String(error)}`);
      assert.match(error.message, message, name);
      assert.equal(seen.at(-1)!.headers, headers, `${name}: handed on as given`);
    }
  } finally {
    stop();
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
  }
});

test('injectTraceContext still replaces the trace headers of headers the producer takes, a null-prototype object too', async () => {
  const { spans, instrumentation } = traced({ injectTraceContext: true });
  const { seen, stop } = watchSends();
  const producer = offlineProducer();
  const headers = Object.assign(Object.create(null) as Record<string, unknown>, { app: 'x', traceparent: upstream, bytes: Buffer.from('b'), none: null });
  try {
    const error = await refusal(producer, { topic: 't', value: 'v', headers } as ProducerRecord);
    assert.ok(!(error instanceof InvalidRecordError), 'accepted, then aborted');
    const { traceId, spanId } = spans.getFinishedSpans()[0]!.spanContext();
    assert.deepEqual({ ...seen[0]!.headers }, { app: 'x', bytes: Buffer.from('b'), none: null, traceparent: `00-${traceId}-${spanId}-01` });
  } finally {
    stop();
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
  }
});

/** A meter provider and the `messaging.client.sent.messages` points, as [error.type or null, count], sorted. */
function sentCounter() {
  const { meterProvider, read } = metered();
  const points = async () => {
    const sent = (await read()).get('messaging.client.sent.messages');
    return (sent?.dataPoints ?? []).map((p) => [p.attributes['error.type'] ?? null, p.value]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  };
  return { meterProvider, points };
}

test("a sendBatch's failed records are counted under each one's own error type", async () => {
  const { meterProvider, points } = sentCounter();
  const { spans, instrumentation } = traced({ meterProvider });
  const broker = await FakeBroker.start(1, undefined, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0, maxRequestBytes: 2000 });
  const batch: ProducerRecord[] = [
    { topic: 't', value: 5 as unknown as string }, // refused: not a value without a serializer
    { topic: 't', value: 'x'.repeat(5000) }, // over maxRequestBytes
    { topic: 't', value: 'ok' },
    { topic: 't', value: 6 as unknown as string },
  ];
  try {
    const results = await producer.sendBatch(batch, { signal: AbortSignal.timeout(10_000) });
    assert.deepEqual(results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : r.status)), ['ERR_INVALID_RECORD', 'ERR_RECORD_TOO_LARGE', 'fulfilled', 'ERR_INVALID_RECORD']);
    const failures = await producer.sendBatch(batch.slice(0, 2), { results: 'failures' });
    assert.equal(failures.failures.length, 2);
    assert.deepEqual(await points(), [['ERR_INVALID_RECORD', 3], ['ERR_RECORD_TOO_LARGE', 2], [null, 1]]);
    const [first, second] = spans.getFinishedSpans();
    assert.equal(first!.attributes['error.type'], 'ERR_INVALID_RECORD', "the span has the first failure's type");
    assert.equal(second!.attributes['error.type'], 'ERR_INVALID_RECORD');
  } finally {
    instrumentation.disable();
    await producer.close();
    await broker.close();
    await meterProvider.shutdown();
  }
});

test("a send's span has the record's string key and, for a null value, the tombstone flag; a batch's has neither", async () => {
  const { spans, instrumentation } = traced();
  const broker = await FakeBroker.start(1, undefined, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  const options = { signal: AbortSignal.timeout(10_000) };
  try {
    await producer.send({ topic: 't', key: 'user-42', value: null }, options);
    await producer.send({ topic: 't', key: 'user-43', value: 'v' }, options);
    await producer.send({ topic: 't', key: Buffer.from([0xff, 0x00, 0x80]) }, options); // no value at all: a tombstone
    await producer.send({ topic: 't', key: '', value: '' }, options);
    await producer.sendBatch([{ topic: 't', key: 'k', value: null }], options);
    const attributes = spans.getFinishedSpans().map((span) => [span.attributes['messaging.kafka.message.key'], span.attributes['messaging.kafka.message.tombstone']]);
    assert.deepEqual(attributes, [
      ['user-42', true],
      ['user-43', undefined],
      [undefined, true], // bytes have no canonical string form
      ['', undefined], // an empty key is a key, and an empty value a value
      [undefined, undefined],
    ]);
  } finally {
    instrumentation.disable();
    await producer.close();
    await broker.close();
  }
});
