/**
 * ListOffsets (key 2), versions 1–7, for the bench's count at the broker (topics.ts): the producer has no use for
 * it, so src/protocol/apis has no module for it, and this one lives beside the bench that asks. It is written as
 * the modules there are (ApiDefinition, the shared field helpers), and asks only what the bench needs: a list of
 * partitions and a timestamp each (-1: the latest offset, the high watermark under read_uncommitted). v0 (several
 * offsets per partition) is left out, as Kafka 4 removed it (KIP-896); v8+ add only special timestamps and a
 * timeout for tiered storage.
 */
import type { ApiDefinition } from '../../src/protocol/api.js';
import type { Reader } from '../../src/protocol/reader.js';
import type { Writer } from '../../src/protocol/writer.js';
import { readArray, readString, versionGuard, writeTopics } from '../../src/protocol/apis/fields.js';

const MIN_VERSION = 1;
const MAX_VERSION = 7;
const FLEXIBLE_FROM = 6;
/** Where isolation_level and throttle_time_ms begin. */
const ISOLATION_FROM = 2;
/** Where current_leader_epoch (request) and leader_epoch (response) begin. */
const LEADER_EPOCH_FROM = 4;

/** The timestamp that asks for the latest offset: the next offset to be written, the high watermark. */
export const LATEST_TIMESTAMP = -1n;

export interface ListOffsetsPartition {
  readonly partitionIndex: number;
  readonly timestamp: bigint;
}

export interface ListOffsetsRequest {
  /** 0: read_uncommitted (the high watermark for the latest offset); 1: read_committed (the last stable offset). */
  readonly isolationLevel: 0 | 1;
  readonly topics: readonly { readonly name: string; readonly partitions: readonly ListOffsetsPartition[] }[];
}

export interface ListedOffset {
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly timestamp: bigint;
  readonly offset: bigint;
  /** v4+; -1 before. */
  readonly leaderEpoch: number;
}

export interface ListOffsetsResponse {
  /** v2+; 0 before. */
  readonly throttleTimeMs: number;
  readonly topics: readonly { readonly name: string; readonly partitions: readonly ListedOffset[] }[];
}

const checkVersion = versionGuard('ListOffsets', MIN_VERSION, MAX_VERSION);

/*
 * ListOffsetsRequest v1–v5 => replica_id:int32 isolation_level:int8 (v2+)
 *                             topics:[name:string partitions:[partition_index:int32 current_leader_epoch:int32 (v4+)
 *                               timestamp:int64]]
 * ListOffsetsRequest v6–v7 => the same in compact form, tagged_fields closing every struct
 */
function encodeRequest(writer: Writer, version: number, request: ListOffsetsRequest): void {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  writer.int32(-1); // replica_id: a client, not a follower
  if (version >= ISOLATION_FROM) writer.int8(request.isolationLevel);
  writeTopics(writer, flexible, request.topics, (w, partition) => {
    w.int32(partition.partitionIndex);
    if (version >= LEADER_EPOCH_FROM) w.int32(-1); // current_leader_epoch: unknown, no fencing
    w.int64(partition.timestamp);
    if (flexible) w.taggedFields();
  });
  if (flexible) writer.taggedFields();
}

/*
 * ListOffsetsResponse v1–v5 => throttle_time_ms:int32 (v2+)
 *                              topics:[name:string partitions:[partition_index:int32 error_code:int16 timestamp:int64
 *                                offset:int64 leader_epoch:int32 (v4+)]]
 * ListOffsetsResponse v6–v7 => the same in compact form, tagged_fields closing every struct
 */
function decodeResponse(reader: Reader, version: number): ListOffsetsResponse {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  const throttleTimeMs = version >= ISOLATION_FROM ? reader.int32() : 0;
  const readPartition = (r: Reader): ListedOffset => {
    const partitionIndex = r.int32();
    const errorCode = r.int16();
    const timestamp = r.int64();
    const offset = r.int64();
    const leaderEpoch = version >= LEADER_EPOCH_FROM ? r.int32() : -1;
    if (flexible) r.taggedFields();
    return { partitionIndex, errorCode, timestamp, offset, leaderEpoch };
  };
  const minPartition = 22 + (version >= LEADER_EPOCH_FROM ? 4 : 0) + (flexible ? 1 : 0);
  const readTopic = (r: Reader): ListOffsetsResponse['topics'][number] => {
    const name = readString(r, flexible, 'ListOffsets response topic name');
    const partitions = readArray(r, flexible, readPartition, minPartition, 'ListOffsets response partitions');
    if (flexible) r.taggedFields();
    return { name, partitions };
  };
  const topics = readArray(reader, flexible, readTopic, flexible ? 3 : 6, 'ListOffsets response topics');
  if (flexible) reader.taggedFields();
  return { throttleTimeMs, topics };
}

export const ListOffsets: ApiDefinition<ListOffsetsRequest, ListOffsetsResponse> = {
  key: 2,
  name: 'ListOffsets',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  encodeRequest,
  decodeResponse,
};
