/**
 * The producer's options, validated once at construction (docs/style.md): every default is written beside its option,
 * every rejection is a ConfigError naming the field and what was expected. Where Java has the same setting, the
 * meaning and the cross-field rules are Java's (named on each field), so users moving from the Java client keep
 * their intuitions.
 */
import { availableParallelism } from 'node:os';
import type tls from 'node:tls';
import { CODEC_NAMES, type CodecName } from '../shared/codecs.js';
import { ConfigError } from '../shared/errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import { resolveSasl, resolveTls, type SaslOptions, type TlsOptions } from './security-options.js';
import { describeUnknown } from './option-names.js';
import type { PartitionerFunction } from './partitioner-function.js';

export type { PartitionerFunction, PartitionerRecord } from './partitioner-function.js';

/** Turns any value into the bytes (or a string, sent as UTF-8) that go on the wire. */
export type SerializerFunction = (value: unknown) => Uint8Array | string;

export type Serializer = 'msgpack' | 'json' | SerializerFunction;
export type Compression = CodecName;
export type Acks = 0 | 1 | -1 | 'all';

export interface ProducerOptions {
  /**
   * Bootstrap brokers, `'host:port'` each (IPv6 as `'[::1]:9092'`), as an array or one comma-separated string (whose
   * empty entries are skipped). Default: the `KAFKA_BROKERS` environment variable, else `'127.0.0.1:9092'`.
   */
  readonly brokers?: string | readonly string[] | undefined;
  /**
   * Client id sent in every request header (quotas and broker logs use it): 1 to 32,767 letters, digits, `.`, `_` or
   * `-` (what a broker's quota configuration and metric names take). Default `'ringkafka'`.
   */
  readonly clientId?: string | undefined;
  /** Worker threads that encode, compress and send, 1 to 256. Default `min(4, max(1, availableParallelism() - 1))`. */
  readonly workers?: number | undefined;
  /**
   * Acknowledgements the leader waits for before answering: `0` none (no response at all), `1` the leader's
   * own write, `'all'` (or `-1`) every in-sync replica. Default `'all'`.
   */
  readonly acks?: Acks | undefined;
  /**
   * Idempotent delivery: retries never duplicate or reorder a partition's records. Default `true`. Needs
   * `acks: 'all'` and `maxInFlight <= 5`; as in Java (since 3.2), when left unset it turns itself off if those are
   * set otherwise, and when set to `true` it makes them an error.
   */
  readonly idempotent?: boolean | undefined;
  /**
   * Makes the producer transactional (Java `transactional.id`): records are sent inside transactions that commit or
   * abort as a whole (`transaction()`, docs/transactions.md). The same id in a new producer fences this one.
   * Implies idempotence, so it needs `acks: 'all'` and `maxInFlight <= 5`. Default none (`null` is none too, as in
   * Java; every other option refuses `null`).
   */
  readonly transactionalId?: string | null | undefined;
  /**
   * How long the transaction coordinator lets a transaction stay open before it aborts it (Java
   * `transaction.timeout.ms`); at most the broker's `transaction.max.timeout.ms` (15 minutes by default). Default
   * `60000`.
   */
  readonly transactionTimeoutMs?: number | undefined;
  /** Codec applied to each batch. Default `'none'`. */
  readonly compression?: Compression | undefined;
  /**
   * How long a partition's batch may wait to fill before it is sent (Java `linger.ms`). Default `5` ms. A batch
   * may leave sooner: with a batch of another partition on the same broker whose linger is over, as in Java.
   */
  readonly lingerMs?: number | undefined;
  /**
   * Uncompressed bytes per partition batch (Java `batch.size`); also how many bytes the sticky partitioner
   * sends to one partition before switching (KIP-794). From 1024 to `maxRequestBytes`. Default 1 MiB, or
   * `maxRequestBytes` if that is smaller.
   */
  readonly batchMaxBytes?: number | undefined;
  /**
   * Bytes of records accepted but not yet acknowledged or failed (Java `buffer.memory`); `send` waits beyond it.
   * Default 64 MiB. Below 2^31, because the counter lives in an Int32 SharedArrayBuffer slot.
   */
  readonly maxBufferedBytes?: number | undefined;
  /** Records accepted but not yet acknowledged or failed; `send` waits beyond it. Default `1_000_000`. */
  readonly maxBufferedRecords?: number | undefined;
  /**
   * How long `send` may wait before its record is accepted (Java `max.block.ms`): for the connection or buffer
   * space (then BufferTimeoutError), or for its topic's metadata (then UnknownTopicError, naming the last reason
   * seen). Each waiting send fails at its own deadline. Default `60_000` ms.
   */
  readonly bufferTimeoutMs?: number | undefined;
  /**
   * Upper bound from a record's acceptance to its result, retries included (Java `delivery.timeout.ms`, which
   * likewise starts when `send()` returns, after at most `max.block.ms`). Acceptance is when the record has its
   * topic's metadata and buffer space, at most `bufferTimeoutMs` after the call; so a send settles at most
   * `bufferTimeoutMs + deliveryTimeoutMs` after it was called. Default `120_000` ms, or `lingerMs + requestTimeoutMs`
   * when that is more. Must be at least `lingerMs + requestTimeoutMs`, as in Java.
   */
  readonly deliveryTimeoutMs?: number | undefined;
  /**
   * How long a request may wait for its answer; also sent to the broker as the Produce timeout
   * (Java `request.timeout.ms`). Default `30_000` ms.
   */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * Requests in flight per broker connection (Java `max.in.flight.requests.per.connection`), 1 to 1000 (at most 5
   * with idempotence: the broker's window of duplicates). Default `5`.
   */
  readonly maxInFlight?: number | undefined;
  /**
   * Where a record without an explicit partition goes. `'default'`: murmur2 of the key, Java-compatible, or the
   * uniform sticky partitioner (KIP-794) for keyless records. A function decides for every record without an
   * explicit partition; it must not send (a send, sendBatch or trySend it makes fails with a `ConfigError`).
   * Default `'default'`.
   */
  readonly partitioner?: 'default' | PartitionerFunction | undefined;
  /**
   * Turns `value` into bytes: `'msgpack'` (standard MessagePack maps, readable by any decoder), `'json'`, or a
   * function. A null or undefined value stays a null value (a tombstone) whatever the serializer. Default: none,
   * `value` must then be a Buffer, Uint8Array, string or null.
   */
  readonly serializer?: Serializer | undefined;
  /**
   * Largest request sent to a broker (Java `max.request.size`): a record bigger than this in a batch of its own
   * (its bytes, 61 of batch header, at most 36 of framing and 10 per header) fails at once with RecordTooLargeError,
   * and a Produce request gathers at most this many bytes of batches (one batch always goes).
   * Default: records up to 1 MiB (1_048_576), and requests, when this is not set, up to 16 MiB of batches, well under
   * a broker's default `socket.request.max.bytes` (100 MiB). Set it when a broker takes less; 1024 at the least.
   */
  readonly maxRequestBytes?: number | undefined;
  /** First wait before a retry (Java `retry.backoff.ms`); doubles per attempt. Default `100` ms. */
  readonly retryBackoffMs?: number | undefined;
  /**
   * Ceiling of the retry wait (Java `retry.backoff.max.ms`). Default `1000` ms. As in Java, a `retryBackoffMs`
   * above it means a constant wait of `retryBackoffMaxMs`.
   */
  readonly retryBackoffMaxMs?: number | undefined;
  /**
   * First wait before connecting again to a broker that could not be reached (Java `reconnect.backoff.ms`); doubles
   * per failure in a row, ±20 % jitter. Default `50` ms. Apart from retryBackoffMs, so that a retryBackoffMs of `0`
   * does not open a connection as fast as each one fails while a broker is down. */
  readonly reconnectBackoffMs?: number | undefined;
  /** Ceiling of that wait (Java `reconnect.backoff.max.ms`). Default `1000` ms. */
  readonly reconnectBackoffMaxMs?: number | undefined;
  /** Setup limit of a connection: TCP, TLS, ApiVersions and SASL (`socket.connection.setup.timeout.ms`). Default `10_000` ms. */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * Age after which known topics' metadata is fetched again even when nothing went wrong (Java
   * `metadata.max.age.ms`), so partitions added to a topic get used and a partition that lost its leader stops
   * being chosen for keyless records. The main thread and every worker refresh at this age. Default `300_000` ms.
   */
  readonly metadataMaxAgeMs?: number | undefined;
  /**
   * How long a topic nothing was sent to stays in the metadata the producer refreshes (Java `metadata.max.idle.ms`).
   * After that its metadata is forgotten, on the main thread and in the workers: refreshes stop asking for it, and
   * the next record to it fetches it again, as the first did (so a `trySend` to a forgotten topic returns false, as
   * it does for a topic not fetched yet). Checked at refreshes: a topic is forgotten between this long and this plus
   * two `metadataMaxAgeMs` after its last record. A service that writes to many short-lived topics keeps its
   * refreshes to the topics in use. A forgotten topic keeps its index (records carry a 16-bit one), so a producer
   * writes to at most 65,535 distinct topics over its life (`ERR_TOO_MANY_TOPICS` after that). Default `300_000`
   * ms; at least `5_000`, as in Java.
   */
  readonly metadataMaxIdleMs?: number | undefined;
  /**
   * Connect over TLS: `true` for Node's defaults, or `tls.connect` options (`ca`, `cert` and `key` for a client
   * certificate, `servername`, …). Host names are verified unless `rejectUnauthorized: false`. The options travel
   * to the worker threads, so they must be plain data (no functions). Default: no TLS.
   */
  readonly tls?: boolean | TlsOptions | undefined;
  /**
   * Authenticate every connection with SASL: `{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512',
   * username, password }` or `{ mechanism: 'oauthbearer', token, extensions? }`. Default: no SASL.
   */
  readonly sasl?: SaslOptions | undefined;
}

