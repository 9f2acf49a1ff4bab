/**
 * Metadata (key 3), versions 1–13. v0 is left out: there an empty topic list means "all topics", from v1 it
 * means "none" and null means "all", and one meaning is enough.
 *
 * Topics are always requested by name (v10+ sends the zero UUID as id: brokers resolve ids only from v12, and a
 * producer knows names). Authorized operations are never requested.
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { BrokerError, ProtocolError, UnsupportedVersionError } from '../../shared/errors.js';
import { ErrorCode, brokerError } from '../error-codes.js';
import { readArray, readNullableString, readString } from './fields.js';

const MIN_VERSION = 1;
const MAX_VERSION = 13;
const FLEXIBLE_FROM = 9;
const ZERO_UUID = new Uint8Array(16);
/** What brokers send in topic/cluster_authorized_operations when they were not requested. */
const AUTHORIZED_OPERATIONS_UNSET = -2147483648;

export interface MetadataRequest {
  /** Topic names, or null for every topic in the cluster. */
  readonly topics: readonly string[] | null;
  /** v4+: let the broker create unknown topics (if its `auto.create.topics.enable` allows it). */
  readonly allowAutoTopicCreation: boolean;
}

export interface MetadataBroker {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface MetadataPartition {
  readonly errorCode: number;
  readonly partitionIndex: number;
  /** -1 when the partition has no leader. */
  readonly leaderId: number;
  /** v7+; -1 before. */
  readonly leaderEpoch: number;
  readonly replicaNodes: readonly number[];
  readonly isrNodes: readonly number[];
  /** v5+; empty before. */
  readonly offlineReplicas: readonly number[];
}

export interface MetadataTopic {
  readonly errorCode: number;
  /** Null only from v12 (a topic asked for by an id the broker does not know). */
  readonly name: string | null;
  /** v10+: a 16-byte copy (all zeros when the broker has none); null before v10. */
  readonly topicId: Uint8Array | null;
  readonly isInternal: boolean;
  readonly partitions: readonly MetadataPartition[];
  /** v8+; -2147483648 when not requested (ringkafka never requests it). */
  readonly topicAuthorizedOperations: number;
}

export interface MetadataResponse {
  /** v3+; 0 before. */
  readonly throttleTimeMs: number;
  readonly brokers: readonly MetadataBroker[];
  /** v2+; null before. */
  readonly clusterId: string | null;
  /** -1 when unknown. */
  readonly controllerId: number;
  readonly topics: readonly MetadataTopic[];
  /** v8–v10 only; -2147483648 otherwise. */
  readonly clusterAuthorizedOperations: number;
  /** v13+ top-level error (e.g. REBOOTSTRAP_REQUIRED, KIP-1102); 0 before. */
  readonly errorCode: number;
}

function checkVersion(version: number): void {
  if (!(version >= MIN_VERSION && version <= MAX_VERSION)) {
    throw new UnsupportedVersionError(`Metadata v${version} is not supported (ringkafka speaks v1–v13)`);
  }
}

/*
 * MetadataRequest v1–v8 => topics:nullable[name:string] allow_auto_topic_creation:bool (v4+)
 *                          include_cluster_authorized_operations:bool (v8) include_topic_authorized_operations:bool (v8)
 * MetadataRequest v9+   => topics:compact_nullable[topic_id:uuid (v10+) name:compact_string (nullable v10+)
 *                            tagged_fields]
 *                          allow_auto_topic_creation:bool include_cluster_authorized_operations:bool (v9–v10)
 *                          include_topic_authorized_operations:bool tagged_fields
 */
function encodeRequest(writer: Writer, version: number, request: MetadataRequest): void {
  checkVersion(version);
  const topics = request.topics;
  if (version < FLEXIBLE_FROM) {
    writer.array(topics, (w, name) => w.string(name));
  } else {
    writer.compactArray(topics, (w, name) => {
      if (version >= 10) w.uuid(ZERO_UUID);
      w.compactString(name).taggedFields();
    });
  }
  if (version >= 4) writer.bool(request.allowAutoTopicCreation);
  if (version >= 8) {
    if (version <= 10) writer.bool(false); // include_cluster_authorized_operations
    writer.bool(false); // include_topic_authorized_operations
  }
  if (version >= FLEXIBLE_FROM) writer.taggedFields();
}

/*
 * MetadataResponse v1–v8 => throttle_time_ms:int32 (v3+)
 *                           brokers:[node_id:int32 host:string port:int32 rack:nullable_string]
 *                           cluster_id:nullable_string (v2+) controller_id:int32
 *                           topics:[error_code:int16 name:string is_internal:bool
 *                             partitions:[error_code:int16 partition_index:int32 leader_id:int32
 *                               leader_epoch:int32 (v7+) replica_nodes:[int32] isr_nodes:[int32]
 *                               offline_replicas:[int32] (v5+)]
 *                             topic_authorized_operations:int32 (v8+)]
 *                           cluster_authorized_operations:int32 (v8+)
 * MetadataResponse v9+   => the same in compact form, tagged_fields closing every struct; v10+ adds
 *                           topic_id:uuid after each topic name; v11 drops cluster_authorized_operations;
 *                           v12 makes topic names nullable; v13 appends error_code:int16 after topics
 */
function decodeResponse(reader: Reader, version: number): MetadataResponse {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  const throttleTimeMs = version >= 3 ? reader.int32() : 0;
  const brokers = readArray(
    reader,
    flexible,
    (r) => readBroker(r, flexible),
    flexible ? 11 : 12,
    'Metadata response brokers',
    MAX_BROKERS_PER_ANSWER,
  );
  const clusterId = version >= 2 ? readNullableString(reader, flexible) : null;
  const controllerId = reader.int32();
  const minTopic = flexible ? 10 + (version >= 10 ? 16 : 0) : 9 + (version >= 8 ? 4 : 0);
  const budget = { partitions: MAX_PARTITIONS_PER_ANSWER };
  const topics = readArray(
    reader,
    flexible,
    (r) => readTopic(r, version, flexible, budget),
    minTopic,
    'Metadata response topics',
    MAX_TOPICS_PER_ANSWER,
  );
  const clusterAuthorizedOperations = version >= 8 && version <= 10 ? reader.int32() : AUTHORIZED_OPERATIONS_UNSET;
  const errorCode = version >= 13 ? reader.int16() : 0;
  if (flexible) reader.taggedFields();
  return { throttleTimeMs, brokers, clusterId, controllerId, topics, clusterAuthorizedOperations, errorCode };
}

function readBroker(reader: Reader, flexible: boolean): MetadataBroker {
  const nodeId = reader.int32();
  const host = readString(reader, flexible, 'Metadata response broker host');
  const port = reader.int32();
  const rack = readNullableString(reader, flexible);
  if (flexible) reader.taggedFields();
  return { nodeId, host, port, rack };
}

function readTopic(reader: Reader, version: number, flexible: boolean, budget: { partitions: number }): MetadataTopic {
  const errorCode = reader.int16();
  const name = version >= 12 ? readNullableString(reader, flexible) : readString(reader, flexible, 'Metadata response topic name');
  const topicId = version >= 10 ? new Uint8Array(reader.uuid()) : null;
  const isInternal = reader.bool();
  const minPartition = 10 + (version >= 7 ? 4 : 0) + (flexible ? 3 : 8) + (version >= 5 ? (flexible ? 1 : 4) : 0);
  const readCounted = (r: Reader): MetadataPartition => {
    if (--budget.partitions < 0) throw new ProtocolError(`a Metadata answer lists more than ${MAX_PARTITIONS_PER_ANSWER} partitions`);
    return readPartition(r, version, flexible);
  };
  const partitions = readArray(reader, flexible, readCounted, minPartition, 'Metadata response partitions');
  const topicAuthorizedOperations = version >= 8 ? reader.int32() : AUTHORIZED_OPERATIONS_UNSET;
  if (flexible) reader.taggedFields();
  return { errorCode, name, topicId, isInternal, partitions, topicAuthorizedOperations };
}

function readPartition(reader: Reader, version: number, flexible: boolean): MetadataPartition {
  const errorCode = reader.int16();
  const partitionIndex = reader.int32();
  const leaderId = reader.int32();
  const leaderEpoch = version >= 7 ? reader.int32() : -1;
  const replicaNodes = readInt32Array(reader, flexible, 'replica_nodes');
  const isrNodes = readInt32Array(reader, flexible, 'isr_nodes');
  const offlineReplicas = version >= 5 ? readInt32Array(reader, flexible, 'offline_replicas') : [];
  if (flexible) reader.taggedFields();
  return { errorCode, partitionIndex, leaderId, leaderEpoch, replicaNodes, isrNodes, offlineReplicas };
}

function readInt32(reader: Reader): number {
  return reader.int32();
}

function readInt32Array(reader: Reader, flexible: boolean, what: string): number[] {
  return readArray(reader, flexible, readInt32, 4, `Metadata response ${what}`);
}

/**
 * More partitions than any one topic has in practice (Kafka's own guidance stops well short of this). A count
 * beyond it, though it fits in the frame, is treated as corrupt rather than sized into memory.
 */
export const MAX_PARTITIONS_PER_TOPIC = 1 << 20;

/**
 * The same bound for a whole answer, checked as it is decoded: each partition becomes an object and three arrays,
 * about eleven times its bytes on the wire, so a 100 MiB frame of several topics, each under the per-topic limit,
 * grew the heap by over a gigabyte before partitionLeaders looked (and ended a process run with a smaller heap).
 * A producer asks for the topics it writes to, far fewer partitions than this.
 */
export const MAX_PARTITIONS_PER_ANSWER = MAX_PARTITIONS_PER_TOPIC;

/**
 * Brokers in one answer, far beyond any cluster. A broker is an object of four fields from 11 bytes on the wire:
 * a 100 MiB frame of them grew the heap by about six times its size before checkAnswer could look.
 */
export const MAX_BROKERS_PER_ANSWER = 1 << 16;

/**
 * Topics in one answer. ringkafka asks by name for at most the 65,535 topics its registry holds, and a broker
 * answers for those alone; each topic is an object and (v10+) a copied 16-byte id, several times its bytes.
 */
export const MAX_TOPICS_PER_ANSWER = 1 << 16;

/**
 * The leader of every partition of `topic`, by partition index (-1 when it has none), after checking what the
 * decoder cannot: that the indexes are exactly 0..n-1, each once (a broker lists every partition of a topic it
 * knows), that n is sane, and that leader ids are -1 or a node id. A client sizes arrays by these numbers, so a
 * flipped byte (partition_index 922746883) must be a ProtocolError here, not a 900-million-slot array.
 */
export function partitionLeaders(topic: MetadataTopic): number[] {
  const partitions = topic.partitions;
  const count = partitions.length;
  const what = `Metadata for topic ${JSON.stringify(topic.name)}`;
  if (count > MAX_PARTITIONS_PER_TOPIC) {
    throw new ProtocolError(`${what} lists ${count} partitions, over the limit of ${MAX_PARTITIONS_PER_TOPIC}`);
  }
  const leaders = new Array<number>(count).fill(-2);
  for (const { partitionIndex, leaderId } of partitions) {
    if (!Number.isInteger(partitionIndex) || partitionIndex < 0 || partitionIndex >= count) {
      throw new ProtocolError(`${what}: partition_index ${partitionIndex} is outside 0..${count - 1}`);
    }
    if (leaders[partitionIndex] !== -2) throw new ProtocolError(`${what}: partition_index ${partitionIndex} is listed twice`);
    if (leaderId < -1) throw new ProtocolError(`${what}: partition ${partitionIndex} has leader_id ${leaderId}`);
    leaders[partitionIndex] = leaderId;
  }
  return leaders;
}

/**
 * partitionLeaders, with a leader the answer's broker list does not name taken as none (-1), as Java's client does
 * (MetadataResponse.partitionMetaLeader): no connection to it can be made. Taken as a leader, the partition stayed
 * available to the sticky partitioner, and half the keyless records of a two-partition topic waited for a broker
 * nobody could reach, each refresh rebuilding the same view, until their delivery timeout.
 */
export function reachableLeaders(topic: MetadataTopic, brokers: readonly MetadataBroker[]): number[] {
  const leaders = partitionLeaders(topic);
  for (let p = 0; p < leaders.length; p++) {
    const leader = leaders[p]!;
    if (leader >= 0 && !brokers.some((broker) => broker.nodeId === leader)) leaders[p] = -1;
  }
  return leaders;
}

/** The partitions that have a leader (reachableLeaders), in order. */
export function withLeader(leaders: readonly number[]): number[] {
  const available: number[] = [];
  for (let p = 0; p < leaders.length; p++) if (leaders[p]! >= 0) available.push(p);
  return available;
}

/** Whether two Metadata answers name one topic by the same id (false when either has none: answers before v10, or zero). */
export function sameTopic(a: Uint8Array | null, b: Uint8Array | null | undefined): boolean {
  // An all-zero id is none: clusters whose metadata predates topic ids answer it for every topic.
  return a !== null && b !== null && b !== undefined && a.some((byte) => byte !== 0) && Buffer.compare(a, b) === 0;
}

/**
 * Throws unless the answer may be applied: no top-level error, at least one broker, and every broker possible.
 * - A top-level error (v13+) comes instead of a cluster view: REBOOTSTRAP_REQUIRED (KIP-1102) asks the client to
 *   start again from its bootstrap addresses. Its empty lists, applied, made a worker forget every broker.
 * - A broker that is still starting may answer with no brokers at all; Java's client ignores such an answer and
 *   asks again later, as a failed refresh here does.
 */
export function checkAnswer(response: MetadataResponse): void {
  if (response.errorCode !== 0) throw brokerError(response.errorCode, 'a top-level error: nothing in the Metadata answer is applied');
  if (response.brokers.length === 0) throw new ProtocolError('Metadata lists no brokers');
  checkBrokers(response.brokers);
}

/** True when the error asks the client to reconnect from its bootstrap addresses (KIP-1102). */
export function isRebootstrap(error: unknown): boolean {
  return error instanceof BrokerError && error.errorCode === ErrorCode.REBOOTSTRAP_REQUIRED;
}

/** Checks the broker list the same way: node ids are not negative and ports are TCP ports. */
export function checkBrokers(brokers: readonly MetadataBroker[]): void {
  for (const { nodeId, host, port } of brokers) {
    if (nodeId < 0 || host.length === 0 || !(port > 0 && port <= 65_535)) {
      throw new ProtocolError(`Metadata lists an impossible broker: node ${nodeId} at ${JSON.stringify(host)}:${port}`);
    }
  }
}

export const Metadata: ApiDefinition<MetadataRequest, MetadataResponse> = {
  key: 3,
  name: 'Metadata',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 6,
  encodeRequest,
  decodeResponse,
};
