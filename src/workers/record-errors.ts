/**
 * KIP-467: a broker that refuses a batch for some of its records (INVALID_RECORD: a keyless record for a compacted
 * topic; INVALID_TIMESTAMP: a timestamp out of the topic's range) names them in the answer's record_errors, by index
 * in the batch, each with its own message. The broker writes none of the batch either way, but only the named
 * records are at fault: the others may be sent again as they are. Failed all alike, every record of the batch got
 * the broker's error, and a caller could not tell the bad record from its batch-mates, nor which ones to resend.
 *
 * This turns one refused batch into its groups of records that share an outcome. Worker thread only; no I/O.
 */
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import type { ProduceRecordError } from '../protocol/apis/produce.js';
import { ClientErrorCode } from '../shared/completion-entry.js';

/** Records of one batch that fail alike: their ids, the code, and the message. */
export interface FailureGroup {
  readonly errorCode: number;
  readonly message: string;
  readonly recordIds: Uint32Array;
}

/**
 * The groups a batch of `recordIds` (in batch order: the broker's batch_index) fails in, for an answer with code
 * `errorCode`, partition-level `errorMessage` and `recordErrors`; undefined when the answer names none of its records
 * (no record errors, or only indexes out of the batch: the batch then fails as a whole, as before KIP-467).
 *
 * Named records fail with the answer's code when it names one record. When it names several, with INVALID_RECORD
 * and each its own message: the broker sends one code for the whole partition, INVALID_TIMESTAMP as soon as one
 * record has a bad timestamp, though the others may have been refused for something else (the Java client reads it
 * the same way). A record's message is its own, else the partition's. Records sharing a message share a group, so a
 * batch of 10,000 keyless records to a compacted topic makes one group, not 10,000. The other records fail with
 * `ClientErrorCode.rejectedWithBatch`, whose message names the first refused record's reason. An index named twice
 * counts once (its first message); an index outside the batch is ignored.
 */
export function recordFailures(
  recordIds: Uint32Array,
  errorCode: number,
  errorMessage: string | null,
  recordErrors: readonly ProduceRecordError[],
): FailureGroup[] | undefined {
  const count = recordIds.length;
  const messageOf = new Map<number, string>();
  for (const { batchIndex, message } of recordErrors) {
    if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= count || messageOf.has(batchIndex)) continue;
    messageOf.set(batchIndex, message ?? errorMessage ?? '');
  }
  if (messageOf.size === 0) return undefined;
  const code = messageOf.size === 1 ? errorCode : ErrorCode.INVALID_RECORD;
  const named = new Map<string, number[]>();
  const others: number[] = [];
  for (let i = 0; i < count; i++) {
    const message = messageOf.get(i);
    if (message === undefined) others.push(recordIds[i]!);
    else {
      const ids = named.get(message);
      if (ids === undefined) named.set(message, [recordIds[i]!]);
      else ids.push(recordIds[i]!);
    }
  }
  const groups: FailureGroup[] = [];
  for (const [message, ids] of named) groups.push({ errorCode: code, message, recordIds: Uint32Array.from(ids) });
  if (others.length > 0) {
    const [firstMessage] = named.keys();
    const reason = `${errorInfo(code).name}${firstMessage ? `: ${firstMessage}` : ''}`;
    const refused = messageOf.size === 1 ? 'another record of it was' : `${messageOf.size} other records of it were`;
    groups.push({
      errorCode: ClientErrorCode.rejectedWithBatch,
      message: `the broker refused the record's batch because ${refused} invalid (${reason}); this record was not found invalid`,
      recordIds: Uint32Array.from(others),
    });
  }
  return groups;
}