export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

/** Every option filled in and checked; `acks: 'all'` is normalised to `-1`, the value on the wire. */
export interface ResolvedOptions {
  readonly brokers: readonly BrokerAddress[];
  readonly clientId: string;
  readonly workers: number;
  readonly acks: 0 | 1 | -1;
  readonly idempotent: boolean;
  /** null unless transactional. */
  readonly transactionalId: string | null;
  readonly transactionTimeoutMs: number;
  readonly compression: Compression;
  readonly lingerMs: number;
  readonly batchMaxBytes: number;
  readonly maxBufferedBytes: number;
  readonly maxBufferedRecords: number;
  readonly bufferTimeoutMs: number;
  readonly deliveryTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxInFlight: number;
  readonly partitioner: 'default' | PartitionerFunction;
  /** null: no serializer, values must already be bytes or strings. */
  readonly serializer: Serializer | null;
  readonly maxRequestBytes: number;
  /** The batch bytes one Produce request gathers at most: `maxRequestBytes` when the user set it, else 16 MiB. */
  readonly requestGatherBytes: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  readonly reconnectBackoffMs: number;
  readonly reconnectBackoffMaxMs: number;
  readonly connectTimeoutMs: number;
  readonly metadataMaxAgeMs: number;
  readonly metadataMaxIdleMs: number;
  /** null: plain TCP. */
  readonly tls: tls.ConnectionOptions | null;
  /** null: no SASL. */
  readonly sasl: SaslOptions | null;
}

