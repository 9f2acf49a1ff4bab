/**
 * The Kafka error table: error code → name, whether retrying may help, whether the client's metadata is stale.
 *
 * Names and codes follow `Errors.java` in apache/kafka (clients/src/main/java/org/apache/kafka/common/protocol),
 * codes -1..128 as of Kafka 3.9/4.0 and 129..133 added by Kafka 4.0/4.1 (still the whole table in Kafka 4.3). The
 * two flags follow the Java exception class of each code:
 * - `retriable`: the class extends `RetriableException`;
 * - `refreshMetadata`: the class extends `InvalidMetadataException` (the Java producer requests a metadata update
 *   when a batch fails with one of these).
 * For Produce this gives retriable 2, 3, 5, 6, 7, 13, 19, 20, 56, 74, 100 (3, 5, 6, 13, 56, 74, 100 with a
 * metadata refresh) and not retriable 10, 18, 21, 29, 32, 43, 76, 87 — the lists in docs/kafka-protocol.md. Codes the
 * producer must treat specially despite their flag (45 OUT_OF_ORDER_SEQUENCE_NUMBER, 46 DUPLICATE_SEQUENCE_NUMBER,
 * 10 MESSAGE_TOO_LARGE splitting) are decided by the sink, not here.
 */
import { BrokerError, type Delivery } from '../shared/errors.js';

/** Every known error code by its Java name. */
export const ErrorCode = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  STALE_CONTROLLER_EPOCH: 11,
  OFFSET_METADATA_TOO_LARGE: 12,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTION_COORDINATOR_FENCED: 52,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SECURITY_DISABLED: 54,
  OPERATION_NOT_ATTEMPTED: 55,
  KAFKA_STORAGE_ERROR: 56,
  LOG_DIR_NOT_FOUND: 57,
  SASL_AUTHENTICATION_FAILED: 58,
  UNKNOWN_PRODUCER_ID: 59,
  REASSIGNMENT_IN_PROGRESS: 60,
  DELEGATION_TOKEN_AUTH_DISABLED: 61,
  DELEGATION_TOKEN_NOT_FOUND: 62,
  DELEGATION_TOKEN_OWNER_MISMATCH: 63,
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: 64,
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 65,
  DELEGATION_TOKEN_EXPIRED: 66,
  INVALID_PRINCIPAL_TYPE: 67,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  LISTENER_NOT_FOUND: 72,
  TOPIC_DELETION_DISABLED: 73,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  STALE_BROKER_EPOCH: 77,
  OFFSET_NOT_AVAILABLE: 78,
  MEMBER_ID_REQUIRED: 79,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  ELECTION_NOT_NEEDED: 84,
  NO_REASSIGNMENT_IN_PROGRESS: 85,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  INVALID_RECORD: 87,
  UNSTABLE_OFFSET_COMMIT: 88,
  THROTTLING_QUOTA_EXCEEDED: 89,
  PRODUCER_FENCED: 90,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  UNACCEPTABLE_CREDENTIAL: 93,
  INCONSISTENT_VOTER_SET: 94,
  INVALID_UPDATE_VERSION: 95,
  FEATURE_UPDATE_FAILED: 96,
  PRINCIPAL_DESERIALIZATION_FAILURE: 97,
  SNAPSHOT_NOT_FOUND: 98,
  POSITION_OUT_OF_RANGE: 99,
  UNKNOWN_TOPIC_ID: 100,
  DUPLICATE_BROKER_REGISTRATION: 101,
  BROKER_ID_NOT_REGISTERED: 102,
  INCONSISTENT_TOPIC_ID: 103,
  INCONSISTENT_CLUSTER_ID: 104,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
  FETCH_SESSION_TOPIC_ID_ERROR: 106,
  INELIGIBLE_REPLICA: 107,
  NEW_LEADER_ELECTED: 108,
  OFFSET_MOVED_TO_TIERED_STORAGE: 109,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
  MISMATCHED_ENDPOINT_TYPE: 114,
  UNSUPPORTED_ENDPOINT_TYPE: 115,
  UNKNOWN_CONTROLLER_ID: 116,
  UNKNOWN_SUBSCRIPTION_ID: 117,
  TELEMETRY_TOO_LARGE: 118,
  INVALID_REGISTRATION: 119,
  TRANSACTION_ABORTABLE: 120,
  INVALID_RECORD_STATE: 121,
  SHARE_SESSION_NOT_FOUND: 122,
  INVALID_SHARE_SESSION_EPOCH: 123,
  FENCED_STATE_EPOCH: 124,
  INVALID_VOTER_KEY: 125,
  DUPLICATE_VOTER: 126,
  VOTER_NOT_FOUND: 127,
  INVALID_REGULAR_EXPRESSION: 128,
  REBOOTSTRAP_REQUIRED: 129,
  STREAMS_INVALID_TOPOLOGY: 130,
  STREAMS_INVALID_TOPOLOGY_EPOCH: 131,
  STREAMS_TOPOLOGY_FENCED: 132,
  SHARE_SESSION_LIMIT_REACHED: 133,
} as const;

