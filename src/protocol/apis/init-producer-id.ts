/**
 * InitProducerId (key 22), versions 0–5. With a null transactional id it hands an idempotent producer its
 * producer id and epoch (docs/kafka-protocol.md, "Idempotence").
 */
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import { UnsupportedVersionError } from '../../shared/errors.js';

const MIN_VERSION = 0;
const MAX_VERSION = 5;
const FLEXIBLE_FROM = 2;

export interface InitProducerIdRequest {
  /** null (the default) for an idempotent, non-transactional producer. */
  readonly transactionalId?: string | null;
  /** Ignored by the broker when transactionalId is null, but always sent. */
  readonly transactionTimeoutMs: number;
  /** v3+: the current producer id when asking for an epoch bump; -1 (the default) for a new one. */
  readonly producerId?: bigint;
  /** v3+: the current epoch with `producerId`; -1 (the default) for a new one. */
  readonly producerEpoch?: number;
}

export interface InitProducerIdResponse {
  readonly throttleTimeMs: number;
  readonly errorCode: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

function checkVersion(version: number): void {
  if (!(version >= MIN_VERSION && version <= MAX_VERSION)) {
    throw new UnsupportedVersionError(`InitProducerId v${version} is not supported (ringkafka speaks v0–v5)`);
  }
}

/*
 * InitProducerIdRequest v0–v1 => transactional_id:nullable_string transaction_timeout_ms:int32
 * InitProducerIdRequest v2+   => transactional_id:compact_nullable_string transaction_timeout_ms:int32
 *                                producer_id:int64 (v3+) producer_epoch:int16 (v3+) tagged_fields
 */
function encodeRequest(writer: Writer, version: number, request: InitProducerIdRequest): void {
  checkVersion(version);
  const flexible = version >= FLEXIBLE_FROM;
  const transactionalId = request.transactionalId ?? null;
  if (flexible) writer.compactString(transactionalId);
  else writer.string(transactionalId);
  writer.int32(request.transactionTimeoutMs);
  if (version >= 3) writer.int64(request.producerId ?? -1n).int16(request.producerEpoch ?? -1);
  if (flexible) writer.taggedFields();
}

/*
 * InitProducerIdResponse v0+ => throttle_time_ms:int32 error_code:int16 producer_id:int64 producer_epoch:int16
 *                               tagged_fields (v2+)
 */
function decodeResponse(reader: Reader, version: number): InitProducerIdResponse {
  checkVersion(version);
  const throttleTimeMs = reader.int32();
  const errorCode = reader.int16();
  const producerId = reader.int64();
  const producerEpoch = reader.int16();
  if (version >= FLEXIBLE_FROM) reader.taggedFields();
  return { throttleTimeMs, errorCode, producerId, producerEpoch };
}

export const InitProducerId: ApiDefinition<InitProducerIdRequest, InitProducerIdResponse> = {
  key: 22,
  name: 'InitProducerId',
  minVersion: MIN_VERSION,
  maxVersion: MAX_VERSION,
  flexibleFrom: FLEXIBLE_FROM,
  clientThrottlesFrom: 1,
  encodeRequest,
  decodeResponse,
};