export const DEFAULT_BROKER = '127.0.0.1:9092';
const MIB = 1024 * 1024;
/** The batch bytes a Produce request gathers when maxRequestBytes is not set (see ProducerOptions.maxRequestBytes). */
const DEFAULT_REQUEST_GATHER_BYTES = 16 * MIB;
/** Node's timers take at most 2^31-1 ms; a larger delay silently becomes 1 ms. */
const TIMER_NOTE = " (Node's timer limit)";
/** Counters shared with workers are Int32 SharedArrayBuffer slots. */
const MAX_INT32 = 2 ** 31 - 1;
const INT32_NOTE = ' (an Int32 shared counter)';
/** The broker keeps the last 5 batches per producer and partition to detect duplicates (docs/kafka-protocol.md). */
const MAX_IDEMPOTENT_IN_FLIGHT = 5;
/** The characters the old Scala clients allowed in `client.id` (kafka.common.Config): safe in metric names and logs. */
const CLIENT_ID = /^[a-zA-Z0-9._-]+$/;
const COMPRESSIONS: readonly string[] = CODEC_NAMES;

const OPTION_NAMES = [
  'brokers', 'clientId', 'workers', 'acks', 'idempotent', 'transactionalId', 'transactionTimeoutMs', 'compression', 'lingerMs', 'batchMaxBytes',
  'maxBufferedBytes', 'maxBufferedRecords', 'bufferTimeoutMs', 'deliveryTimeoutMs', 'requestTimeoutMs',
  'maxInFlight', 'partitioner', 'serializer', 'maxRequestBytes', 'retryBackoffMs', 'retryBackoffMaxMs',
  'reconnectBackoffMs', 'reconnectBackoffMaxMs', 'connectTimeoutMs', 'metadataMaxAgeMs', 'metadataMaxIdleMs', 'tls', 'sasl',
] as const satisfies ReadonlyArray<keyof ProducerOptions>;

