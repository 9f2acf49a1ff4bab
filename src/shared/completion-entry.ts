/**
 * What a worker reports to the main thread through its completion ring: one entry per batch (not per record),
 * carrying the ids of the records it settles.
 *
 *   Completion => kind:u8 flags:u8 topicIndex:u16 partition:i32 errorCode:i32 recordCount:u32
 *                 baseOffset:f64 timestamp:f64 logStartOffset:f64 messageLength:u32 recordId:u32{recordCount}
 *                 message:utf8
 *
 * kind: delivered (offsets base..base+n-1; timestamp is the broker's append time for the batch, or -1 for each
 * record's own; logStartOffset is the partition's log start offset in the broker's answer, -1 where it sent none),
 * failed (errorCode is a Kafka error code, or one of ClientErrorCode below, message says more), dropped (records
 * cancelled on the main thread before sealing: their ids come back so the main thread may reuse them). flags: bit 0
 * (MAY_BE_WRITTEN) on a failure with a Kafka error code, when an attempt of the batch may have been written (an earlier
 * one went unanswered, or this one was answered with a code that comes after the append): the record's delivery is
 * then 'unknown', not 'not-sent'.
 *
 * The per-batch fields live in the entry's fixed part, not beside each record id: one entry settles a whole batch.
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
  /**
   * The same, for a batch an earlier attempt of which went unanswered (ambiguous): the broker may have written it.
   * Reported as `authentication` it told its callers 'not-sent', and one that sent again could write it twice.
   */
  authenticationAfterLoss: -1009,
  /** Past its delivery deadline, an ambiguous batch of a topic deleted since: the broker may have written it. */
  expiredAfterLoss: -1010,
  /**
   * The broker refused the batch for other records in it, which it named (KIP-467, src/workers/record-errors.ts):
   * this one was not written and was not found invalid.
   */
  rejectedWithBatch: -1011,
} as const;

/** Bit 0 of a completion's flags: see the file comment. */
const MAY_BE_WRITTEN = 1;

export interface Completion {
  readonly kind: CompletionKindValue;
  /** A failure's batch may have been written by an attempt (flags' MAY_BE_WRITTEN); false when left out. */
  readonly mayBeWritten?: boolean;
  readonly topicIndex: number;
  readonly partition: number;
  readonly errorCode: number;
  readonly baseOffset: number;
  readonly timestamp: number;
  readonly logStartOffset: number;
  readonly message: string;
  readonly recordIds: Uint32Array;
}

/** Byte offsets of a completion entry's fields from the entry's start; the message follows the record ids. */
const CompletionOffset = {
  kind: 0,
  flags: 1,
  topicIndex: 2,
  partition: 4,
  errorCode: 8,
  recordCount: 12,
  baseOffset: 16,
  timestamp: 24,
  logStartOffset: 32,
  messageLength: 40,
  recordIds: 44,
} as const;

/** Fixed part of a completion entry: everything before the record ids. */
const HEADER_BYTES = CompletionOffset.recordIds;
/** Each record id is a u32. */
const RECORD_ID_BYTES = 4;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function completionSize(recordCount: number, messageBytes: Uint8Array | null): number {
  return HEADER_BYTES + RECORD_ID_BYTES * recordCount + (messageBytes?.length ?? 0);
}

/**
 * The most UTF-16 code units of a message an entry carries (at most 12 KiB of UTF-8), the rest cut and counted.
 * A message may quote the broker (its error_message, a compact string bounded only by the 100 MiB frame), and an
 * entry must fit in half the completion ring with up to 65,536 record ids (256 KiB): one broker answer with a
 * message of half a mebibyte threw where the worker published the outcome, so its batch was never reported (the
 * records' bytes never returned to the budget, their callers told 'unknown' at their delivery timeout), or the
 * worker died.
 */
export const MAX_MESSAGE_UNITS = 4_096;

export function encodeMessage(message: string): Uint8Array | null {
  if (message === '') return null;
  return textEncoder.encode(message.length > MAX_MESSAGE_UNITS ? shortened(message) : message);
}

/** The first MAX_MESSAGE_UNITS units of `message` (never half a surrogate pair), and how many more there were. */
function shortened(message: string): string {
  const last = message.charCodeAt(MAX_MESSAGE_UNITS - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? MAX_MESSAGE_UNITS - 1 : MAX_MESSAGE_UNITS;
  return `${message.slice(0, end)}… (${message.length - end} more characters)`;
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
  view.setUint8(CompletionOffset.kind, head.kind);
  view.setUint8(CompletionOffset.flags, head.mayBeWritten === true ? MAY_BE_WRITTEN : 0);
  view.setUint16(CompletionOffset.topicIndex, head.topicIndex, true);
  view.setInt32(CompletionOffset.partition, head.partition, true);
  view.setInt32(CompletionOffset.errorCode, head.errorCode, true);
  view.setUint32(CompletionOffset.recordCount, recordCount, true);
  view.setFloat64(CompletionOffset.baseOffset, head.baseOffset, true);
  view.setFloat64(CompletionOffset.timestamp, head.timestamp, true);
  view.setFloat64(CompletionOffset.logStartOffset, head.logStartOffset, true);
  view.setUint32(CompletionOffset.messageLength, messageBytes?.length ?? 0, true);
  let at = CompletionOffset.recordIds;
  for (let i = 0; i < recordCount; i++, at += RECORD_ID_BYTES) view.setUint32(at, recordIds[i]!, true);
  if (messageBytes !== null) bytes.set(messageBytes, offset + at);
}

export function readCompletion(bytes: Uint8Array, offset: number): Completion {
  const recordCount = readU32(bytes, offset + CompletionOffset.recordCount);
  const messageLength = readU32(bytes, offset + CompletionOffset.messageLength);
  const idsStart = offset + CompletionOffset.recordIds;
  const recordIds = new Uint32Array(recordCount);
  for (let i = 0; i < recordCount; i++) recordIds[i] = readU32(bytes, idsStart + RECORD_ID_BYTES * i);
  const messageStart = idsStart + RECORD_ID_BYTES * recordCount;
  return {
    kind: bytes[offset + CompletionOffset.kind] as CompletionKindValue,
    mayBeWritten: (bytes[offset + CompletionOffset.flags]! & MAY_BE_WRITTEN) !== 0,
    topicIndex: readU16(bytes, offset + CompletionOffset.topicIndex),
    partition: readI32(bytes, offset + CompletionOffset.partition),
    errorCode: readI32(bytes, offset + CompletionOffset.errorCode),
    baseOffset: readF64(bytes, offset + CompletionOffset.baseOffset),
    timestamp: readF64(bytes, offset + CompletionOffset.timestamp),
    logStartOffset: readF64(bytes, offset + CompletionOffset.logStartOffset),
    message: messageLength === 0 ? '' : textDecoder.decode(bytes.subarray(messageStart, messageStart + messageLength)),
    recordIds,
  };
}
