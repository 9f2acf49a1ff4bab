/**
 * The public API of ringkafka (`import … from 'ringkafka'`). The package's `exports` map leads here and to the
 * optional entry points `ringkafka/otel` and `ringkafka/kafkajs`; nothing else of src/ is reachable through it.
 */
export { Producer } from './producer.js';
export type {
  RecordMetadata,
  SendOptions,
  ConnectOptions,
  SendBatchOptions,
  SendBatchFailures,
  SendBatchResult,
  RecordFailure,
  CloseOptions,
  ProducerMetrics,
  ProducerRecord,
  RecordHeaders,
  HeaderValue,
  ProducerOptions,
  Compression,
  Serializer,
  SerializerFunction,
  PartitionerFunction,
  PartitionerRecord,
} from './types.js';
export { InvalidRecordError } from './serialize.js';
export type { RecordWritable, WritableOptions, WritableRecord } from './record-writable.js';
export type { LateOutcome, ProducerEvents, ProducerEventName, ProducerListener } from './producer-events.js';
export type { Acks } from './options.js';
export type { SaslOptions, SaslPasswordOptions, SaslOAuthBearerOptions, OAuthBearerToken, TlsOptions } from './security-options.js';
export {
  KafkaProducerError,
  ProtocolError,
  ConfigError,
  BrokerError,
  ConnectionError,
  RequestTimeoutError,
  UnsupportedVersionError,
} from '../shared/errors.js';
export {
  BufferTimeoutError,
  RecordTooLargeError,
  AbortError,
  DeliveryTimeoutError,
  ProducerClosedError,
  UnknownTopicError,
  AuthenticationError,
  WorkerCrashedError,
  WorkerStartError,
  RejectedWithBatchError,
} from '../shared/producer-errors.js';
export type { Delivery, KafkaProducerErrorOptions } from '../shared/errors.js';
export {
  TransactionStateError,
  TransactionRetriableError,
  TransactionAbortableError,
  TransactionFatalError,
  ProducerFencedError,
} from '../shared/transaction-errors.js';
export type { TransactionErrorCategory } from '../shared/transaction-errors.js';
export type { Transaction, TransactionOptions } from './transactions/transaction.js';
export type { OffsetsToCommit, OffsetToCommit } from './transactions/offsets.js';
