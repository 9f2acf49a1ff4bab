/**
 * ringkafka/otel without a real broker: several instrumentations at once, the trace headers a record already has,
 * the duration buckets, a meter provider set late, no SDK, records that are class instances, a throwing meter.
 * Records with partition -1 are refused by the producer's own check, after the channel's `start`, so a call is
 * traced end to end with no connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyTracerProvider, createTraceState, metrics, type MeterProvider as MeterProviderApi } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, type Sampler } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, type Histogram } from '@opentelemetry/sdk-metrics';
import { Producer } from '../../src/main/producer.js';
import { InvalidRecordError } from '../../src/main/serialize.js';
import { channels } from '../../src/main/tracing.js';
import type { ProducerRecord } from '../../src/main/types.js';
import { instrumentRingkafka, type InstrumentationOptions } from '../../src/otel/index.js';
import { FakeBroker } from '../helpers/fake-broker.js';
import { metered } from './fixtures/metered.js';

const refused = { topic: 't', value: 'v', partition: -1 };
const upstream = '00-11111111111111111111111111111111-2222222222222222-01';

/** A producer that never connects (nothing listens on port 1); refused records never need it to. */
const offlineProducer = (): Producer => new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });

/** An instrumentation over a tracer provider whose finished spans the test reads. */
function traced(options: InstrumentationOptions = {}, sampler?: Sampler) {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)], ...(sampler && { sampler }) });
  const instrumentation = instrumentRingkafka({ tracerProvider, meterProvider: new MeterProvider(), ...options });
  return { spans, instrumentation };
}

