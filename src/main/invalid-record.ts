/**
 * The error of a record that cannot be sent as it is (serialize.ts checks every field), and what is said of a record
 * whose fields cannot even be read.
 */
import { KafkaProducerError, type KafkaProducerErrorOptions } from '../shared/errors.js';

/** A record the caller gave us that cannot be sent as it is; the message names the field and what was expected. */
export class InvalidRecordError extends KafkaProducerError {
  constructor(message: string, options: KafkaProducerErrorOptions = {}) {
    super('ERR_INVALID_RECORD', message, options);
  }
}

/**
 * The record's fields could not be read (a getter, a Proxy's trap threw): an InvalidRecordError naming the first field
 * that throws. The caller's own error, passed on, had no `code` or `delivery` and named no field.
 */
export function unreadableRecord(record: object, error: unknown): InvalidRecordError {
  for (const field of ['topic', 'key', 'value', 'headers', 'partition', 'timestamp']) {
    try {
      void (record as Record<string, unknown>)[field];
    } catch (thrown) {
      return new InvalidRecordError(`record.${field} could not be read: ${errorText(thrown)}`, { cause: thrown });
    }
  }
  return new InvalidRecordError(`the record's fields could not be read: ${errorText(error)}`, { cause: error });
}

/** As unreadableRecord, for a header (its object's getter, or a Proxy's trap, threw). */
export function unreadableHeaders(error: unknown): InvalidRecordError {
  return new InvalidRecordError(`record.headers could not be read: ${errorText(error)}`, { cause: error });
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
