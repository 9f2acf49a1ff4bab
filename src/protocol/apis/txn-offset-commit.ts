/**
 * TxnOffsetCommit (key 28), versions 0–5: commits consumer offsets as part of the producer's transaction, sent to
 * the group coordinator. v3 adds the consumer's group metadata (generation, member id, group instance id) so the
 * coordinator can fence zombie consumers (KIP-447). v5 changes nothing on the wire: it tells the coordinator the
 * client uses transaction protocol v2 and sent no AddOffsetsToTxn (KIP-890 part 2), so a client on transaction
 * protocol v1 must stay at v4 (the Java client's `TxnOffsetCommitRequest.Builder` caps it there).
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { UnsupportedVersionError } from '../../shared/errors.js';
import {
  readTopicPartitionErrorsResponse,
  versionGuard,
  writeString,
  writeTopics,
  type TopicPartitionErrorsResponse,
  type TransactionalProducer,
} from './fields.js';

const MIN_VERSION = 0;
const MAX_VERSION = 5;
const FLEXIBLE_FROM = 3;
const LEADER_EPOCH_FROM = 2;
const GROUP_METADATA_FROM = 3;

export interface TxnOffsetCommitPartition {
  readonly partition: number;
  /** The next offset to consume (the last processed one + 1). */
  readonly offset: bigint;
  /** v2+: the leader epoch of the last consumed record; -1 (the default) when unknown. */
  readonly leaderEpoch?: number;
  /** Default '' (the Java client's OffsetAndMetadata default); null is sent as null. */
  readonly metadata?: string | null;
}

export interface TxnOffsetCommitTopic {
  readonly name: string;
  readonly partitions: readonly TxnOffsetCommitPartition[];
}

export interface TxnOffsetCommitRequest extends TransactionalProducer {
  readonly groupId: string;
  /** v3+: the consumer's generation; -1 (the default) when the consumer's group metadata is not known. */
  readonly generationId?: number;
  /** v3+: default ''. */
  readonly memberId?: string;
  /** v3+: default null (no static membership). */
  readonly groupInstanceId?: string | null;
  readonly topics: readonly TxnOffsetCommitTopic[];
}

/** One error code per partition committed. */
export type TxnOffsetCommitResponse = TopicPartitionErrorsResponse;

const checkVersion = versionGuard('TxnOffsetCommit', MIN_VERSION, MAX_VERSION);

/*
 * TxnOffsetCommitRequest v0–v2 => transactional_id:string group_id:string producer_id:int64 producer_epoch:int16
 *                                 topics:[name:string partitions:[partition_index:int32 committed_offset:int64
 *                                   committed_leader_epoch:int32 (v2+) committed_metadata:nullable_string]]
 * TxnOffsetCommitRequest v3+   => transactional_id group_id producer_id producer_epoch generation_id:int32
 *                                 member_id:compact_string group_instance_id:compact_nullable_string
 *                                 topics in compact form, tagged_fields closing every struct
 */
function encodeRequest(writer: Writer, version: number, request: TxnOffsetCommitRequest): void {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  const generationId = request.generationId ?? -1;
  const memberId = request.memberId ?? '';
  const groupInstanceId = request.groupInstanceId ?? null;
  if (version < GROUP_METADATA_FROM && (generationId !== -1 || memberId !== '' || groupInstanceId !== null)) {
    // Dropping the group metadata would lose zombie fencing silently; the Java client refuses the same way.
    throw new UnsupportedVersionError(`TxnOffsetCommit v${version} cannot carry consumer group metadata (v3+)`);
  }
  writeString(writer, flexible, request.transactionalId);
  writeString(writer, flexible, request.groupId);
  writer.int64(request.producerId).int16(request.producerEpoch);
  if (version >= GROUP_METADATA_FROM) {
    writer.int32(generationId);
    writeString(writer, flexible, memberId);
    writeString(writer, flexible, groupInstanceId);
  }
  writeTopics(writer, flexible, request.topics, (w, partition: TxnOffsetCommitPartition) => {
    w.int32(partition.partition).int64(partition.offset);
    if (version >= LEADER_EPOCH_FROM) w.int32(partition.leaderEpoch ?? -1);
    writeString(w, flexible, partition.metadata === undefined ? '' : partition.metadata);
    if (flexible) w.taggedFields();
  });
  if (flexible) writer.taggedFields();
}

/*
 * TxnOffsetCommitResponse v0–v2 => throttle_time_ms:int32
 *                                  topics:[name:string partitions:[partition_index:int32 error_code:int16]]
 * TxnOffsetCommitResponse v3+   => the same in compact form, tagged_fields closing every struct
 */
function decodeResponse(reader: Reader, version: number): TxnOffsetCommitResponse {
  checkVersion(version);
  return readTopicPartitionErrorsResponse(reader, version >= FLEXIBLE_FROM, 'TxnOffsetCommit');
}

export const TxnOffsetCommit: ApiDefinition<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = {
  key: 28,
  name: 'TxnOffsetCommit',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 1,
  encodeRequest,
  decodeResponse,
};
