/**
 * Which timestamp a delivered batch reports for its records. log_append_time_ms is the broker's append time only on
 * a LogAppendTime topic, and only in a first answer: a deduplicated retry is answered with the batch's stored max
 * timestamp, which on a CreateTime topic is one record's CreateTime, not anybody's append time. So a first, plain
 * success teaches the topic's type (log_append_time_ms -1 means CreateTime); until one has, a retried or duplicate
 * answer whose time equals the batch's own max timestamp is taken as CreateTime.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { BatchOffset } from '../protocol/record-batch.js';
import type { Batch } from './batch.js';

export class AppendTimes {
  /** Topic → whether it uses LogAppendTime, learnt from the first plain (not retried) success. */
  readonly #logAppendTime = new Map<string, boolean>();

  /** The timestamp for every record of the batch, or -1 for "each record's own" (CreateTime). */
  forDelivered(topic: string, batch: Batch, logAppendTimeMs: number, errorCode: number): number {
    const deduplicated = batch.attempts > 1 || errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER;
    if (!deduplicated) {
      this.#logAppendTime.set(topic, logAppendTimeMs !== -1);
      return logAppendTimeMs;
    }
    const known = this.#logAppendTime.get(topic);
    if (known !== undefined) return known ? logAppendTimeMs : -1;
    const maxTimestamp = Number(batch.bytes!.readBigInt64BE(BatchOffset.maxTimestamp));
    return logAppendTimeMs === maxTimestamp ? -1 : logAppendTimeMs;
  }
}
