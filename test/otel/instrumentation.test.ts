/**
 * ringkafka/otel with the OpenTelemetry SDK's in-memory exporters: the spans and metrics the messaging semantic
 * conventions name for a Kafka producer, and the W3C traceparent header on the records the real broker stores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { Producer } from '../../src/main/producer.js';
import type { ProducerRecord } from '../../src/main/types.js';
import { InvalidRecordError } from '../../src/main/serialize.js';
import { instrumentRingkafka } from '../../src/otel/index.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume } from '../helpers/readback.js';

test('spans, metrics and traceparent headers for send and sendBatch', { timeout: 60_000 }, async () => {
  // What an SDK set-up does: without a context manager there is no active span to be a child of.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation = instrumentRingkafka({ tracerProvider, meterProvider, injectTraceContext: true });
  const brokers = await useBroker();
  const topic = uniqueTopic('otel');
  await createTopic(topic, 2);
  const producer = new Producer({ brokers, workers: 1, lingerMs: 0 });
  try {
    const parent = tracerProvider.getTracer('app').startSpan('request');
    const userRecord = { topic, partition: 1, value: 'one', headers: { app: 'x' } };
    const metadata = await context.with(trace.setSpan(context.active(), parent), () => producer.send(userRecord));
    parent.end();
    await producer.sendBatch([{ topic, partition: 0, value: 'a' }, { topic, partition: 0, value: 'b' }, { topic, value: 7 as unknown as string }]);
    // The same, with only the failures as its result.
    const failuresOnly = await producer.sendBatch([{ topic, value: 7 as unknown as string }, { topic, partition: 0, value: 'c' }], { results: 'failures' });
    assert.deepEqual(failuresOnly.failures.map((f) => f.index), [0]);
    assert.deepEqual(userRecord.headers, { app: 'x' }, "the caller's record is not changed");

    const finished = spans.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'ringkafka');
    assert.equal(finished.length, 3);
    const [single, batch, failuresBatch] = finished;
    assert.equal(single!.name, `send ${topic}`);
    assert.equal(single!.kind, SpanKind.PRODUCER);
    assert.equal(single!.parentSpanContext?.spanId, parent.spanContext().spanId, 'a child of the active span');
    assert.deepEqual(
      { ...single!.attributes },
      {
        'messaging.system': 'kafka', 'messaging.operation.name': 'send', 'messaging.operation.type': 'send',
        'messaging.destination.name': topic, 'messaging.destination.partition.id': '1', 'messaging.kafka.offset': metadata.offset,
      },
    );
    assert.equal(batch!.attributes['messaging.batch.message_count'], 3);
    assert.equal(batch!.attributes['error.type'], 'ERR_INVALID_RECORD', 'one record of the batch failed');
    assert.equal(batch!.status.code, SpanStatusCode.ERROR);
    assert.equal(failuresBatch!.attributes['messaging.batch.message_count'], 2);
    assert.equal(failuresBatch!.attributes['error.type'], 'ERR_INVALID_RECORD', "a results: 'failures' call's failure is seen too");
    assert.equal(failuresBatch!.status.code, SpanStatusCode.ERROR);

    // The broker holds the send span's trace context in the record's headers, beside the caller's own (read back
    // by Kafka's console consumer).
    const { traceId, spanId } = single!.spanContext();
    const read = await consume(brokers, topic, 4);
    const one = read.find((r) => r.value === 'one')!;
    assert.equal(one.headers, `app:x,traceparent:00-${traceId}-${spanId}-01`);
    const batchSpan = batch!.spanContext();
    assert.ok(read.filter((r) => r.value === 'a' || r.value === 'b').every((r) => r.headers === `traceparent:00-${batchSpan.traceId}-${batchSpan.spanId}-01`));

    await reader.forceFlush();
    const metrics = metricExporter.getMetrics().flatMap((m) => m.scopeMetrics).flatMap((s) => s.metrics);
    const byName = new Map(metrics.map((m) => [m.descriptor.name, m]));
    const sent = byName.get('messaging.client.sent.messages')!;
    const points = sent.dataPoints.map((p) => [p.attributes['error.type'] ?? null, p.value]);
    assert.deepEqual(points.sort(), [[null, 4], ['ERR_INVALID_RECORD', 2]].sort());
    const durations = byName.get('messaging.client.operation.duration')!;
    assert.equal(durations.descriptor.unit, 's');
    assert.equal(durations.dataPoints.reduce((n, p) => n + (p.value as { count: number }).count, 0), 3);
  } finally {
    instrumentation.disable();
    await producer.close();
    await meterProvider.shutdown();
    context.disable();
  }
});

test('disable unsubscribes: the producer is back to no tracing at all', async () => {
  const { channels } = await import('../../src/main/tracing.js');
  const instrumentation = instrumentRingkafka({ tracerProvider: new BasicTracerProvider(), meterProvider: new MeterProvider() });
  assert.equal(channels.send.hasSubscribers, true);
  instrumentation.disable();
  assert.equal(channels.send.hasSubscribers, false);
  assert.equal(channels.sendBatch.hasSubscribers, false);
});

/** A tracer provider whose finished spans the test reads, and the instrumentation over it. */
function instrumented(injectTraceContext = false) {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const instrumentation = instrumentRingkafka({ tracerProvider, meterProvider: new MeterProvider(), injectTraceContext });
  return { spans, instrumentation };
}

