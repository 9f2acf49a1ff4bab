/**
 * KafkaJS's error classes: the same names and the same `retriable` flags, so `catch` blocks that test
 * `error.name`, `error.retriable`, `error.type` or `instanceof` (against these exports) behave as before. Each
 * error built from a ringkafka error keeps it as `cause` (error-mapping.ts). The constructors take what KafkaJS's
 * take: a message, an Error, or an error-like object (code ported from KafkaJS builds protocol errors from
 * `{ message, type, code, retriable }`), then an options object. The classes the facade never throws are in
 * other-errors.ts.
 */

/** An object shaped like an error: what KafkaJS code passes where a message would do. */
export interface KafkaJSErrorLike {
  readonly message?: string;
  readonly type?: string;
  readonly code?: number | string;
  readonly retriable?: boolean;
  readonly helpUrl?: string;
}

/** What every constructor takes first: a message, an Error, or an error-like object. */
export type KafkaJSErrorInput = Error | string | KafkaJSErrorLike;

/** The options every facade error accepts. */
export interface KafkaJSErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

/** `e[key]` when `e` is an object; undefined for a string (or anything else a caller passed). */
export function fieldOf(e: unknown, key: string): unknown {
  return typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[key] : undefined;
}

/** The message `e` carries: itself when a string, else its `message`. */
export function messageOf(e: unknown): string {
  if (typeof e === 'string') return e;
  const message = fieldOf(e, 'message');
  if (typeof message === 'string') return message;
  try {
    return String(e);
  } catch {
    // An object without a prototype has no toString: building the error must not throw instead.
    return Object.prototype.toString.call(e);
  }
}

/** The base of every KafkaJS error; retriable unless told otherwise (not by `e`: KafkaJS reads only the options here). */
export class KafkaJSError extends Error {
  readonly retriable: boolean;
  readonly helpUrl?: string;

  // Each class names itself with a literal, as KafkaJS's do: derived from the constructor, a minified bundle
  // renamed every error ('n', 'c') and checks of `error.name` failed.
  override name = 'KafkaJSError';

  constructor(e: KafkaJSErrorInput, options: KafkaJSErrorOptions = {}) {
    super(messageOf(e), options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? true;
    const helpUrl = fieldOf(e, 'helpUrl');
    if (typeof helpUrl === 'string') this.helpUrl = helpUrl;
  }
}

/** An error retrying cannot fix: bad input, a refused option, a closed producer. */
export class KafkaJSNonRetriableError extends KafkaJSError {
  override name = 'KafkaJSNonRetriableError';

  constructor(e: KafkaJSErrorInput, options: Omit<KafkaJSErrorOptions, 'retriable'> = {}) {
    super(e, { ...options, retriable: false });
  }
}

/**
 * The broker answered with a Kafka error code: `type` is its name (`'UNKNOWN_TOPIC_OR_PARTITION'`), `code` its
 * number. Each of type, code and retriable comes from the options, else from `e` when it is an object carrying it
 * (KafkaJS's form); retriable defaults to true. `type` and `code` are typed as KafkaJS types them, but are
 * undefined when neither gives one, as in KafkaJS.
 */
export class KafkaJSProtocolError extends KafkaJSError {
  override name = 'KafkaJSProtocolError';

  readonly type: string;
  readonly code: number;

  constructor(e: KafkaJSErrorInput, options: KafkaJSErrorOptions & { readonly type?: string; readonly code?: number } = {}) {
    const retriable = options.retriable ?? fieldOf(e, 'retriable');
    super(e, { ...options, ...(typeof retriable === 'boolean' && { retriable }) });
    this.type = (options.type ?? fieldOf(e, 'type')) as string;
    this.code = (options.code ?? fieldOf(e, 'code')) as number;
  }
}

/** Retries (for ringkafka: the delivery timeout) ran out; `cause` is what the last attempt met. */
export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  override name = 'KafkaJSNumberOfRetriesExceeded';

  /** How many retries were made; -1 when ringkafka does not say (it bounds retries by time). */
  readonly retryCount: number;
  /** Milliseconds spent retrying; -1 when unknown. */
  readonly retryTime: number;

  constructor(e: KafkaJSErrorInput, options: { readonly retryCount?: number; readonly retryTime?: number; readonly cause?: unknown } = {}) {
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
  /** The socket's error code (`'ECONNREFUSED'`) when known. */
  readonly code: string | undefined;

  constructor(e: KafkaJSErrorInput, options: KafkaJSErrorOptions & { readonly broker?: string; readonly code?: string } = {}) {
    super(e, options);
    this.broker = options.broker;
    this.code = options.code;
  }
}

/** A request got no answer in time. */
export class KafkaJSRequestTimeoutError extends KafkaJSError {
  override name = 'KafkaJSRequestTimeoutError';

  /** `host:port` when known; the other fields too are KafkaJS's, and undefined unless given. */
  readonly broker: string | undefined;
  readonly correlationId: number | undefined;
  readonly createdAt: number | undefined;
  readonly sentAt: number | undefined;
  readonly pendingDuration: number | undefined;

  constructor(
    e: KafkaJSErrorInput,
    options: KafkaJSErrorOptions & {
      readonly broker?: string; readonly correlationId?: number; readonly createdAt?: number; readonly sentAt?: number; readonly pendingDuration?: number;
    } = {},
  ) {
    super(e, options);
    this.broker = options.broker;
    this.correlationId = options.correlationId;
    this.createdAt = options.createdAt;
    this.sentAt = options.sentAt;
    this.pendingDuration = options.pendingDuration;
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
