/**
 * CreateTopics (key 19), versions 2–7: used by tests, tooling and an optional "create missing topics" path, not by
 * the produce path. Kafka 4 removed v0–1 (KIP-896).
 */
import type { ApiDefinition } from '../api.js';
import { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../shared/errors.js';

const MIN_VERSION = 2;
const MAX_VERSION = 7;
const FLEXIBLE_FROM = 5;

export interface CreatableReplicaAssignment {
  readonly partitionIndex: number;
  readonly brokerIds: readonly number[];
}

export interface CreatableTopicConfig {
  readonly name: string;
  readonly value: string | null;
}

export interface CreatableTopic {
  readonly name: string;
  /** -1 for the broker default (v4+), or when `assignments` are given. */
  readonly numPartitions: number;
  /** -1 for the broker default (v4+), or when `assignments` are given. */
  readonly replicationFactor: number;
  /** Manual replica assignment; empty (the default) to let the broker choose. */
  readonly assignments?: readonly CreatableReplicaAssignment[];
  /** Topic configs such as `cleanup.policy`; empty by default. */
  readonly configs?: readonly CreatableTopicConfig[];
}

export interface CreateTopicsRequest {
  readonly topics: readonly CreatableTopic[];
  readonly timeoutMs: number;
  /** Check the request without creating anything. */
  readonly validateOnly: boolean;
}

export interface CreatableTopicConfigResult {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly configSource: number;
  readonly isSensitive: boolean;
}

export interface CreatableTopicResult {
  readonly name: string;
  /** v7+ (a 16-byte copy); null before. */
  readonly topicId: Uint8Array | null;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** v5+ tagged field 0: why the configs could not be returned; 0 when absent. */
  readonly topicConfigErrorCode: number;
  /** v5+; -1 before. */
  readonly numPartitions: number;
  /** v5+; -1 before. */
  readonly replicationFactor: number;
  /** v5+ (null before, and null when the broker sends none). */
  readonly configs: readonly CreatableTopicConfigResult[] | null;
}

export interface CreateTopicsResponse {
  readonly throttleTimeMs: number;
  readonly topics: readonly CreatableTopicResult[];
}

function checkVersion(version: number): void {
  if (!(version >= MIN_VERSION && version <= MAX_VERSION)) {
    throw new UnsupportedVersionError(`CreateTopics v${version} is not supported (ringkafka speaks v2–v7)`);
  }
}

/*
 * CreateTopicsRequest v2–v4 => topics:[name:string num_partitions:int32 replication_factor:int16
 *                                assignments:[partition_index:int32 broker_ids:[int32]]
 *                                configs:[name:string value:nullable_string]]
 *                              timeout_ms:int32 validate_only:bool
 * CreateTopicsRequest v5–v7 => the same in compact form, tagged_fields closing every struct
 */
function encodeRequest(writer: Writer, version: number, request: CreateTopicsRequest): void {
  checkVersion(version);
  if (version >= FLEXIBLE_FROM) {
    writer.compactArray(request.topics, (w, topic) => {
      w.compactString(topic.name).int32(topic.numPartitions).int16(topic.replicationFactor);
      w.compactArray(topic.assignments ?? [], (wa, a) => {
        wa.int32(a.partitionIndex).compactArray(a.brokerIds, (wb, id) => wb.int32(id)).taggedFields();
      });
      w.compactArray(topic.configs ?? [], (wc, c) => wc.compactString(c.name).compactString(c.value).taggedFields());
      w.taggedFields();
    });
    writer.int32(request.timeoutMs).bool(request.validateOnly).taggedFields();
    return;
  }
  writer.array(request.topics, (w, topic) => {
    w.string(topic.name).int32(topic.numPartitions).int16(topic.replicationFactor);
    w.array(topic.assignments ?? [], (wa, a) => wa.int32(a.partitionIndex).array(a.brokerIds, (wb, id) => wb.int32(id)));
    w.array(topic.configs ?? [], (wc, c) => wc.string(c.name).string(c.value));
  });
  writer.int32(request.timeoutMs).bool(request.validateOnly);
}

/*
 * CreateTopicsResponse v2–v4 => throttle_time_ms:int32
 *                               topics:[name:string error_code:int16 error_message:nullable_string]
 * CreateTopicsResponse v5–v7 => throttle_time_ms:int32
 *                               topics:compact[name:compact_string topic_id:uuid (v7+) error_code:int16
 *                                 error_message:compact_nullable_string num_partitions:int32
 *                                 replication_factor:int16
 *                                 configs:compact_nullable[name:compact_string value:compact_nullable_string
 *                                   read_only:bool config_source:int8 is_sensitive:bool tagged_fields]
 *                                 tagged_fields (tag 0: topic_config_error_code:int16)]
 *                               tagged_fields
 */
function decodeResponse(reader: Reader, version: number): CreateTopicsResponse {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  const throttleTimeMs = reader.int32();
  const topics = flexible
    ? reader.compactArray((r) => readTopicFlexible(r, version), version >= 7 ? 28 : 12)
    : reader.array(readTopicClassic, 6);
  if (topics === null) throw new ProtocolError('CreateTopics response has a null topics array');
  if (flexible) reader.taggedFields();
  return { throttleTimeMs, topics };
}

function readTopicClassic(reader: Reader): CreatableTopicResult {
  const name = reader.string();
  if (name === null) throw new ProtocolError('CreateTopics response has a null topic name');
  const errorCode = reader.int16();
  const errorMessage = reader.string();
  return {
    name,
    topicId: null,
    errorCode,
    errorMessage,
    topicConfigErrorCode: 0,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  };
}

function readTopicFlexible(reader: Reader, version: number): CreatableTopicResult {
  const name = reader.compactString();
  if (name === null) throw new ProtocolError('CreateTopics response has a null topic name');
  const topicId = version >= 7 ? new Uint8Array(reader.uuid()) : null;
  const errorCode = reader.int16();
  const errorMessage = reader.compactString();
  const numPartitions = reader.int32();
  const replicationFactor = reader.int16();
  const configs = reader.compactArray(readConfig, 6);
  const configError = reader.taggedFields(0).get(0);
  const topicConfigErrorCode = configError === undefined ? 0 : new Reader(configError).int16();
  return { name, topicId, errorCode, errorMessage, topicConfigErrorCode, numPartitions, replicationFactor, configs };
}

function readConfig(reader: Reader): CreatableTopicConfigResult {
  const name = reader.compactString();
  if (name === null) throw new ProtocolError('CreateTopics response has a null config name');
  const value = reader.compactString();
  const readOnly = reader.bool();
  const configSource = reader.int8();
  const isSensitive = reader.bool();
  reader.taggedFields();
  return { name, value, readOnly, configSource, isSensitive };
}

export const CreateTopics: ApiDefinition<CreateTopicsRequest, CreateTopicsResponse> = {
  key: 19,
  name: 'CreateTopics',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 3,
  encodeRequest,
  decodeResponse,
};
