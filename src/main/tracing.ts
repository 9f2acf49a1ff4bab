/**
 * `node:diagnostics_channel` for observers (APM agents, the OpenTelemetry instrumentation in src/otel): a tracing
 * channel around each call a user awaits, and a plain channel per batch outcome. Nothing is paid when nobody
 * subscribes: the producer looks at `hasSubscribers` first and otherwise calls straight through, with no context
 * object or closure.
 *
 *   tracing:ringkafka:send       context { record }            result: RecordMetadata
 *   tracing:ringkafka:sendBatch  context { records }           result: the settled results, or SendBatchFailures; error:
 *                                                              the call refused whole
 *   tracing:ringkafka:flush      context {}
 *   tracing:ringkafka:close      context {}
 *   ringkafka:batch              { topic, partition, records, baseOffset, error } per batch outcome the main thread reads
 *                                from a worker (none for records close gave up on, or a crashed worker held)
 *   ringkafka:worker             { worker, event, … }: 'retry' { topic, partition, errorCode (-1: no answer), attempt },
 *                                'throttle' { broker, throttleTimeMs }, 'epoch-bump' { topic, partition, epoch },
 *                                'connect-error' { broker, message } (an attempt to connect failed; no retry),
 *                                'crash' { error } (the worker is being replaced)
 *
 * Each tracing channel publishes start/end/asyncStart/asyncEnd/error as Node documents for `tracePromise`; on
 * asyncEnd the context holds `result` or `error`.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ProducerRecord, RecordMetadata, SendBatchResult } from './types.js';

export interface SendContext {
  /** An observer may replace it on `start` (a copy with a trace header): the producer sends what is here then. */
  record: ProducerRecord;
  result?: RecordMetadata;
  error?: unknown;
}

export interface SendBatchContext {
  /** As SendContext.record: replaceable on `start`. */
  records: readonly ProducerRecord[];
  /** In the form the call asked for (`results: 'all'` or `'failures'`). */
  result?: SendBatchResult;
  error?: unknown;
}

export interface BatchOutcomeMessage {
  readonly topic: string;
  readonly partition: number;
  readonly records: number;
  /** The first record's offset, or -1 (failed, or acks 0). */
  readonly baseOffset: number;
  readonly error: Error | undefined;
}

export const channels = {
  send: diagnosticsChannel.tracingChannel<SendContext>('ringkafka:send'),
  sendBatch: diagnosticsChannel.tracingChannel<SendBatchContext>('ringkafka:sendBatch'),
  flush: diagnosticsChannel.tracingChannel<object>('ringkafka:flush'),
  close: diagnosticsChannel.tracingChannel<object>('ringkafka:close'),
  batch: diagnosticsChannel.channel('ringkafka:batch'),
  worker: diagnosticsChannel.channel('ringkafka:worker'),
} as const;