/** Codes whose Java exception extends RetriableException. */
const RETRIABLE: ReadonlySet<number> = new Set([
  2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 41, 51, 56, 70, 71, 72, 74, 75, 78, 80, 83, 84, 88, 89, 100, 103, 106,
  122, 123, 133,
]);

/** Codes whose Java exception extends InvalidMetadataException (all of them are also retriable). */
const REFRESH_METADATA: ReadonlySet<number> = new Set([3, 5, 6, 9, 13, 56, 72, 74, 80, 83, 84, 100, 103]);

export interface ErrorInfo {
  readonly code: number;
  /** The Java enum name, e.g. `NOT_LEADER_OR_FOLLOWER`; `UNKNOWN_ERROR_CODE_<n>` for a code not in the table. */
  readonly name: string;
  /** The same request may succeed if sent again (after a backoff). */
  readonly retriable: boolean;
  /** The client's view of leaders or topics is stale: refresh metadata before retrying. */
  readonly refreshMetadata: boolean;
}

const TABLE: ReadonlyMap<number, ErrorInfo> = new Map(
  Object.entries(ErrorCode).map(([name, code]): [number, ErrorInfo] => [
    code,
    Object.freeze({ code, name, retriable: RETRIABLE.has(code), refreshMetadata: REFRESH_METADATA.has(code) }),
  ]),
);

/** What ringkafka knows about a Kafka error code. Never throws: unknown codes are not retriable. */
export function errorInfo(code: number): ErrorInfo {
  return (
    TABLE.get(code) ?? { code, name: `UNKNOWN_ERROR_CODE_${code}`, retriable: false, refreshMetadata: false }
  );
}

/** The `BrokerError` for a non-zero code from a response, with the broker's message when it sent one. */
export function brokerError(code: number, message?: string | null, delivery?: Delivery): BrokerError {
  const info = errorInfo(code);
  return new BrokerError(code, info.name, info.retriable, message, delivery);
}

/**
 * What a transactional producer does about an error, in the categories of KIP-1050 (consistent error handling for
 * transactions):
 * - `retriable`: send the same request again after a backoff (the Java exception extends RetriableException). A
 *   Produce batch that exhausts its retries fails, which makes the transaction abortable.
 * - `refresh-coordinator`: find the coordinator again (FindCoordinator), then resend (KIP-1050's
 *   RefreshRetriableException: NotCoordinatorException, CoordinatorNotAvailableException).
 * - `abortable`: the transaction cannot commit; abort it (EndTxn with committed=false), and the producer goes on.
 * - `fatal`: the producer cannot go on (KIP-1050's application-recoverable and invalid-configuration errors, and
 *   anything unexpected): it must be closed, and a new one created.
 */
export type TransactionErrorCategory = 'retriable' | 'refresh-coordinator' | 'abortable' | 'fatal';

