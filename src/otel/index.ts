/**
 * `ringkafka/otel`: OpenTelemetry spans and metrics for the producer, following the messaging semantic conventions
 * for Kafka producers. It subscribes to the producer's diagnostics channels (src/main/tracing.ts), so a producer
 * pays nothing until this is enabled, and needs `@opentelemetry/api` (an optional peer dependency) only here.
 *
 * What is traced: `send` and `sendBatch` calls (a transaction's included). `writable()` and `trySend()` publish on no
 * tracing channel, so their records get no span, no metrics and no trace header.
 *
 * - A PRODUCER span per `send` (`send {topic}`) and per `sendBatch` (`send {topic}`, or `send` across topics, with
 *   `messaging.batch.message_count`), a child of the caller's active span; `messaging.system=kafka`,
 *   `messaging.operation.name=send`, `messaging.operation.type=send`, `messaging.destination.name`, and on success
 *   `messaging.destination.partition.id` and `messaging.kafka.offset` (single sends, which also carry
 *   `messaging.kafka.message.key` for a string key and `messaging.kafka.message.tombstone` for a null value); on
 *   failure `error.type` (the error's code) and an error status.
 * - Metrics `messaging.client.operation.duration` (seconds, a histogram per call) and `messaging.client.sent.messages`
 *   (a counter per record, with `error.type` on the failed ones, a point per error type). A record whose caller was
 *   released early (an abort, a delivery timeout, close) counts as failed there, as its call saw it, even when the
 *   broker acknowledged it later (the producer's 'lateOutcome' event; `metrics()` counts it in both). Without a
 *   `meterProvider` option they go to the global meter provider of the moment, so an SDK started after
 *   `instrumentRingkafka()` still gets them.
 * - With `injectTraceContext`, each record of a traced call carries the send span's W3C `traceparent` header (and
 *   its `tracestate`, if any), replacing any the record had (a copy of the record gets them; the caller's object is
 *   not changed). Nothing is injected while the span has no valid context (no SDK).
 */
import {
  SpanKind, SpanStatusCode, context, isSpanContextValid, metrics, trace,
  type Attributes, type Counter, type Histogram, type MeterProvider, type Span, type TracerProvider,
} from '@opentelemetry/api';
import { channels, type SendBatchContext, type SendContext } from '../main/tracing.js';
import { isHeaderValue, isPlainObject } from '../main/serialize.js';
import type { ProducerRecord, RecordHeaders } from '../main/types.js';

export interface InstrumentationOptions {
  /** Default: the global tracer provider. */
  readonly tracerProvider?: TracerProvider;
  /** Default: the global meter provider, looked up as each call ends (it may be set after this). */
  readonly meterProvider?: MeterProvider;
  /**
   * Add the send span's W3C `traceparent` header to each record of a `send` or `sendBatch` call (default false);
   * `writable()` and `trySend()` are not traced.
   */
  readonly injectTraceContext?: boolean;
}

export interface Instrumentation {
  /** Starts no more spans; those already started still end (the end handlers go once the last has). */
  disable(): void;
}

const SCOPE = 'ringkafka';

/**
 * The messaging semantic conventions' boundaries, in seconds: without advice the SDK's defaults (0 to 10,000, made
 * for milliseconds) put nearly every call in the first buckets.
 */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

interface Instruments {
  readonly duration: Histogram;
  readonly sent: Counter;
}

