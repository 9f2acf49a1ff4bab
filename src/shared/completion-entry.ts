/**
 * What a worker reports to the main thread through its completion ring: one entry per batch (not per record),
 * carrying the ids of the records it settles.
 *
 *   Completion => kind:u8 pad:u8 topicIndex:u16 partition:i32 errorCode:i32 recordCount:u32
 *                 baseOffset:f64 timestamp:f64 messageLength:u32 recordId:u32{recordCount} message:utf8
 *
 * kind: delivered (offsets base..base+n-1), failed (errorCode is a Kafka error code, or one of ClientErrorCode
 * below, message says more), dropped (records cancelled on the main thread before sealing: their ids come back so
 * the main thread may reuse them).
 */
import { readF64, readI32, readU16, readU32 } from './record-entry.js';

export const CompletionKind = { delivered: 1, failed: 2, dropped: 3 } as const;
export type CompletionKindValue = (typeof CompletionKind)[keyof typeof CompletionKind];

/** Failures that are not Kafka error codes (those are ≥ -1). */
export const ClientErrorCode = {
  deliveryTimeout: -1001,
  protocol: -1003,
  unknownTopic: -1004,
  closed: -1005,
  /** The producer closed while a request with the batch had no answer: the broker may have written it. */
  closedInFlight: -1007,
  /** The worker's connection failed SASL or TLS authentication; the batch was not sent. */
  authentication: -1008,
} as const;

export interface Completion {
  readonly kind: CompletionKindValue;
  readonly topicIndex: number;
  readonly partition: number;
  readonly errorCode: number;
  readonly baseOffset: number;
  readonly timestamp: number;
  readonly message: string;
  readonly recordIds: Uint32Array;
}

const HEADER_BYTES = 36;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function completionSize(recordCount: number, messageBytes: Uint8Array | null): number {
  return HEADER_BYTES + 4 * recordCount + (messageBytes?.length ?? 0);
}

export function encodeMessage(message: string): Uint8Array | null {
  return message === '' ? null : textEncoder.encode(message);
}

export function writeCompletion(
  bytes: Uint8Array,
  offset: number,
  head: Omit<Completion, 'recordIds' | 'message'>,
  recordIds: ArrayLike<number>,
  recordCount: number,
  messageBytes: Uint8Array | null,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
  view.setUint8(0, head.kind);
  view.setUint8(1, 0);
  view.setUint16(2, head.topicIndex, true);
  view.setInt32(4, head.partition, true);
  view.setInt32(8, head.errorCode, true);
  view.setUint32(12, recordCount, true);
  view.setFloat64(16, head.baseOffset, true);
  view.setFloat64(24, head.timestamp, true);
  view.setUint32(32, messageBytes?.length ?? 0, true);
  let at = HEADER_BYTES;
  for (let i = 0; i < recordCount; i++, at += 4) view.setUint32(at, recordIds[i]!, true);
  if (messageBytes !== null) bytes.set(messageBytes, offset + at);
}

export function readCompletion(bytes: Uint8Array, offset: number): Completion {
  const recordCount = readU32(bytes, offset + 12);
  const messageLength = readU32(bytes, offset + 32);
  const idsStart = offset + HEADER_BYTES;
  const recordIds = new Uint32Array(recordCount);
  for (let i = 0; i < recordCount; i++) recordIds[i] = readU32(bytes, idsStart + 4 * i);
  const messageStart = idsStart + 4 * recordCount;
  return {
    kind: bytes[offset] as CompletionKindValue,
    topicIndex: readU16(bytes, offset + 2),
    partition: readI32(bytes, offset + 4),
    errorCode: readI32(bytes, offset + 8),
    baseOffset: readF64(bytes, offset + 16),
    timestamp: readF64(bytes, offset + 24),
    message: messageLength === 0 ? '' : textDecoder.decode(bytes.subarray(messageStart, messageStart + messageLength)),
    recordIds,
  };
}