// A compile-time check that OPTION_NAMES lists every option: adding one to the interface without listing it here
// would make the unknown-option check reject it.
type Missing = Exclude<keyof ProducerOptions, (typeof OPTION_NAMES)[number]>;
const allListed: [Missing] extends [never] ? true : Missing = true;
void allListed;

const KNOWN = new Set<string>(OPTION_NAMES);

/** Checks `options` once and fills in every default. Throws ConfigError naming the first bad field. */
export function resolveOptions(
  options: ProducerOptions | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedOptions {
  if (options === undefined || options === null) options = {};
  else if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(`options must be an object, got ${describe(options)}`);
  }
  checkNames(options);
  const o = options;

  const brokers = o.brokers !== undefined
    ? parseBrokers(o.brokers, 'options.brokers')
    : env.KAFKA_BROKERS?.trim()
      ? parseBrokers(env.KAFKA_BROKERS, 'the KAFKA_BROKERS environment variable')
      : parseBrokers(DEFAULT_BROKER, 'default');

  // Not `??`: null is refused as every option's is (a number's, a boolean's), not taken for the default.
  const clientId = o.clientId === undefined ? 'ringkafka' : o.clientId;
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId) || clientId.length > 32767) {
    throw new ConfigError(
      `options.clientId must be 1 to 32,767 letters, digits, '.', '_' or '-', got ${describe(clientId)}`,
    );
  }

  const workers = integer(o.workers, 'workers', Math.min(4, Math.max(1, availableParallelism() - 1)), 1, 256);

  const acksIn = o.acks === undefined ? 'all' : o.acks;
  if (acksIn !== 0 && acksIn !== 1 && acksIn !== -1 && acksIn !== 'all') {
    throw new ConfigError(`options.acks must be 0, 1, 'all' or -1, got ${describe(acksIn)}`);
  }
  const acks = acksIn === 'all' ? -1 : acksIn;

  const compression = o.compression === undefined ? 'none' : o.compression;
  if (typeof compression !== 'string' || !COMPRESSIONS.includes(compression)) {
    const expected = COMPRESSIONS.map((c) => `'${c}'`).join(', ');
    throw new ConfigError(`options.compression must be one of ${expected}, got ${describe(compression)}`);
  }

  const lingerMs = integer(o.lingerMs, 'lingerMs', 5, 0, MAX_TIMER_MS, '', TIMER_NOTE);
  const maxRequestBytes = integer(o.maxRequestBytes, 'maxRequestBytes', MIB, 1024, MAX_INT32);
  // Unset, requests gather more than the record limit: Java's 1 MiB cap made one request per full batch, and on kfake
  // at 1KiB-none that cost 15–22 % of records/s against 16 MiB (three alternated pairs), the per-request work
  // multiplied on both sides.
  const requestGatherBytes = o.maxRequestBytes === undefined ? DEFAULT_REQUEST_GATHER_BYTES : maxRequestBytes;
  const batchMaxBytes = integer(o.batchMaxBytes, 'batchMaxBytes', Math.min(MIB, maxRequestBytes), 1024, maxRequestBytes,
    '', ' (options.maxRequestBytes)');
  const maxBufferedBytes = integer(o.maxBufferedBytes, 'maxBufferedBytes', 64 * MIB, 1, MAX_INT32, '', INT32_NOTE);
  const maxBufferedRecords = integer(o.maxBufferedRecords, 'maxBufferedRecords', 1e6, 1, MAX_INT32, '', INT32_NOTE);
  const bufferTimeoutMs = integer(o.bufferTimeoutMs, 'bufferTimeoutMs', 60_000, 0, MAX_TIMER_MS, '', TIMER_NOTE);
  const requestTimeoutMs = integer(o.requestTimeoutMs, 'requestTimeoutMs', 30_000, 1, MAX_TIMER_MS, '', TIMER_NOTE);
  // Java's rule (KIP-91): a record must get at least one full linger and one full request before it may expire; the
  // default rises to that too (it stayed 120 s, and a record could expire while its request still awaited its answer).
  const deliveryTimeoutMs = integer(o.deliveryTimeoutMs, 'deliveryTimeoutMs', Math.min(MAX_TIMER_MS, Math.max(120_000, lingerMs + requestTimeoutMs)),
    lingerMs + requestTimeoutMs, MAX_TIMER_MS, ' (options.lingerMs + options.requestTimeoutMs)', TIMER_NOTE);
  const maxInFlight = integer(o.maxInFlight, 'maxInFlight', 5, 1, 1000);
  const retryBackoffMs = integer(o.retryBackoffMs, 'retryBackoffMs', 100, 0, MAX_TIMER_MS, '', TIMER_NOTE);
  const retryBackoffMaxMs = integer(o.retryBackoffMaxMs, 'retryBackoffMaxMs', 1000, 0, MAX_TIMER_MS, '', TIMER_NOTE);
  const reconnectBackoffMs = integer(o.reconnectBackoffMs, 'reconnectBackoffMs', 50, 0, MAX_TIMER_MS, '', TIMER_NOTE);
  const reconnectBackoffMaxMs = integer(o.reconnectBackoffMaxMs, 'reconnectBackoffMaxMs', 1000, 0, MAX_TIMER_MS, '', TIMER_NOTE);
  const connectTimeoutMs = integer(o.connectTimeoutMs, 'connectTimeoutMs', 10_000, 1, MAX_TIMER_MS, '', TIMER_NOTE);
  const metadataMaxAgeMs = integer(o.metadataMaxAgeMs, 'metadataMaxAgeMs', 300_000, 1, MAX_TIMER_MS, '', TIMER_NOTE);
  // Java's floor: below it a topic written to every few seconds would be forgotten and fetched again between records.
  // No timer waits this long (refreshes compare it with a topic's idle time), so any safe integer: the largest never forgets.
  const metadataMaxIdleMs = integer(o.metadataMaxIdleMs, 'metadataMaxIdleMs', 300_000, 5_000, Number.MAX_SAFE_INTEGER);

  // Idempotence needs every write acknowledged by all in-sync replicas, and at most as many batches in flight as
  // the broker remembers for duplicate detection. Java (since 3.2): explicit true + conflict is an error; the
  // default quietly gives way.
  const transactionalId = o.transactionalId ?? null;
  if (transactionalId !== null && (typeof transactionalId !== 'string' || transactionalId.length === 0 || Buffer.byteLength(transactionalId) > 32767)) {
    throw new ConfigError(`options.transactionalId must be a non-empty string of at most 32767 bytes, got ${describe(transactionalId)}`);
  }
  const transactionTimeoutMs = integer(o.transactionTimeoutMs, 'transactionTimeoutMs', 60_000, 1, MAX_INT32);
  if (transactionalId !== null && o.idempotent === false) {
    throw new ConfigError('options.idempotent: false contradicts options.transactionalId (a transactional producer is idempotent)');
  }
  let idempotent: boolean;
  if (o.idempotent === undefined && transactionalId !== null) {
    // Java's rule: a transactional producer is idempotent, and the settings idempotence needs are errors otherwise.
    if (acks !== -1) throw new ConfigError(`options.transactionalId requires options.acks 'all', got ${describe(acksIn)}`);
    if (maxInFlight > MAX_IDEMPOTENT_IN_FLIGHT) {
      throw new ConfigError(`options.transactionalId requires options.maxInFlight <= ${MAX_IDEMPOTENT_IN_FLIGHT}, got ${maxInFlight}`);
    }
    idempotent = true;
  } else if (o.idempotent === undefined) {
    idempotent = acks === -1 && maxInFlight <= MAX_IDEMPOTENT_IN_FLIGHT;
  } else if (typeof o.idempotent !== 'boolean') {
    throw new ConfigError(`options.idempotent must be a boolean, got ${describe(o.idempotent)}`);
  } else {
    idempotent = o.idempotent;
    if (idempotent && acks !== -1) {
      throw new ConfigError(`options.idempotent: true requires options.acks 'all', got ${describe(acksIn)}`);
    }
    if (idempotent && maxInFlight > MAX_IDEMPOTENT_IN_FLIGHT) {
      throw new ConfigError(
        `options.idempotent: true requires options.maxInFlight <= ${MAX_IDEMPOTENT_IN_FLIGHT}, got ${maxInFlight}`,
      );
    }
  }

  const partitioner = o.partitioner === undefined ? 'default' : o.partitioner;
  if (partitioner !== 'default' && typeof partitioner !== 'function') {
    throw new ConfigError(
      `options.partitioner must be 'default' or a function (record, partitionCount) => number, ` +
        `got ${describe(partitioner)}`,
    );
  }

  // Checked as given (null too, refused, as every option's null is); none is null once resolved.
  const serializer = o.serializer;
  if (serializer !== undefined && serializer !== 'msgpack' && serializer !== 'json' && typeof serializer !== 'function') {
    throw new ConfigError(
      `options.serializer must be 'msgpack', 'json' or a function (value) => Uint8Array | string, ` +
        `got ${describe(serializer)}`,
    );
  }

  return {
    brokers, clientId, workers, acks, idempotent, transactionalId, transactionTimeoutMs, compression: compression as Compression, lingerMs, batchMaxBytes,
    maxBufferedBytes, maxBufferedRecords, bufferTimeoutMs, deliveryTimeoutMs, requestTimeoutMs, maxInFlight,
    partitioner, serializer: serializer ?? null, maxRequestBytes, requestGatherBytes, retryBackoffMs, retryBackoffMaxMs, reconnectBackoffMs,
    reconnectBackoffMaxMs, connectTimeoutMs, metadataMaxAgeMs, metadataMaxIdleMs, tls: resolveTls(o.tls), sasl: resolveSasl(o.sasl),
  };
}

