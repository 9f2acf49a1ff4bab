/**
 * `ringkafka/otel`: OpenTelemetry spans and metrics for the producer, following the messaging semantic conventions
 * for Kafka producers. It subscribes to the producer's diagnostics channels (src/main/tracing.ts), so a producer
 * pays nothing until this is enabled, and needs `@opentelemetry/api` (an optional peer dependency) only here.
 *
 * - A PRODUCER span per `send` (`send {topic}`) and per `sendBatch` (`send {topic}`, or `send` across topics, with
 *   `messaging.batch.message_count`), a child of the caller's active span; `messaging.system=kafka`,
 *   `messaging.operation.name=send`, `messaging.operation.type=send`, `messaging.destination.name`, and on success
 *   `messaging.destination.partition.id` and `messaging.kafka.offset` (single sends); on failure `error.type` (the
 *   error's code) and an error status.
 * - Metrics `messaging.client.operation.duration` (seconds, a histogram per call) and `messaging.client.sent.messages`
 *   (a counter per record, with `error.type` on the failed ones).
 * - With `injectTraceContext`, each sent record carries the send span's W3C `traceparent` header (a copy of the
 *   record gets it; the caller's object is not changed).
 */
import { SpanKind, SpanStatusCode, context, metrics, trace, type Attributes, type MeterProvider, type Span, type TracerProvider } from '@opentelemetry/api';
import { channels, type SendBatchContext, type SendContext } from '../main/tracing.js';
import type { ProducerRecord } from '../main/types.js';

export interface InstrumentationOptions {
  /** Default: the global tracer provider. */
  readonly tracerProvider?: TracerProvider;
  /** Default: the global meter provider. */
  readonly meterProvider?: MeterProvider;
  /** Add a W3C `traceparent` header to every record sent (default false). */
  readonly injectTraceContext?: boolean;
}

export interface Instrumentation {
  /** Starts no more spans; those already started still end (the end handlers go once the last has). */
  disable(): void;
}

const SCOPE = 'ringkafka';
const SPAN = Symbol('ringkafka.otel.span');
const STARTED = Symbol('ringkafka.otel.started');

interface Traced {
  [SPAN]?: Span | undefined;
  [STARTED]?: number;
}

const ignore = (): void => {};

function traceparent(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/**
 * The record with a `traceparent` header added, in a copy. A record the producer will refuse (not an object, or
 * headers a string, a Map or bytes) is passed on as it is, for the producer's own error to name the
 * field: spread into an object, a Map of headers lost its entries and a string became one header per character.
 */
function withTraceparent(record: ProducerRecord, value: string): ProducerRecord {
  if (record === null || typeof record !== 'object') return record;
  const headers: unknown = record.headers;
  if (Array.isArray(headers)) return { ...record, headers: [...headers, ['traceparent', value]] } as ProducerRecord;
  if (headers == null) return { ...record, headers: { traceparent: value } };
  // The producer's own test (serialize.ts): any other object is an object of header values, class instances too.
  if (typeof headers !== 'object' || headers instanceof Map || headers instanceof Uint8Array) return record;
  return { ...record, headers: { ...(headers as Record<string, unknown>), traceparent: value } } as ProducerRecord;
}

/** The record's topic, or undefined when the caller passed something that is not a record (the producer refuses it). */
function topicOfRecord(record: unknown): string | undefined {
  if (record === null || typeof record !== 'object') return undefined;
  const { topic } = record as { topic?: unknown };
  return typeof topic === 'string' ? topic : undefined;
}

/**
 * A channel handler that never throws: Node reports a diagnostics_channel subscriber's exception as an uncaught
 * exception, so a fault here (or in the SDK it calls) would end the application's process for a telemetry bug.
 */
function safely(handler: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      handler(message);
    } catch {
      // Telemetry is lost for this call; the call itself goes on unharmed.
    }
  };
}

function errorType(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return '_OTHER';
}

