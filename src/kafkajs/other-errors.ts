/**
 * The rest of KafkaJS's error classes: ones KafkaJS raises from its consumer, admin client, protocol decoder or
 * lock code, which the facade's producer never throws. They exist so that code migrated from KafkaJS keeps
 * working: `error instanceof KafkaJSConnectionClosedError` throws a TypeError when the class is undefined, so a
 * missing export broke a `catch` block on its first error, whatever that error was. Each has KafkaJS's parent
 * class (so its `retriable` default), its `name`, and its extra fields; none is built anywhere in the facade.
 */
import {
  KafkaJSConnectionError, KafkaJSError, KafkaJSNonRetriableError, KafkaJSProtocolError, KafkaJSTimeout,
  messageOf, type KafkaJSErrorInput, type KafkaJSErrorOptions,
} from './errors.js';

export class KafkaJSPartialMessageError extends KafkaJSNonRetriableError {
  override name = 'KafkaJSPartialMessageError';
}

export class KafkaJSBrokerNotFound extends KafkaJSError {
  override name = 'KafkaJSBrokerNotFound';
}

export class KafkaJSConnectionClosedError extends KafkaJSConnectionError {
  override name = 'KafkaJSConnectionClosedError';

  readonly host: string | undefined;
  readonly port: number | undefined;

  constructor(e: KafkaJSErrorInput, options: KafkaJSErrorOptions & { readonly host?: string; readonly port?: number } = {}) {
    const { host, port } = options;
    super(e, { ...options, ...(host !== undefined && { broker: port === undefined ? host : `${host}:${port}` }) });
    this.host = options.host;
    this.port = options.port;
  }
}

export class KafkaJSOffsetOutOfRange extends KafkaJSProtocolError {
  override name = 'KafkaJSOffsetOutOfRange';

  readonly topic: string | undefined;
  readonly partition: number | undefined;

  constructor(e: KafkaJSErrorInput, options: { readonly topic?: string; readonly partition?: number } = {}) {
    super(e);
    this.topic = options.topic;
    this.partition = options.partition;
  }
}

export class KafkaJSMemberIdRequired extends KafkaJSProtocolError {
  override name = 'KafkaJSMemberIdRequired';

  readonly memberId: string | undefined;

  constructor(e: KafkaJSErrorInput, options: { readonly memberId?: string } = {}) {
    super(e);
    this.memberId = options.memberId;
  }
}

export class KafkaJSGroupCoordinatorNotFound extends KafkaJSNonRetriableError {
  override name = 'KafkaJSGroupCoordinatorNotFound';
}

export class KafkaJSNotImplemented extends KafkaJSNonRetriableError {
  override name = 'KafkaJSNotImplemented';
}

export class KafkaJSMetadataNotLoaded extends KafkaJSError {
  override name = 'KafkaJSMetadataNotLoaded';
}

export class KafkaJSTopicMetadataNotLoaded extends KafkaJSMetadataNotLoaded {
  override name = 'KafkaJSTopicMetadataNotLoaded';

  readonly topic: string | undefined;

  constructor(e: KafkaJSErrorInput, options: { readonly topic?: string } = {}) {
    super(e);
    this.topic = options.topic;
  }
}

export class KafkaJSStaleTopicMetadataAssignment extends KafkaJSError {
  override name = 'KafkaJSStaleTopicMetadataAssignment';

  readonly topic: string | undefined;
  readonly unknownPartitions: unknown;

  constructor(e: KafkaJSErrorInput, options: { readonly topic?: string; readonly unknownPartitions?: unknown } = {}) {
    super(e);
    this.topic = options.topic;
    this.unknownPartitions = options.unknownPartitions;
  }
}

/** One group's outcome in {@link KafkaJSDeleteGroupsError}. */
export interface KafkaJSDeleteGroupsErrorGroups {
  groupId: string;
  errorCode: number;
  error: KafkaJSError;
}