/** Rejects option names ringkafka does not know: a typo (`lingerMS`) would otherwise silently keep the default. */
function checkNames(options: object): void {
  const unknown = Object.keys(options).filter((name) => !KNOWN.has(name));
  if (unknown.length === 0) return;
  throw new ConfigError(
    `unknown option${unknown.length > 1 ? 's' : ''} ${describeUnknown(unknown, OPTION_NAMES)}; ` +
      `expected one of ${OPTION_NAMES.join(', ')}`,
  );
}

/**
 * `value` if given, else `fallback`; must be an integer within [min, max]. The notes say where a derived bound comes
 * from, so the message explains a limit the user did not set directly.
 */
function integer(
  value: unknown,
  name: string,
  fallback: number,
  min: number,
  max: number,
  minNote = '',
  maxNote = '',
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(`options.${name} must be an integer >= ${min}${minNote}, got ${describe(value)}`);
  }
  if (value > max) throw new ConfigError(`options.${name} must be an integer <= ${max}${maxNote}, got ${value}`);
  return value;
}

function parseBrokers(input: unknown, source: string): BrokerAddress[] {
  const field = source === 'options.brokers' ? source : `brokers (from ${source})`;
  let list: unknown[];
  if (typeof input === 'string') list = input.split(',').filter((entry) => entry.trim() !== ''); // 'a:9092,' too, as in Java
  else if (Array.isArray(input)) list = input;
  else {
    throw new ConfigError(
      `${field} must be an array of 'host:port' strings or one comma-separated string, got ${describe(input)}`,
    );
  }
  if (list.length === 0) throw new ConfigError(`${field} must list at least one 'host:port', got ${Array.isArray(input) ? 'an empty array' : describe(input)}`);
  return list.map((entry, i) => {
    const at = Array.isArray(input) ? `${field}[${i}]` : field;
    if (typeof entry !== 'string') throw new ConfigError(`${at} must be a 'host:port' string, got ${describe(entry)}`);
    const address = parseAddress(entry.trim());
    if (address === null) {
      throw new ConfigError(
        `${at} must be 'host:port' with a port from 1 to 65535 (IPv6 as '[::1]:9092'), got ${JSON.stringify(entry)}`,
      );
    }
    return address;
  });
}

function parseAddress(text: string): BrokerAddress | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  // An unbracketed IPv6 address cannot be told apart from its port; whitespace inside is a typo.
  else if (host.includes(':')) return null;
  if (host.length === 0 || /[\s/]/.test(host) || !/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { host, port } : null;
}

/** A bad value, for a message; a long string cut short (one that quoted a 40,000-character clientId said no more). */
function describe(value: unknown): string {
  if (typeof value === 'string') return value.length <= 64 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 64))}… (${value.length} characters)`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value === null ? 'null' : 'an object';
  // With its n: a bigint 5 said as "got 5" read as the very number asked for.
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  return String(value);
}
