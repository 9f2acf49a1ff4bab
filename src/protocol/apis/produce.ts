/**
 * Produce (key 0), versions 3–13. Kafka 4 closes the connection on v0–2, so v3 is the floor (docs/kafka-protocol.md).
 *
 * This is the request encoder of the hot path: it is hand-written as plain loops (no closure per topic or
 * partition) and `produceRequestSize` gives its exact size, so a connection can size its Writer once and each
 * record batch is copied exactly once, from the batch encoder's buffer into the request. A test cross-checks the
 * encoder against a generic, schema-driven decoder.
 */
import type { ApiDefinition } from '../api.js';
import { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { ProtocolError, UnsupportedVersionError } from '../../shared/errors.js';
import { MAX_PARTITIONS_PER_ANSWER, MAX_TOPICS_PER_ANSWER, itemBudget, readArray, type ItemBudget } from './fields.js';

const MIN_VERSION = 3;
const MAX_VERSION = 13;
const FLEXIBLE_FROM = 9;
/** From v13 topics are named by id (KIP-516), in the request and in the response. */
const TOPIC_ID_FROM = 13;

/**
 * Record errors kept from one answer, all its partitions together; the rest are read past, not refused. A broker
 * lists one per record it refused (every keyless record sent to a compacted topic), and a request may carry more
 * records than any cap a hostile count must meet (maxBufferedRecords may be raised to 2^31-1): refused, a true
 * answer failed its batch as corrupt, and the batch was retried for ever against the same answer. Each kept one is
 * an object of about 50 bytes in the heap for 6 on the wire (unbounded, a 100 MiB frame has room for 17 million of
 * them, some 870 MB; kept, at most 3.3 MB). They say which records of a refused batch were at fault (KIP-467,
 * src/workers/record-errors.ts); a partition whose list was cut fails its batch as a whole, since the records past
 * the cut cannot be told from the sound ones.
 */
export const MAX_RECORD_ERRORS_KEPT = 1 << 16;

/**
 * Node endpoints (v10+), as Metadata's MAX_BROKERS_PER_ANSWER: the leaders named in current_leader fields, brokers
 * of one cluster. An endpoint is an object of four fields, about 65 bytes of heap from 11 on the wire.
 */
export const MAX_NODE_ENDPOINTS_PER_ANSWER = 1 << 16;

/** 0: no response at all (the connection must not wait for one); 1: leader only; -1: all in-sync replicas. */
export type Acks = 0 | 1 | -1;

export interface ProducePartitionData {
  readonly index: number;
  /** One already-encoded RecordBatch (exactly one batch per partition per request: a broker rule). */
  readonly records: Uint8Array;
}

export interface ProduceTopicData {
  /** Sent up to v12; kept at v13 for the caller's bookkeeping. */
  readonly name: string;
  /** 16 bytes, from Metadata v10+; required at v13, ignored before. */
  readonly topicId?: Uint8Array;
  readonly partitionData: readonly ProducePartitionData[];
}

export interface ProduceRequest {
  /** null (the default) unless the producer is transactional. */
  readonly transactionalId?: string | null;
  readonly acks: Acks;
  /** How long the broker may wait for the acks, in milliseconds. */
  readonly timeoutMs: number;
  readonly topicData: readonly ProduceTopicData[];
}

export interface ProduceRecordError {
  /** Index of the offending record inside the batch. */
  readonly batchIndex: number;
  readonly message: string | null;
}

export interface LeaderIdAndEpoch {
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

export interface ProducePartitionResponse {
  readonly index: number;
  readonly errorCode: number;
  readonly baseOffset: bigint;
  /** -1 unless the topic uses LogAppendTime. */
  readonly logAppendTimeMs: bigint;
  /** v5+; -1 before. */
  readonly logStartOffset: bigint;
  /** v8+; empty before. Only the first of the answer's are kept (MAX_RECORD_ERRORS_KEPT): see `recordErrorsCut`. */
  readonly recordErrors: readonly ProduceRecordError[];
  /** How many record errors of this partition were read past, not kept: 0 when `recordErrors` is the whole list. */
  readonly recordErrorsCut: number;
  /** v8+; null before. */
  readonly errorMessage: string | null;
  /** v10+ tagged field 0, sent with NOT_LEADER_OR_FOLLOWER (KIP-951); null when absent. */
  readonly currentLeader: LeaderIdAndEpoch | null;
}

export interface ProduceTopicResponse {
  /** The topic name up to v12; null at v13. */
  readonly name: string | null;
  /** The topic id from v13 (a 16-byte copy); null before. */
  readonly topicId: Uint8Array | null;
  readonly partitionResponses: readonly ProducePartitionResponse[];
}

export interface NodeEndpoint {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface ProduceResponse {
  readonly responses: readonly ProduceTopicResponse[];
  /** KIP-219: from v6 the broker answers at once and then mutes the connection for this long. */
  readonly throttleTimeMs: number;
  /** v10+ tagged field 0: endpoints of the leaders named in `currentLeader` fields; empty when absent. */
  readonly nodeEndpoints: readonly NodeEndpoint[];
}

function checkVersion(version: number): void {
  if (!(version >= MIN_VERSION && version <= MAX_VERSION)) {
    throw new UnsupportedVersionError(`Produce v${version} is not supported (ringkafka speaks v3–v13)`);
  }
}

function topicIdOf(topic: ProduceTopicData): Uint8Array {
  const id = topic.topicId;
  if (id === undefined || id.length !== 16) {
    throw new TypeError(`Produce v13 needs a 16-byte topicId for topic ${JSON.stringify(topic.name)}`);
  }
  return id;
}

function uvarintSize(value: number): number {
  let v = value >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

/**
 * Exact size of the request body `encodeRequest` writes, so the caller can allocate once (header size is the
 * connection's business).
 */
export function produceRequestSize(version: number, request: ProduceRequest): number {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  const byId = version >= TOPIC_ID_FROM;
  const transactionalId = request.transactionalId ?? null;
  const topics = request.topicData;
  let size = 2 + 4; // acks, timeout_ms
  if (transactionalId === null) size += flexible ? 1 : 2;
  else {
    const n = Buffer.byteLength(transactionalId, 'utf8');
    size += (flexible ? uvarintSize(n + 1) : 2) + n;
  }
  size += flexible ? uvarintSize(topics.length + 1) + 1 : 4; // topic count (+ the final tag section)
  for (let t = 0; t < topics.length; t++) {
    const topic = topics[t]!;
    if (byId) size += 16;
    else {
      const n = Buffer.byteLength(topic.name, 'utf8');
      size += (flexible ? uvarintSize(n + 1) : 2) + n;
    }
    const partitions = topic.partitionData;
    size += flexible ? uvarintSize(partitions.length + 1) + 1 : 4; // partition count (+ the topic's tag section)
    for (let p = 0; p < partitions.length; p++) {
      const n = partitions[p]!.records.length;
      size += 4 + (flexible ? uvarintSize(n + 1) + 1 : 4) + n; // index, records length (+ tag section), records
    }
  }
  return size;
}

/*
 * ProduceRequest v3–v8  => transactional_id:nullable_string acks:int16 timeout_ms:int32
 *                          topic_data:[name:string partition_data:[index:int32 records:nullable_bytes]]
 * ProduceRequest v9–v12 => transactional_id:compact_nullable_string acks:int16 timeout_ms:int32
 *                          topic_data:compact[name:compact_string
 *                            partition_data:compact[index:int32 records:compact_nullable_bytes tagged_fields]
 *                            tagged_fields]
 *                          tagged_fields
 * ProduceRequest v13    => as v9, with topic_id:uuid in place of name
 */
function encodeRequest(writer: Writer, version: number, request: ProduceRequest): void {
  checkVersion(version);
  const transactionalId = request.transactionalId ?? null;
  const topics = request.topicData;
  if (version < FLEXIBLE_FROM) {
    writer.string(transactionalId).int16(request.acks).int32(request.timeoutMs).int32(topics.length);
    for (let t = 0; t < topics.length; t++) {
      const topic = topics[t]!;
      const partitions = topic.partitionData;
      writer.string(topic.name).int32(partitions.length);
      for (let p = 0; p < partitions.length; p++) {
        const partition = partitions[p]!;
        writer.int32(partition.index).bytes(partition.records);
      }
    }
    return;
  }
  const byId = version >= TOPIC_ID_FROM;
  writer.compactString(transactionalId).int16(request.acks).int32(request.timeoutMs).uvarint(topics.length + 1);
  for (let t = 0; t < topics.length; t++) {
    const topic = topics[t]!;
    const partitions = topic.partitionData;
    if (byId) writer.uuid(topicIdOf(topic));
    else writer.compactString(topic.name);
    writer.uvarint(partitions.length + 1);
    for (let p = 0; p < partitions.length; p++) {
      const partition = partitions[p]!;
      writer.int32(partition.index).compactBytes(partition.records).uvarint(0); // no partition tags
    }
    writer.uvarint(0); // no topic tags
  }
  writer.uvarint(0); // no request tags
}

/*
 * ProduceResponse v3–v8  => responses:[name:string partition_responses:[index:int32 error_code:int16
 *                             base_offset:int64 log_append_time_ms:int64 log_start_offset:int64 (v5+)
 *                             record_errors:[batch_index:int32 batch_index_error_message:nullable_string] (v8+)
 *                             error_message:nullable_string (v8+)]]
 *                           throttle_time_ms:int32
 * ProduceResponse v9–v12 => the same fields in compact form, tagged_fields closing every struct;
 *                           v10+: partition tag 0 current_leader {leader_id:int32 leader_epoch:int32 tagged_fields},
 *                           top-level tag 0 node_endpoints compact[node_id:int32 host:compact_string port:int32
 *                             rack:compact_nullable_string tagged_fields]
 * ProduceResponse v13    => as v10, with topic_id:uuid in place of name
 */
function decodeResponse(reader: Reader, version: number): ProduceResponse {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  // Smallest topic: empty name (or id) + empty partition array (+ tags); smallest partition: index, error, base
  // offset, log append time (+ empty arrays and tags). With the caps below they bound hostile counts.
  const budgets: Budgets = {
    partitions: itemBudget('partitions', MAX_PARTITIONS_PER_ANSWER),
    recordErrorsKept: { left: MAX_RECORD_ERRORS_KEPT },
  };
  const minTopic = flexible ? (version >= TOPIC_ID_FROM ? 18 : 3) : 6;
  const readOne = (r: Reader): ProduceTopicResponse => readTopic(r, version, flexible, budgets);
  const responses = readArray(reader, flexible, readOne, minTopic, 'Produce response topics', MAX_TOPICS_PER_ANSWER);
  const throttleTimeMs = reader.int32();
  let nodeEndpoints: readonly NodeEndpoint[] = [];
  if (flexible) {
    const tags = reader.taggedFields(0);
    const endpoints = version >= 10 ? tags.get(0) : undefined;
    if (endpoints !== undefined) nodeEndpoints = readNodeEndpoints(new Reader(endpoints));
  }
  return { responses, throttleTimeMs, nodeEndpoints };
}

/** What the arrays of one answer may still hold, all its topics and partitions together. */
interface Budgets {
  readonly partitions: ItemBudget;
  /** How many more record errors this answer keeps (MAX_RECORD_ERRORS_KEPT). */
  readonly recordErrorsKept: { left: number };
}

function readTopic(reader: Reader, version: number, flexible: boolean, budgets: Budgets): ProduceTopicResponse {
  let name: string | null = null;
  let topicId: Uint8Array | null = null;
  if (version >= TOPIC_ID_FROM) topicId = new Uint8Array(reader.uuid());
  else {
    name = flexible ? reader.compactString() : reader.string();
    if (name === null) throw new ProtocolError('Produce response has a null topic name');
  }
  const minPartition = 22 + (version >= 5 ? 8 : 0) + (flexible ? 3 : version >= 8 ? 6 : 0);
  const readOne = (r: Reader): ProducePartitionResponse => readPartition(r, version, flexible, budgets.recordErrorsKept);
  const what = 'Produce response partition_responses';
  const partitionResponses = readArray(reader, flexible, readOne, minPartition, what, budgets.partitions);
  if (flexible) reader.taggedFields();
  return { name, topicId, partitionResponses };
}

function readPartition(reader: Reader, version: number, flexible: boolean, kept: { left: number }): ProducePartitionResponse {
  const index = reader.int32();
  const errorCode = reader.int16();
  const baseOffset = reader.int64();
  const logAppendTimeMs = reader.int64();
  const logStartOffset = version >= 5 ? reader.int64() : -1n;
  let recordErrors: readonly ProduceRecordError[] = [];
  let recordErrorsCut = 0;
  let errorMessage: string | null = null;
  if (version >= 8) {
    ({ recordErrors, recordErrorsCut } = readRecordErrors(reader, flexible, kept));
    errorMessage = flexible ? reader.compactString() : reader.string();
  }
  let currentLeader: LeaderIdAndEpoch | null = null;
  if (flexible) {
    const tags = reader.taggedFields(0);
    const leader = version >= 10 ? tags.get(0) : undefined;
    if (leader !== undefined) currentLeader = readLeaderIdAndEpoch(new Reader(leader));
  }
  return { index, errorCode, baseOffset, logAppendTimeMs, logStartOffset, recordErrors, recordErrorsCut, errorMessage, currentLeader };
}

/**
 * A partition's record errors: the first `kept.left` of the answer kept, the others read past and counted in `cut`
 * (MAX_RECORD_ERRORS_KEPT).
 */
function readRecordErrors(reader: Reader, flexible: boolean, kept: { left: number }): { recordErrors: ProduceRecordError[]; recordErrorsCut: number } {
  const what = 'Produce response record_errors';
  const count = flexible ? reader.uvarint() - 1 : reader.int32();
  if (count === -1) throw new ProtocolError(`${what} is null`);
  if (count < 0) throw new ProtocolError(`${what}: negative array length ${count}`);
  // Smallest record error: batch_index and a null message (6 bytes, a tag section in place of one length byte).
  if (count * 6 > reader.remaining) throw new ProtocolError(`${what}: array of ${count} items cannot fit in ${reader.remaining} remaining bytes`);
  const errors: ProduceRecordError[] = [];
  let cut = 0;
  for (let i = 0; i < count; i++) {
    if (kept.left > 0) {
      kept.left--;
      errors.push(flexible ? readRecordErrorFlexible(reader) : readRecordError(reader));
      continue;
    }
    reader.skip(4); // batch_index
    const length = flexible ? reader.uvarint() - 1 : reader.int16();
    if (length > 0) reader.skip(length);
    if (flexible) reader.taggedFields();
    cut++;
  }
  return { recordErrors: errors, recordErrorsCut: cut };
}

function readRecordError(reader: Reader): ProduceRecordError {
  const batchIndex = reader.int32();
  return { batchIndex, message: reader.string() };
}

function readRecordErrorFlexible(reader: Reader): ProduceRecordError {
  const batchIndex = reader.int32();
  const message = reader.compactString();
  reader.taggedFields();
  return { batchIndex, message };
}

function readLeaderIdAndEpoch(reader: Reader): LeaderIdAndEpoch {
  const leaderId = reader.int32();
  const leaderEpoch = reader.int32();
  reader.taggedFields();
  return { leaderId, leaderEpoch };
}

function readNodeEndpoints(reader: Reader): NodeEndpoint[] {
  return readArray(reader, true, readNodeEndpoint, 11, 'Produce response node_endpoints', MAX_NODE_ENDPOINTS_PER_ANSWER);
}

function readNodeEndpoint(reader: Reader): NodeEndpoint {
  const nodeId = reader.int32();
  const host = reader.compactString();
  if (host === null) throw new ProtocolError('Produce response has a null node endpoint host');
  const port = reader.int32();
  const rack = reader.compactString();
  reader.taggedFields();
  return { nodeId, host, port, rack };
}

export const Produce: ApiDefinition<ProduceRequest, ProduceResponse> = {
  key: 0,
  name: 'Produce',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 6,
  encodeRequest,
  decodeResponse,
};