function createInstruments(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(SCOPE);
  return {
    duration: meter.createHistogram('messaging.client.operation.duration', {
      unit: 's',
      description: 'Duration of a send or sendBatch call, until every record has its outcome',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    sent: meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Records the producer sent' }),
  };
}

/** A traced call's span and start time. */
interface Call {
  readonly span: Span;
  readonly started: number;
}

const ignore = (): void => {};

/** Header names are case-insensitive in W3C trace context: an upstream `Traceparent` would compete with ours. */
const isTraceHeader = (name: unknown): boolean => typeof name === 'string' && /^trace(?:parent|state)$/i.test(name);

/** The span's W3C trace context as header entries; none for an invalid context (the all-zero ids of a no-op span). */
function traceHeaders(span: Span): Array<[string, string]> {
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return [];
  const { traceId, spanId, traceFlags, traceState } = spanContext;
  const headers: Array<[string, string]> = [['traceparent', `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`]];
  const state = traceState?.serialize();
  if (state) headers.push(['tracestate', state]);
  return headers;
}

/**
 * The record with the trace headers, in a copy, and any trace headers it had dropped: a record forwarded from a
 * consumed message kept its upstream `traceparent` first, and a reader takes the first. A record the producer will
 * refuse for its headers (not an object, or headers that acceptedHeaders does not take) is passed on as it is, for
 * the producer's own error to name the field: rebuilt into a plain object, a fetch `Headers` or a class instance the
 * producer refuses was accepted with its own headers gone, and a bad trace header (`{ traceparent: 42 }`) was
 * stripped and the record sent.
 */
function withTraceHeaders(record: ProducerRecord, added: ReadonlyArray<[string, string]>): ProducerRecord {
  if (record === null || typeof record !== 'object') return record;
  const headers: unknown = record.headers;
  if (headers == null) return copyRecord(record, Object.fromEntries(added));
  const entries = acceptedHeaders(headers);
  if (entries === undefined) return record;
  const kept = entries.filter(([name]) => !isTraceHeader(name));
  // fromEntries keeps a `__proto__` key a header (an assignment would set the prototype instead).
  return copyRecord(record, (Array.isArray(headers) ? [...kept, ...added] : Object.fromEntries([...kept, ...added])) as RecordHeaders);
}

/**
 * The headers' entries when the producer's record check (src/main/serialize.ts) accepts them, else undefined: an
 * array of exactly [string, value] pairs, or a plain object read by its own enumerable keys; each value one the
 * producer takes (`isHeaderValue`). Anything else is refused there, and must reach it unchanged.
 */
function acceptedHeaders(headers: unknown): Array<[string, unknown]> | undefined {
  const entries: Array<[string, unknown]> = [];
  if (Array.isArray(headers)) {
    // An index loop, not for-of or filter(): a hole the producer refuses must not be skipped as if absent.
    for (let i = 0; i < headers.length; i++) {
      const pair: unknown = headers[i];
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isHeaderValue(pair[1])) return undefined;
      entries.push([pair[0], pair[1]]);
    }
    return entries;
  }
  if (!isPlainObject(headers)) return undefined;
  for (const name of Object.keys(headers)) {
    if (!isHeaderValue(headers[name])) return undefined;
    entries.push([name, headers[name]]);
  }
  return entries;
}

/**
 * The fields the producer reads, read by name: a spread copies own properties only, so a record whose fields are
 * getters of its class lost its topic and was refused.
 */
function copyRecord(record: ProducerRecord, headers: RecordHeaders): ProducerRecord {
  const { topic, key, value, partition, timestamp } = record;
  return { topic, key, value, partition, timestamp, headers };
}

/** The record's topic, or undefined when the caller passed something that is not a record (the producer refuses it). */
function topicOfRecord(record: unknown): string | undefined {
  if (record === null || typeof record !== 'object') return undefined;
  const { topic } = record as { topic?: unknown };
  return typeof topic === 'string' ? topic : undefined;
}

/**
 * A single send's `messaging.kafka.message.key` and `messaging.kafka.message.tombstone`, which the messaging
 * conventions ask for (a batch's span stands for many records, so it has neither). The key is set only when it is a
 * string: the conventions want a key's canonical string form, and bytes have none (as UTF-8 a binary key would be
 * mangled, and hex or base64 would be a form of our choosing that no consumer shows). A null or absent value is what
 * the producer sends as a tombstone (a serializer is not called for it); any other value leaves the attribute out,
 * which the conventions read as false.
 */
function messageAttributes(record: unknown): Attributes {
  if (record === null || typeof record !== 'object') return {};
  const { key, value } = record as { key?: unknown; value?: unknown };
  return {
    ...(typeof key === 'string' && { 'messaging.kafka.message.key': key }),
    ...(value == null && { 'messaging.kafka.message.tombstone': true }),
  };
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

/**
 * A call's failed records by error type: each type its own counter point. All of a batch's failures counted under
 * the first one's type said a batch of one refused record and one too large failed twice for the first reason.
 */
type Failures = Map<string, number>;

/** Every record of a call failed for one error (a send's, or a call refused or rejected as a whole). */
const failedAll = (error: unknown, records: number): Failures => new Map(records > 0 ? [[errorType(error), records]] : []);

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
  const inject = options.injectTraceContext === true;

  // The global meter provider is looked up per call, not once: unlike the trace API's, the metrics API hands out no
  // proxy that follows a later registration, so an SDK started after this ran got no metrics, for good.
  let instrumentsProvider: MeterProvider | undefined;
  let instruments: Instruments | undefined;
  const currentInstruments = (): Instruments => {
    const provider = options.meterProvider ?? metrics.getMeterProvider();
    if (instruments === undefined || provider !== instrumentsProvider) {
      instruments = createInstruments(provider);
      instrumentsProvider = provider;
    }
    return instruments;
  };

  const base = (topic: string | undefined): Attributes => ({
    'messaging.system': 'kafka',
    'messaging.operation.name': 'send',
    'messaging.operation.type': 'send',
    ...(topic !== undefined && { 'messaging.destination.name': topic }),
  });

  /**
   * Per instrumentation, keyed by the channel's context object (one object handed to every subscriber): a key on
   * that object shared by all instances let a second instrumentation's span replace the first's, leaving spans open.
   */
  const calls = new WeakMap<object, Call>();
  /** Spans started and not yet ended: after disable(), the end handlers stay subscribed until this is 0. */
  let open = 0;
  let disabled = false;

  const start = (ctx: object, topic: string | undefined, extra: Attributes): Span => {
    const span = tracer.startSpan(topic === undefined ? 'send' : `send ${topic}`, { kind: SpanKind.PRODUCER, attributes: { ...base(topic), ...extra } }, context.active());
    calls.set(ctx, { span, started: performance.now() });
    open++;
    return span;
  };

  const finish = (ctx: object, topic: string | undefined, failure: unknown, records: number, failures: Failures, outcome: Attributes = {}): void => {
    const call = calls.get(ctx);
    if (call === undefined) return;
    calls.delete(ctx);
    if (--open === 0 && disabled) unsubscribeAll();
    const { span, started } = call;
    try {
      span.setAttributes(outcome);
      const { duration, sent } = currentInstruments();
      const attributes = base(topic);
      if (failure !== undefined) {
        const type = errorType(failure);
        span.setAttribute('error.type', type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure instanceof Error ? failure.message : String(failure) });
        duration.record((performance.now() - started) / 1000, { ...attributes, 'error.type': type });
      } else duration.record((performance.now() - started) / 1000, attributes);
      let failed = 0;
      for (const [type, count] of failures) {
        sent.add(count, { ...attributes, 'error.type': type });
        failed += count;
      }
      if (records - failed > 0) sent.add(records - failed, attributes);
    } finally {
      // A throwing meter or attribute call would otherwise leave the span open, never exported.
      span.end();
    }
  };

  // The context's record and records are the caller's arguments as given: anything at all until the producer has
  // checked them, which it does after `start`. Every handler reads them as unknown.
  const send = {
    start: safely((message: unknown) => {
      const ctx = message as SendContext;
      const span = start(ctx, topicOfRecord(ctx.record), messageAttributes(ctx.record));
      const headers = inject ? traceHeaders(span) : [];
      if (headers.length > 0) ctx.record = withTraceHeaders(ctx.record, headers);
    }),
    asyncEnd: safely((message: unknown) => {
      const ctx = message as SendContext;
      const outcome: Attributes = {};
      if (ctx.result !== undefined) {
        outcome['messaging.destination.partition.id'] = String(ctx.result.partition);
        if (ctx.result.offset >= 0) outcome['messaging.kafka.offset'] = ctx.result.offset;
      }
      finish(ctx, topicOfRecord(ctx.record), ctx.error, 1, ctx.error === undefined ? new Map() : failedAll(ctx.error, 1), outcome);
    }),
    end: safely((message: unknown) => {
      // `end` with an error is a synchronous throw, which never reaches asyncEnd.
      const ctx = message as SendContext;
      if (ctx.error !== undefined) finish(ctx, topicOfRecord(ctx.record), ctx.error, 1, failedAll(ctx.error, 1));
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
      const ctx = message as SendBatchContext;
      const span = start(ctx, topicOf(ctx.records), { 'messaging.batch.message_count': countOf(ctx.records) });
      const headers = inject ? traceHeaders(span) : [];
      if (headers.length > 0 && Array.isArray(ctx.records)) ctx.records = ctx.records.map((record) => withTraceHeaders(record, headers));
    }),
    asyncEnd: safely((message: unknown) => {
      const ctx = message as SendBatchContext;
      const count = countOf(ctx.records);
      if (ctx.error !== undefined) return finish(ctx, topicOf(ctx.records), ctx.error, count, failedAll(ctx.error, count));
      // The span keeps the first failure's type; the counter has each record's.
      let failure: unknown;
      const failures: Failures = new Map();
      const failed = (reason: unknown): void => {
        failure ??= reason;
        const type = errorType(reason);
        failures.set(type, (failures.get(type) ?? 0) + 1);
      };
      const result = ctx.result;
      if (result !== undefined && !Array.isArray(result)) {
        // results: 'failures'
        for (const { reason } of result.failures) failed(reason);
      } else {
        for (const settled of result ?? []) if (settled.status === 'rejected') failed(settled.reason);
      }
      finish(ctx, topicOf(ctx.records), failure, count, failures);
    }),
    end: safely((message: unknown) => {
      const ctx = message as SendBatchContext;
      if (ctx.error !== undefined) finish(ctx, topicOf(ctx.records), ctx.error, countOf(ctx.records), failedAll(ctx.error, countOf(ctx.records)));
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
