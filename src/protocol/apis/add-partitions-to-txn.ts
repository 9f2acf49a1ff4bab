/**
 * AddPartitionsToTxn (key 24), versions 0–3: with transaction protocol v1 a producer registers every partition
 * with its transaction coordinator before it writes there. Versions 4+ batch several transactions and are the
 * brokers' own (partition verification, KIP-890): a client never sends them (the Java client's
 * `AddPartitionsToTxnRequest.Builder.forClient` caps at v3). With transaction protocol v2 the client sends no
 * AddPartitionsToTxn at all: Produce v12+ adds the partition (KIP-890 part 2).
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import {
  readTopicPartitionErrorsResponse,
  versionGuard,
  writeTopics,
  writeTransactionalProducer,
  type TopicPartitionErrorsResponse,
  type TransactionalProducer,
} from './fields.js';

const MIN_VERSION = 0;
const MAX_VERSION = 3;
const FLEXIBLE_FROM = 3;

export interface AddPartitionsToTxnTopic {
  readonly name: string;
  readonly partitions: readonly number[];
}

export interface AddPartitionsToTxnRequest extends TransactionalProducer {
  readonly topics: readonly AddPartitionsToTxnTopic[];
}

/** One error code per partition asked for; OPERATION_NOT_ATTEMPTED (55) where another partition failed. */
export type AddPartitionsToTxnResponse = TopicPartitionErrorsResponse;

const checkVersion = versionGuard('AddPartitionsToTxn', MIN_VERSION, MAX_VERSION);

/*
 * AddPartitionsToTxnRequest v0–v2 => transactional_id:string producer_id:int64 producer_epoch:int16
 *                                    topics:[name:string partitions:[int32]]
 * AddPartitionsToTxnRequest v3    => the same in compact form, tagged_fields closing each topic and the request
 */
function encodeRequest(writer: Writer, version: number, request: AddPartitionsToTxnRequest): void {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  writeTransactionalProducer(writer, flexible, request);
  writeTopics(writer, flexible, request.topics, (w, partition) => w.int32(partition));
  if (flexible) writer.taggedFields();
}

/*
 * AddPartitionsToTxnResponse v0–v2 => throttle_time_ms:int32
 *                                     results:[name:string results:[partition_index:int32 error_code:int16]]
 * AddPartitionsToTxnResponse v3    => the same in compact form, tagged_fields closing every struct
 */
function decodeResponse(reader: Reader, version: number): AddPartitionsToTxnResponse {
  checkVersion(version);
  return readTopicPartitionErrorsResponse(reader, version >= FLEXIBLE_FROM, 'AddPartitionsToTxn');
}

export const AddPartitionsToTxn: ApiDefinition<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = {
  key: 24,
  name: 'AddPartitionsToTxn',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 1,
  encodeRequest,
  decodeResponse,
};