/**
 * Where the code came from: a transaction or group coordinator (FindCoordinator, InitProducerId,
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn), or a partition leader (Produce). Some codes mean
 * different things in the two: INVALID_PRODUCER_EPOCH from a coordinator means another producer took over the
 * transactional id, from a leader that the coordinator aborted a timed-out transaction (KIP-588).
 */
export type TransactionErrorOrigin = 'coordinator' | 'produce';

/**
 * Fatal wherever they come from. The Java client's `TransactionManager.maybeTransitionToErrorState` makes these
 * five fatal for a failed batch (ClusterAuthorizationException, TransactionalIdAuthorizationException,
 * ProducerFencedException, UnsupportedVersionException, InvalidPidMappingException), and every coordinator handler
 * in `TransactionManager` calls `fatalError` for them.
 */
const TXN_FATAL_ANYWHERE: ReadonlySet<number> = new Set([
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.PRODUCER_FENCED,
]);

/**
 * The coordinator answers `TransactionManager`'s handlers turn into `abortableError` (or `abortableErrorIfPossible`):
 * - TRANSACTION_ABORTABLE (KIP-890), in every handler;
 * - UNKNOWN_PRODUCER_ID (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn): abortable when the epoch can be bumped
 *   (InitProducerId v3+ at the coordinator, KIP-360, or transaction protocol v2), fatal otherwise;
 * - TOPIC_AUTHORIZATION_FAILED and OPERATION_NOT_ATTEMPTED (AddPartitionsToTxn: the topic is not allowed, or
 *   another partition of the same request failed);
 * - GROUP_AUTHORIZATION_FAILED, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID (AddOffsetsToTxn,
 *   TxnOffsetCommit, FindCoordinator for a group: the consumer's offsets cannot be committed with this transaction).
 * Every other non-retriable coordinator answer is fatal there, INVALID_TXN_STATE, INVALID_PRODUCER_EPOCH,
 * TRANSACTION_COORDINATOR_FENCED and INVALID_TRANSACTION_TIMEOUT included ("Unexpected error" → `fatalError`).
 */
const TXN_COORDINATOR_ABORTABLE: ReadonlySet<number> = new Set([
  ErrorCode.TRANSACTION_ABORTABLE,
  ErrorCode.UNKNOWN_PRODUCER_ID,
  ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  ErrorCode.OPERATION_NOT_ATTEMPTED,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.FENCED_INSTANCE_ID,
]);

/** KIP-1050's refresh-retriable coordinator errors: look the coordinator up again (every `TxnRequestHandler`). */
const TXN_REFRESH_COORDINATOR: ReadonlySet<number> = new Set([
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
]);

/**
 * The KIP-1050 category of a non-zero error code for a transactional producer; throws RangeError for 0 (not an
 * error). Unknown codes are fatal, as the Java client's "Unexpected error" branches are.
 *
 * From a Produce answer (`origin` 'produce'), every code that is neither retriable nor in the five fatal ones is
 * abortable: `TransactionManager.maybeTransitionToErrorState` aborts the transaction for any other failed batch,
 * OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_TXN_STATE (the broker's partition verification,
 * KIP-890 part 1) and INVALID_PRODUCER_EPOCH (KIP-588) included. DUPLICATE_SEQUENCE_NUMBER is not a failure to the
 * Java Sender (the batch was already written) and MESSAGE_TOO_LARGE first splits the batch: those the sink decides
 * before asking here. Retriable codes with `errorInfo(code).refreshMetadata` need a metadata refresh first.
 */
export function transactionErrorCategory(
  code: number,
  origin: TransactionErrorOrigin = 'coordinator',
): TransactionErrorCategory {
  if (code === ErrorCode.NONE) throw new RangeError('error code 0 (NONE) is not an error');
  if (TXN_FATAL_ANYWHERE.has(code)) return 'fatal';
  if (TXN_REFRESH_COORDINATOR.has(code)) return 'refresh-coordinator';
  if (RETRIABLE.has(code)) return 'retriable';
  if (origin === 'produce') return 'abortable';
  return TXN_COORDINATOR_ABORTABLE.has(code) ? 'abortable' : 'fatal';
}