export function instrumentRingkafka(options: InstrumentationOptions = {}): Instrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const duration = meter.createHistogram('messaging.client.operation.duration', {
    unit: 's',
    description: 'Duration of a send or sendBatch call, until every record has its outcome',
  });
  const sent = meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Records the producer sent' });
  const inject = options.injectTraceContext === true;

  const base = (topic: string | undefined): Attributes => ({
    'messaging.system': 'kafka',
    'messaging.operation.name': 'send',
    'messaging.operation.type': 'send',
    ...(topic !== undefined && { 'messaging.destination.name': topic }),
  });

  /** Spans started and not yet ended: after disable(), the end handlers stay subscribed until this is 0. */
  let open = 0;
  let disabled = false;

  const start = (ctx: Traced, topic: string | undefined, extra: Attributes): Span => {
    const span = tracer.startSpan(topic === undefined ? 'send' : `send ${topic}`, { kind: SpanKind.PRODUCER, attributes: { ...base(topic), ...extra } }, context.active());
    ctx[SPAN] = span;
    ctx[STARTED] = performance.now();
    open++;
    return span;
  };

  const finish = (ctx: Traced, topic: string | undefined, failure: unknown, records: number, failed: number): void => {
    const span = ctx[SPAN];
    if (span === undefined) return;
    ctx[SPAN] = undefined;
    if (--open === 0 && disabled) unsubscribeAll();
    const attributes = base(topic);
    if (failure !== undefined) {
      const type = errorType(failure);
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure instanceof Error ? failure.message : String(failure) });
      duration.record((performance.now() - ctx[STARTED]!) / 1000, { ...attributes, 'error.type': type });
      if (failed > 0) sent.add(failed, { ...attributes, 'error.type': type });
    } else duration.record((performance.now() - ctx[STARTED]!) / 1000, attributes);
    if (records - failed > 0) sent.add(records - failed, attributes);
    span.end();
  };

  // The context's record and records are the caller's arguments as given: anything at all until the producer has
  // checked them, which it does after `start`. Every handler reads them as unknown.
  const send = {
    start: safely((message: unknown) => {
      const ctx = message as SendContext & Traced;
      const span = start(ctx, topicOfRecord(ctx.record), {});
      if (inject) ctx.record = withTraceparent(ctx.record, traceparent(span));
    }),
    asyncEnd: safely((message: unknown) => {
      const ctx = message as SendContext & Traced;
      const span = ctx[SPAN];
      if (span !== undefined && ctx.result !== undefined) {
        span.setAttribute('messaging.destination.partition.id', String(ctx.result.partition));
        if (ctx.result.offset >= 0) span.setAttribute('messaging.kafka.offset', ctx.result.offset);
      }
      finish(ctx, topicOfRecord(ctx.record), ctx.error, 1, ctx.error === undefined ? 0 : 1);
    }),
    end: safely((message: unknown) => {
      // `end` with an error is a synchronous throw, which never reaches asyncEnd.
      const ctx = message as SendContext & Traced;
      if (ctx.error !== undefined) finish(ctx, topicOfRecord(ctx.record), ctx.error, 1, 1);
    }),
    asyncStart: ignore,
    error: ignore,
  };

  const topicOf = (records: unknown): string | undefined => {
    if (!Array.isArray(records) || records.length === 0) return undefined;
    const first = topicOfRecord(records[0]);
    for (const record of records) if (topicOfRecord(record) !== first) return undefined;
    return first;
  };
  const countOf = (records: unknown): number => (Array.isArray(records) ? records.length : 0);

  const sendBatch = {
    start: safely((message: unknown) => {
      const ctx = message as SendBatchContext & Traced;
      const span = start(ctx, topicOf(ctx.records), { 'messaging.batch.message_count': countOf(ctx.records) });
      if (inject && Array.isArray(ctx.records)) {
        const value = traceparent(span);
        ctx.records = ctx.records.map((record) => withTraceparent(record, value));
      }
    }),
    asyncEnd: safely((message: unknown) => {
      const ctx = message as SendBatchContext & Traced;
      let failed = 0;
      let failure: unknown = ctx.error;
      const result = ctx.result;
      if (result !== undefined && !Array.isArray(result)) {
        // results: 'failures'
        failed = result.failures.length;
        failure ??= result.failures[0]?.reason;
      } else {
        for (const settled of result ?? []) {
          if (settled.status === 'rejected') {
            failed++;
            failure ??= settled.reason;
          }
        }
      }
      const count = countOf(ctx.records);
      finish(ctx, topicOf(ctx.records), failure, count, ctx.error === undefined ? failed : count);
    }),
    end: safely((message: unknown) => {
      const ctx = message as SendBatchContext & Traced;
      if (ctx.error !== undefined) finish(ctx, topicOf(ctx.records), ctx.error, countOf(ctx.records), countOf(ctx.records));
    }),
    asyncStart: ignore,
    error: ignore,
  };

  function unsubscribeAll(): void {
    channels.send.unsubscribe(send);
    channels.sendBatch.unsubscribe(sendBatch);
  }

  channels.send.subscribe(send);
  channels.sendBatch.subscribe(sendBatch);
  return {
    disable() {
      if (disabled) return;
      disabled = true;
      if (open === 0) return unsubscribeAll();
      // No new spans; the calls under way still end theirs, and the last one unsubscribes the rest (finish).
      channels.send.start.unsubscribe(send.start);
      channels.sendBatch.start.unsubscribe(sendBatch.start);
    },
  };
}