/** The records as the producer is handed them: a subscriber after the instrumentation sees its replacements. */
function watchRecords() {
  const seen: unknown[] = [];
  const onStart = (message: unknown): void => {
    const ctx = message as { record?: unknown; records?: unknown };
    seen.push('records' in ctx ? ctx.records : ctx.record);
  };
  const watchers = [channels.send, channels.sendBatch].map((channel) => {
    const watcher = { start: onStart, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
    channel.subscribe(watcher as never);
    return () => channel.unsubscribe(watcher as never);
  });
  return { seen, stop: () => watchers.forEach((stop) => stop()) };
}

test('two instrumentations each end their own span of every call, and their disable() lets the channels go', async () => {
  const a = traced();
  const b = traced();
  const producer = offlineProducer();
  try {
    await assert.rejects(producer.send(refused), InvalidRecordError);
    await producer.sendBatch([refused]);
    assert.equal(a.spans.getFinishedSpans().length, 2, "the first instrumentation's spans end");
    assert.equal(b.spans.getFinishedSpans().length, 2, "the second instrumentation's spans end");
    a.instrumentation.disable();
    b.instrumentation.disable();
    assert.equal(channels.send.hasSubscribers, false);
    assert.equal(channels.sendBatch.hasSubscribers, false);
  } finally {
    a.instrumentation.disable();
    b.instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
  }
});

test('injectTraceContext replaces the trace headers a record has, in any case, in array and object headers', async () => {
  // A sampler that gives the span a tracestate of its own, to see it sent in place of the upstream one.
  const sampler: Sampler = {
    shouldSample: () => ({ decision: SamplingDecision.RECORD_AND_SAMPLED, traceState: createTraceState('ours=1') }),
    toString: () => 'with tracestate',
  };
  const { spans, instrumentation } = traced({ injectTraceContext: true }, sampler);
  const { seen, stop } = watchRecords();
  const producer = offlineProducer();
  const arrayHeaders = [['a', '1'], ['Traceparent', upstream], ['TRACESTATE', 'up=1'], ['traceparent', upstream]] as const;
  const objectHeaders = { a: '1', traceparent: upstream, TraceState: 'up=1' };
  try {
    await producer.sendBatch([{ ...refused, headers: arrayHeaders }, { ...refused, headers: objectHeaders }]);
    const { traceId, spanId } = spans.getFinishedSpans()[0]!.spanContext();
    const ours = `00-${traceId}-${spanId}-01`;
    const [fromArray, fromObject] = seen[0] as ProducerRecord[];
    assert.deepEqual(fromArray!.headers, [['a', '1'], ['traceparent', ours], ['tracestate', 'ours=1']]);
    assert.deepEqual(fromObject!.headers, { a: '1', traceparent: ours, tracestate: 'ours=1' });
    assert.equal(arrayHeaders.length, 4, "the caller's headers are not changed");
    assert.equal(objectHeaders.traceparent, upstream, "the caller's headers are not changed");
  } finally {
    stop();
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
  }
});

test("the duration histogram has the messaging conventions' bucket boundaries, in seconds", async () => {
  const { meterProvider, read } = metered();
  const instrumentation = instrumentRingkafka({ tracerProvider: new BasicTracerProvider(), meterProvider });
  const producer = offlineProducer();
  try {
    await assert.rejects(producer.send(refused), InvalidRecordError);
    const duration = (await read()).get('messaging.client.operation.duration')!;
    const point = duration.dataPoints[0]!.value as Histogram;
    assert.deepEqual(point.buckets.boundaries, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
  } finally {
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
    await meterProvider.shutdown();
  }
});

test('metrics reach a global meter provider set after instrumentRingkafka()', async () => {
  const { meterProvider, read } = metered();
  // As an application module does at import time, before its SDK starts.
  const instrumentation = instrumentRingkafka({ tracerProvider: new BasicTracerProvider() });
  const producer = offlineProducer();
  try {
    await assert.rejects(producer.send(refused), InvalidRecordError); // no SDK yet: nowhere to count it
    metrics.setGlobalMeterProvider(meterProvider);
    await assert.rejects(producer.send(refused), InvalidRecordError);
    const sent = (await read()).get('messaging.client.sent.messages');
    assert.deepEqual(sent?.dataPoints.map((p) => [p.attributes['error.type'], p.value]), [['ERR_INVALID_RECORD', 1]]);
  } finally {
    metrics.disable();
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
    await meterProvider.shutdown();
  }
});

test('no trace header is injected for a span without a valid context (no SDK)', async () => {
  // A proxy with no delegate is what the global tracer provider is before an SDK registers one.
  const instrumentation = instrumentRingkafka({ tracerProvider: new ProxyTracerProvider(), meterProvider: new MeterProvider(), injectTraceContext: true });
  const { seen, stop } = watchRecords();
  const producer = offlineProducer();
  try {
    const record = { ...refused, headers: [['traceparent', upstream]] as const };
    await assert.rejects(producer.send(record), InvalidRecordError);
    assert.equal(seen[0], record, "the record goes on as it is, the upstream trace context with it, not an all-zero one");
  } finally {
    stop();
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
  }
});

test('injectTraceContext sends a record whose fields are getters of its class', async () => {
  class OrderEvent {
    constructor(private readonly id: string) {}
    get topic(): string {
      return 'orders';
    }
    get key(): string {
      return this.id;
    }
    get value(): string {
      return `order ${this.id}`;
    }
  }
  const { instrumentation } = traced({ injectTraceContext: true });
  const { seen, stop } = watchRecords();
  const broker = await FakeBroker.start(1, undefined, { autoAck: true });
  const producer = new Producer({ brokers: [broker.address], workers: 1, lingerMs: 0 });
  try {
    // The signal bounds a failure: a record that lost its topic may wait for that topic's metadata, not be refused.
    const metadata = await producer.send(new OrderEvent('7') as unknown as ProducerRecord, { signal: AbortSignal.timeout(10_000) });
    assert.equal(metadata.topic, 'orders');
    const handedOn = seen[0] as ProducerRecord;
    assert.deepEqual([handedOn.topic, handedOn.key, handedOn.value], ['orders', '7', 'order 7']);
    assert.match((handedOn.headers as Record<string, string>).traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  } finally {
    stop();
    instrumentation.disable();
    await producer.close();
    await broker.close();
  }
});

test('a meter that throws still leaves every span ended', async () => {
  const broken = () => {
    throw new Error('meter down');
  };
  const meterProvider = {
    getMeter: () => ({ createHistogram: () => ({ record: broken }), createCounter: () => ({ add: broken }) }),
  } as unknown as MeterProviderApi;
  const { spans, instrumentation } = traced({ meterProvider });
  const producer = offlineProducer();
  try {
    await assert.rejects(producer.send(refused), InvalidRecordError);
    assert.equal(spans.getFinishedSpans().length, 1);
  } finally {
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
  }
});
