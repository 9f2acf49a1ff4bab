/**
 * EndTxn (key 26), versions 0–5: commits or aborts the producer's transaction at its coordinator.
 *
 * v5 is transaction protocol v2 (KIP-890 part 2): the coordinator bumps the epoch at the end of every transaction
 * and answers with the producer id and epoch to use next (a new producer id when the epoch ran out). The broker
 * tells the protocols apart by this version alone (`TransactionVersion.transactionVersionForEndTxn`: v5+ is v2), so a
 * client on transaction protocol v1 must stay at v4 (the Java client's `EndTxnRequest.Builder` caps it there).
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { versionGuard, writeTransactionalProducer, type TransactionalProducer } from './fields.js';

const MIN_VERSION = 0;
const MAX_VERSION = 5;
const FLEXIBLE_FROM = 3;
/** The first version whose response carries the bumped producer id and epoch. */
const NEXT_EPOCH_FROM = 5;

export interface EndTxnRequest extends TransactionalProducer {
  /** true to commit, false to abort. */
  readonly committed: boolean;
}

export interface EndTxnResponse {
  readonly throttleTimeMs: number;
  readonly errorCode: number;
  /** v5+: the producer id for the next transaction; -1 below v5 (and from a broker that leaves it unset). */
  readonly producerId: bigint;
  /** v5+: the epoch for the next transaction; -1 below v5. */
  readonly producerEpoch: number;
}

const checkVersion = versionGuard('EndTxn', MIN_VERSION, MAX_VERSION);

/*
 * EndTxnRequest v0–v2 => transactional_id:string producer_id:int64 producer_epoch:int16 committed:bool
 * EndTxnRequest v3+   => the same with a compact string, tagged_fields
 */
function encodeRequest(writer: Writer, version: number, request: EndTxnRequest): void {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  writeTransactionalProducer(writer, flexible, request);
  writer.bool(request.committed);
  if (flexible) writer.taggedFields();
}

/*
 * EndTxnResponse v0–v4 => throttle_time_ms:int32 error_code:int16 tagged_fields (v3+)
 * EndTxnResponse v5    => throttle_time_ms:int32 error_code:int16 producer_id:int64 producer_epoch:int16 tagged_fields
 */
function decodeResponse(reader: Reader, version: number): EndTxnResponse {
  checkVersion(version);
  const throttleTimeMs = reader.int32();
  const errorCode = reader.int16();
  let producerId = -1n;
  let producerEpoch = -1;
  if (version >= NEXT_EPOCH_FROM) {
    producerId = reader.int64();
    producerEpoch = reader.int16();
  }
  if (version >= FLEXIBLE_FROM) reader.taggedFields();
  return { throttleTimeMs, errorCode, producerId, producerEpoch };
}

export const EndTxn: ApiDefinition<EndTxnRequest, EndTxnResponse> = {
  key: 26,
  name: 'EndTxn',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 1,
  encodeRequest,
  decodeResponse,
};
