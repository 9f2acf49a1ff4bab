/**
 * `ringkafka/kafkajs`: KafkaJS's producer API over ringkafka's Producer, so a KafkaJS service switches by changing
 * its import. What maps to what, and what is refused and why: docs/kafkajs.md.
 */
export { Kafka } from './kafka.js';
export { KafkaJSProducer } from './producer.js';
export type { KafkaJSProducer as Producer } from './producer.js';
export { CompressionTypes, CompressionCodecs, Partitioners, type CompressionCodec } from './constants.js';
export { logLevel, type LogEntry, type Logger, type LoggerEntryContent } from './logger.js';
export { PRODUCER_EVENTS, type InstrumentationEvent, type ProducerEvents, type RemoveInstrumentationEventListener } from './events.js';
export type { Transaction, Sender } from './transaction.js';
export {
  KafkaJSError, KafkaJSNonRetriableError, KafkaJSProtocolError, KafkaJSConnectionError, KafkaJSRequestTimeoutError,
  KafkaJSNumberOfRetriesExceeded, KafkaJSTimeout, KafkaJSSASLAuthenticationError, KafkaJSAggregateError,
  type KafkaJSErrorOptions, type KafkaJSErrorLike, type KafkaJSErrorInput,
} from './errors.js';
export {
  KafkaJSPartialMessageError, KafkaJSBrokerNotFound, KafkaJSConnectionClosedError, KafkaJSOffsetOutOfRange,
  KafkaJSMemberIdRequired, KafkaJSGroupCoordinatorNotFound, KafkaJSNotImplemented, KafkaJSMetadataNotLoaded,
  KafkaJSTopicMetadataNotLoaded, KafkaJSStaleTopicMetadataAssignment, KafkaJSDeleteGroupsError, KafkaJSLockTimeout,
  KafkaJSServerDoesNotSupportApiKey, KafkaJSUnsupportedMagicByteInMessageSet, KafkaJSDeleteTopicRecordsError,
  KafkaJSInvariantViolation, KafkaJSInvalidVarIntError, KafkaJSInvalidLongError, KafkaJSCreateTopicError,
  KafkaJSAlterPartitionReassignmentsError, KafkaJSFetcherRebalanceError, KafkaJSNoBrokerAvailableError,
  type KafkaJSDeleteGroupsErrorGroups, type KafkaJSDeleteTopicRecordsErrorPartition,
} from './other-errors.js';
export type {
  KafkaConfig, ProducerConfig, RetryOptions, SASLOptions, logCreator, Message, IHeaders, ProducerRecord, ProducerBatch,
  TopicMessages, RecordMetadata, Offsets, TopicOffsets, PartitionOffset, ICustomPartitioner, PartitionerArgs,
} from './types.js';
export type { ProducerOptions, Compression, Acks } from '../main/index.js';
