/**
 * AddOffsetsToTxn (key 25), versions 0–4: with transaction protocol v1 a producer adds a consumer group's offsets
 * partition to its transaction before TxnOffsetCommit. With transaction protocol v2 the Java client skips it
 * (`TransactionManager.sendOffsetsToTransaction` goes straight to TxnOffsetCommit v5, KIP-890 part 2).
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { versionGuard, writeString, writeTransactionalProducer, type TransactionalProducer } from './fields.js';

const MIN_VERSION = 0;
const MAX_VERSION = 4;
const FLEXIBLE_FROM = 3;

export interface AddOffsetsToTxnRequest extends TransactionalProducer {
  readonly groupId: string;
}

export interface AddOffsetsToTxnResponse {
  readonly throttleTimeMs: number;
  readonly errorCode: number;
}

const checkVersion = versionGuard('AddOffsetsToTxn', MIN_VERSION, MAX_VERSION);

/*
 * AddOffsetsToTxnRequest v0–v2 => transactional_id:string producer_id:int64 producer_epoch:int16 group_id:string
 * AddOffsetsToTxnRequest v3+   => the same with compact strings, tagged_fields
 */
function encodeRequest(writer: Writer, version: number, request: AddOffsetsToTxnRequest): void {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  writeTransactionalProducer(writer, flexible, request);
  writeString(writer, flexible, request.groupId);
  if (flexible) writer.taggedFields();
}

/* AddOffsetsToTxnResponse v0+ => throttle_time_ms:int32 error_code:int16 tagged_fields (v3+) */
function decodeResponse(reader: Reader, version: number): AddOffsetsToTxnResponse {
  checkVersion(version);
  const throttleTimeMs = reader.int32();
  const errorCode = reader.int16();
  if (version >= FLEXIBLE_FROM) reader.taggedFields();
  return { throttleTimeMs, errorCode };
}

export const AddOffsetsToTxn: ApiDefinition<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = {
  key: 25,
  name: 'AddOffsetsToTxn',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 1,
  encodeRequest,
  decodeResponse,
};
