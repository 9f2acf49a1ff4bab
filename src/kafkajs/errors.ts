/**
 * KafkaJS's error classes: the same names and the same `retriable` flags, so `catch` blocks that test
 * `error.name`, `error.retriable`, `error.type` or `instanceof` (against these exports) behave as before. Each
 * error built from a ringkafka error keeps it as `cause` (error-mapping.ts).
 */

/** The options every facade error accepts. */
export interface KafkaJSErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

function messageOf(e: Error | string): string {
  return typeof e === 'string' ? e : e.message;
}

/** The base of every KafkaJS error; retriable unless told otherwise. */
export class KafkaJSError extends Error {
  readonly retriable: boolean;
  readonly helpUrl?: string;

  // Each class names itself with a literal, as KafkaJS's do: derived from the constructor, a minified bundle
  // renamed every error ('n', 'c') and checks of `error.name` failed.
  override name = 'KafkaJSError';

  constructor(e: Error | string, options: KafkaJSErrorOptions = {}) {
    super(messageOf(e), options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? true;
  }
}

/** An error retrying cannot fix: bad input, a refused option, a closed producer. */
export class KafkaJSNonRetriableError extends KafkaJSError {
  override name = 'KafkaJSNonRetriableError';

  constructor(e: Error | string, options: Omit<KafkaJSErrorOptions, 'retriable'> = {}) {
    super(e, { ...options, retriable: false });
  }
}

/** The broker answered with a Kafka error code: `type` is its name (`'UNKNOWN_TOPIC_OR_PARTITION'`), `code` its number. */
export class KafkaJSProtocolError extends KafkaJSError {
  override name = 'KafkaJSProtocolError';

  readonly type: string;
  readonly code: number;

  constructor(e: Error | string, options: KafkaJSErrorOptions & { readonly type: string; readonly code: number }) {
    super(e, options);
    this.type = options.type;
    this.code = options.code;
  }
}

/** Retries (for ringkafka: the delivery timeout) ran out; `cause` is what the last attempt met. */
export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  override name = 'KafkaJSNumberOfRetriesExceeded';

  /** How many retries were made; -1 when ringkafka does not say (it bounds retries by time). */
  readonly retryCount: number;
  /** Milliseconds spent retrying; -1 when unknown. */
  readonly retryTime: number;

  constructor(e: Error | string, options: { readonly retryCount?: number; readonly retryTime?: number; readonly cause?: unknown } = {}) {
    super(e, { cause: options.cause ?? (typeof e === 'string' ? undefined : e) });
    this.retryCount = options.retryCount ?? -1;
    this.retryTime = options.retryTime ?? -1;
  }
}

/** A connection to a broker failed or closed. */
export class KafkaJSConnectionError extends KafkaJSError {
  override name = 'KafkaJSConnectionError';

  /** `host:port` when known. */
  readonly broker: string | undefined;

  constructor(e: Error | string, options: KafkaJSErrorOptions & { readonly broker?: string } = {}) {
    super(e, options);
    this.broker = options.broker;
  }
}

/** A request got no answer in time. */
export class KafkaJSRequestTimeoutError extends KafkaJSError {
  override name = 'KafkaJSRequestTimeoutError';

  /** `host:port` when known. */
  readonly broker: string | undefined;

  constructor(e: Error | string, options: KafkaJSErrorOptions & { readonly broker?: string } = {}) {
    super(e, options);
    this.broker = options.broker;
  }
}

/** An operation did not finish in time (for ringkafka: no buffer space within `bufferTimeoutMs`). Not retriable, as in KafkaJS. */
export class KafkaJSTimeout extends KafkaJSNonRetriableError {
  override name = 'KafkaJSTimeout';
}

/** SASL or TLS authentication failed. */
export class KafkaJSSASLAuthenticationError extends KafkaJSNonRetriableError {
  override name = 'KafkaJSSASLAuthenticationError';
}

/** Several errors at once; `errors` holds each. Not a KafkaJSError, as in KafkaJS. */
export class KafkaJSAggregateError extends Error {
  readonly errors: ReadonlyArray<Error | string>;

  constructor(message: Error | string, errors: ReadonlyArray<Error | string>) {
    super(messageOf(message));
    this.errors = errors;
  }

  override name = 'KafkaJSAggregateError';
}