test('a call with something that is not a record still rejects with the producer\'s own error; the instrumentation throws nothing', async () => {
  // A subscriber's exception is an uncaught exception to Node: reading `topic` of null here ended the process.
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => void uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  const { spans, instrumentation } = instrumented(true);
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });
  try {
    for (const bad of [null, 'text', 42]) {
      await assert.rejects(producer.send(bad as unknown as ProducerRecord), InvalidRecordError);
      const [result] = await producer.sendBatch([bad as unknown as ProducerRecord]);
      assert.ok(result?.status === 'rejected' && result.reason instanceof InvalidRecordError);
    }
    await assert.rejects(producer.sendBatch(null as unknown as ProducerRecord[]), InvalidRecordError);
    // Headers the producer refuses are passed on as they are, for it to name them, not turned into other headers.
    await assert.rejects(producer.send({ topic: 't', value: 'v', headers: new Map([['a', 'b']]) as unknown as Record<string, string> }), InvalidRecordError);
    await assert.rejects(producer.send({ topic: 't', value: 'v', headers: 'ab' as unknown as Record<string, string> }), InvalidRecordError);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(uncaught, []);
    const finished = spans.getFinishedSpans();
    assert.equal(finished.length, 9, 'every call still has its span, ended');
    assert.ok(finished.every((span) => span.status.code === SpanStatusCode.ERROR));
  } finally {
    process.off('uncaughtException', onUncaught);
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
  }
});

test('disable() while a send is under way: its span still ends, and the handlers go once it has', async () => {
  const { channels } = await import('../../src/main/tracing.js');
  const { spans, instrumentation } = instrumented();
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });
  const abort = new AbortController();
  try {
    const pending = producer.send({ topic: 't', value: 'v' }, { signal: abort.signal });
    instrumentation.disable();
    assert.equal(channels.send.start.hasSubscribers, false, 'no new spans');
    await assert.rejects(producer.send({ topic: 't', value: 'v', partition: -1 }), InvalidRecordError);
    assert.equal(spans.getFinishedSpans().length, 0, 'the call after disable() has no span');
    abort.abort();
    await assert.rejects(pending);
    assert.equal(spans.getFinishedSpans().length, 1, 'the span started before disable() ended');
    assert.equal(channels.send.hasSubscribers, false, 'the end handlers went with the last span');
  } finally {
    await producer.close({ timeoutMs: 1000 });
  }
});

test('injectTraceContext adds traceparent to a plain headers object, and hands a class instance on for the producer to refuse', async () => {
  const { channels } = await import('../../src/main/tracing.js');
  const { instrumentation } = instrumented(true);
  const seen: unknown[] = [];
  const watch = { start: (message: unknown) => void seen.push((message as { record: ProducerRecord }).record.headers), end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
  channels.send.subscribe(watch); // after the instrumentation's: it sees the record as handed on
  const producer = new Producer({ brokers: ['127.0.0.1:1'], workers: 1 });
  class Headers {
    app = 'x';
  }
  try {
    const abort = new AbortController();
    const sent = producer.send({ topic: 't', value: 'v', headers: { app: 'x' } }, { signal: abort.signal });
    abort.abort();
    await assert.rejects(sent);
    assert.deepEqual({ ...(seen[0] as object) }, { app: 'x', traceparent: (seen[0] as { traceparent: string }).traceparent });
    assert.match((seen[0] as { traceparent: string }).traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    // The producer takes plain objects only: rebuilt as one, a class instance was sent with its own headers lost.
    const instance = new Headers();
    await assert.rejects(producer.send({ topic: 't', value: 'v', headers: instance as unknown as Record<string, string> }), /^InvalidRecordError: record\.headers must be/);
    assert.equal(seen[1], instance, 'handed on as given');
  } finally {
    channels.send.unsubscribe(watch);
    instrumentation.disable();
    await producer.close({ timeoutMs: 1000 });
  }
});
