/**
 * The KafkaJS 2.x shapes the facade accepts and returns, written out here so `ringkafka/kafkajs` needs no KafkaJS
 * install: a service that switches its import keeps compiling against the same names and fields.
 */
import type tls from 'node:tls';
import type { ProducerOptions } from '../main/options.js';
import type { CompressionTypes } from './constants.js';
import type { LogEntry, logLevel } from './logger.js';

/** Retry settings, as KafkaJS names them; see docs/kafkajs.md for what each becomes. */
export interface RetryOptions {
  /** Ceiling of one wait between retries, ms. */
  maxRetryTime?: number;
  /** First wait between retries, ms. */
  initialRetryTime?: number;
  /** Randomisation of each wait (ringkafka's is ±0.2, KafkaJS's default). */
  factor?: number;
  /** Growth of the wait per retry (ringkafka doubles it, KafkaJS's default). */
  multiplier?: number;
  /** Retries per request; bounds the delivery time (docs/kafkajs.md). */
  retries?: number;
  /** A consumer setting; refused. */
  restartOnFailure?: (error: Error) => Promise<boolean>;
}

/** SASL settings in KafkaJS's spelling: PLAIN, SCRAM and OAUTHBEARER are supported, AWS is refused. */
export type SASLOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<{ value: string }> }
  | { mechanism: 'aws'; authorizationIdentity: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** Turns a log level into the function that writes one entry. */
export type logCreator = (level: logLevel) => (entry: LogEntry) => void;

/** The client configuration, `new Kafka(config)`. */
export interface KafkaConfig {
  /** Bootstrap brokers, or a function returning them (called at each `connect()`). */
  brokers: string[] | (() => string[] | Promise<string[]>);
  ssl?: tls.ConnectionOptions | boolean;
  sasl?: SASLOptions;
  clientId?: string;
  connectionTimeout?: number;
  authenticationTimeout?: number;
  reauthenticationThreshold?: number;
  requestTimeout?: number;
  enforceRequestTimeout?: boolean;
  retry?: RetryOptions;
  socketFactory?: unknown;
  logLevel?: logLevel;
  logCreator?: logCreator;
}

/** What KafkaJS passes a partitioner; only the two built-in partitioners are accepted (docs/kafkajs.md). */
export interface PartitionerArgs {
  topic: string;
  partitionMetadata: Array<{ partitionId: number; leader: number }>;
  message: Message;
}

/** A partitioner factory, `Partitioners.DefaultPartitioner` being one. */
export type ICustomPartitioner = () => (args: PartitionerArgs) => number;

/** `kafka.producer(config)`. */
export interface ProducerConfig {
  createPartitioner?: ICustomPartitioner;
  retry?: RetryOptions;
  metadataMaxAge?: number;
  allowAutoTopicCreation?: boolean;
  idempotent?: boolean;
  transactionalId?: string;
  transactionTimeout?: number;
  maxInFlightRequests?: number | null;
  /**
   * ringkafka's own options, for what KafkaJS sets per call or not at all: `acks`, `compression`, `lingerMs`,
   * `workers`, buffer sizes. They win over the mapped KafkaJS settings. Not a KafkaJS field.
   */
  ringkafka?: Omit<ProducerOptions, 'brokers'>;
}

/** Header values: a string or Buffer, or several for a repeated header. */
export interface IHeaders {
  [key: string]: Buffer | string | Array<Buffer | string> | undefined;
}

/** One message of a `send`. */
export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: IHeaders;
  /** Milliseconds since the epoch, as a string (a number is accepted too). */
  timestamp?: string;
}

/** `producer.send(record)`. */
export interface ProducerRecord {
  topic: string;
  messages: Message[];
  acks?: number;
  timeout?: number;
  compression?: CompressionTypes;
}

/** One topic's messages in a `sendBatch`. */
export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/** `producer.sendBatch(batch)`. */
export interface ProducerBatch {
  acks?: number;
  timeout?: number;
  compression?: CompressionTypes;
  topicMessages?: TopicMessages[];
}

/** One entry per partition a call wrote to; offsets and times are decimal strings, as in KafkaJS. */
export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  offset?: string;
  timestamp?: string;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
}

/** A consumed position to commit in a transaction. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

/** A topic's positions to commit in a transaction. */
export interface TopicOffsets {
  topic: string;
  partitions: PartitionOffset[];
}

/** `transaction.sendOffsets(offsets)`. */
export interface Offsets {
  topics: TopicOffsets[];
}