export class KafkaJSDeleteGroupsError extends KafkaJSError {
  override name = 'KafkaJSDeleteGroupsError';

  readonly groups: KafkaJSDeleteGroupsErrorGroups[];

  constructor(e: KafkaJSErrorInput, groups: KafkaJSDeleteGroupsErrorGroups[] = []) {
    super(e);
    this.groups = groups;
  }
}

export class KafkaJSLockTimeout extends KafkaJSTimeout {
  override name = 'KafkaJSLockTimeout';
}

export class KafkaJSServerDoesNotSupportApiKey extends KafkaJSNonRetriableError {
  override name = 'KafkaJSServerDoesNotSupportApiKey';

  readonly apiKey: number | undefined;
  readonly apiName: string | undefined;

  constructor(e: KafkaJSErrorInput, options: { readonly apiKey?: number; readonly apiName?: string } = {}) {
    super(e);
    this.apiKey = options.apiKey;
    this.apiName = options.apiName;
  }
}

export class KafkaJSUnsupportedMagicByteInMessageSet extends KafkaJSNonRetriableError {
  override name = 'KafkaJSUnsupportedMagicByteInMessageSet';
}

/** One partition's outcome in {@link KafkaJSDeleteTopicRecordsError}. */
export interface KafkaJSDeleteTopicRecordsErrorPartition {
  partition: number;
  offset: string;
  error?: KafkaJSError | null;
}

/** Takes the topic's partitions, not a message; retriable when every partition that failed did so retriably. */
export class KafkaJSDeleteTopicRecordsError extends KafkaJSError {
  override name = 'KafkaJSDeleteTopicRecordsError';

  readonly partitions: KafkaJSDeleteTopicRecordsErrorPartition[];

  constructor({ partitions }: { readonly topic?: string; readonly partitions: KafkaJSDeleteTopicRecordsErrorPartition[] }) {
    const failed = partitions.filter((p) => p.error != null);
    super('Deleting records failed', { retriable: failed.every((p) => p.error!.retriable === true) });
    this.partitions = partitions;
  }
}

/** A condition the client relies on did not hold: a bug in the client, not in the caller. */
export class KafkaJSInvariantViolation extends KafkaJSNonRetriableError {
  override name = 'KafkaJSInvariantViolation';

  constructor(e: KafkaJSErrorInput) {
    super(`Invariant violated, a bug in the client: ${messageOf(e)}`);
  }
}

// KafkaJS names these two 'KafkaJSNonRetriableError', not after their classes; code that tests `error.name`
// expects that name, so they keep it.
export class KafkaJSInvalidVarIntError extends KafkaJSNonRetriableError {
  override name = 'KafkaJSNonRetriableError';
}

export class KafkaJSInvalidLongError extends KafkaJSNonRetriableError {
  override name = 'KafkaJSNonRetriableError';
}

export class KafkaJSCreateTopicError extends KafkaJSProtocolError {
  override name = 'KafkaJSCreateTopicError';

  readonly topic: string | undefined;

  constructor(e: KafkaJSErrorInput, topic?: string) {
    super(e);
    this.topic = topic;
  }
}

export class KafkaJSAlterPartitionReassignmentsError extends KafkaJSProtocolError {
  override name = 'KafkaJSAlterPartitionReassignmentsError';

  readonly topic: string | undefined;
  readonly partition: number | undefined;

  constructor(e: KafkaJSErrorInput, topic?: string, partition?: number) {
    super(e);
    this.topic = topic;
    this.partition = partition;
  }
}

/** KafkaJS's consumer signals a rebalance with it; a plain Error named 'Error' there, so here too. */
export class KafkaJSFetcherRebalanceError extends Error {}

export class KafkaJSNoBrokerAvailableError extends KafkaJSError {
  override name = 'KafkaJSNoBrokerAvailableError';

  constructor() {
    super('No broker is available');
  }
}
