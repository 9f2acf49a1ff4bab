/**
 * DeleteTopics (key 20), versions 1–6: for tests and tooling. Kafka 4 removed v0 (KIP-896).
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../shared/errors.js';

const MIN_VERSION = 1;
const MAX_VERSION = 6;
const FLEXIBLE_FROM = 4;
/** From v6 topics are entries {name, topic_id} instead of bare names. */
const TOPIC_STATE_FROM = 6;
const ZERO_UUID = new Uint8Array(16);

export interface DeleteTopicState {
  /** The topic name; null (v6 only) to delete by `topicId` alone. */
  readonly name: string | null;
  /** v6: 16 bytes; the zero UUID (the default) to delete by name. */
  readonly topicId?: Uint8Array;
}

export interface DeleteTopicsRequest {
  readonly topics: readonly DeleteTopicState[];
  readonly timeoutMs: number;
}

export interface DeletableTopicResult {
  /** Null only from v6, for a topic deleted by id. */
  readonly name: string | null;
  /** v6+ (a 16-byte copy); null before. */
  readonly topicId: Uint8Array | null;
  readonly errorCode: number;
  /** v5+; null before. */
  readonly errorMessage: string | null;
}

export interface DeleteTopicsResponse {
  readonly throttleTimeMs: number;
  readonly responses: readonly DeletableTopicResult[];
}

function checkVersion(version: number): void {
  if (!(version >= MIN_VERSION && version <= MAX_VERSION)) {
    throw new UnsupportedVersionError(`DeleteTopics v${version} is not supported (ringkafka speaks v1–v6)`);
  }
}

function topicName(topic: DeleteTopicState, version: number): string {
  if (topic.name === null) throw new TypeError(`DeleteTopics v${version} needs topic names (ids need v6)`);
  return topic.name;
}

/*
 * DeleteTopicsRequest v1–v3 => topic_names:[string] timeout_ms:int32
 * DeleteTopicsRequest v4–v5 => topic_names:compact[compact_string] timeout_ms:int32 tagged_fields
 * DeleteTopicsRequest v6    => topics:compact[name:compact_nullable_string topic_id:uuid tagged_fields]
 *                              timeout_ms:int32 tagged_fields
 */
function encodeRequest(writer: Writer, version: number, request: DeleteTopicsRequest): void {
  checkVersion(version);
  if (version >= TOPIC_STATE_FROM) {
    writer.compactArray(request.topics, (w, topic) => {
      w.compactString(topic.name).uuid(topic.topicId ?? ZERO_UUID).taggedFields();
    });
  } else if (version >= FLEXIBLE_FROM) {
    writer.compactArray(request.topics, (w, topic) => w.compactString(topicName(topic, version)));
  } else {
    writer.array(request.topics, (w, topic) => w.string(topicName(topic, version)));
  }
  writer.int32(request.timeoutMs);
  if (version >= FLEXIBLE_FROM) writer.taggedFields();
}

/*
 * DeleteTopicsResponse v1–v3 => throttle_time_ms:int32 responses:[name:string error_code:int16]
 * DeleteTopicsResponse v4+   => throttle_time_ms:int32
 *                               responses:compact[name:compact_string (nullable v6+) topic_id:uuid (v6+)
 *                                 error_code:int16 error_message:compact_nullable_string (v5+) tagged_fields]
 *                               tagged_fields
 */
function decodeResponse(reader: Reader, version: number): DeleteTopicsResponse {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  const throttleTimeMs = reader.int32();
  const minItem = flexible ? 4 + (version >= 5 ? 1 : 0) + (version >= 6 ? 16 : 0) : 4;
  const responses = flexible
    ? reader.compactArray((r) => readResultFlexible(r, version), minItem)
    : reader.array(readResultClassic, minItem);
  if (responses === null) throw new ProtocolError('DeleteTopics response has a null responses array');
  if (flexible) reader.taggedFields();
  return { throttleTimeMs, responses };
}

function readResultClassic(reader: Reader): DeletableTopicResult {
  const name = reader.string();
  if (name === null) throw new ProtocolError('DeleteTopics response has a null topic name');
  const errorCode = reader.int16();
  return { name, topicId: null, errorCode, errorMessage: null };
}

function readResultFlexible(reader: Reader, version: number): DeletableTopicResult {
  const name = reader.compactString();
  if (name === null && version < 6) throw new ProtocolError('DeleteTopics response has a null topic name');
  const topicId = version >= 6 ? new Uint8Array(reader.uuid()) : null;
  const errorCode = reader.int16();
  const errorMessage = version >= 5 ? reader.compactString() : null;
  reader.taggedFields();
  return { name, topicId, errorCode, errorMessage };
}

export const DeleteTopics: ApiDefinition<DeleteTopicsRequest, DeleteTopicsResponse> = {
  key: 20,
  name: 'DeleteTopics',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 2,
  encodeRequest,
  decodeResponse,
};
