/**
 * `new Kafka(config)` + `kafka.producer(config)` → ringkafka's ProducerOptions. Each KafkaJS setting either maps to
 * the ringkafka option with the same meaning or is refused by name (refuse.ts); docs/kafkajs.md has the table.
 * Defaults that differ between the two libraries follow KafkaJS where the difference is visible to the caller
 * (idempotence off unless asked for), ringkafka's elsewhere (timeouts, buffer sizes).
 */
import { resolveOptions, type ProducerOptions, type ResolvedOptions } from '../main/options.js';
import type { SaslOptions } from '../main/security-options.js';
import { expiryOf } from '../main/oauth-tokens.js';
import { nearestName } from '../main/option-names.js';
import { Partitioners } from './constants.js';
import { refuse } from './refuse.js';
import { retryOptions } from './retry.js';
import type { KafkaConfig, ProducerConfig, SASLOptions } from './types.js';

/** What `kafka.producer()` builds a ringkafka Producer from. */
export interface MappedProducer {
  /** Everything but the brokers, which may come from a function called at each `connect()`. */
  readonly options: ProducerOptions;
  /** The options as ringkafka resolved them: the acks, codec and request timeout that per-call fields must match. */
  readonly resolved: ResolvedOptions;
}

/** The broker's duplicate window: more idempotent batches in flight than this could be written twice. */
const MAX_IDEMPOTENT_IN_FLIGHT = 5;

const CLIENT_FIELDS = new Set([
  'brokers', 'ssl', 'sasl', 'clientId', 'connectionTimeout', 'authenticationTimeout', 'reauthenticationThreshold',
  'requestTimeout', 'enforceRequestTimeout', 'retry', 'socketFactory', 'logLevel', 'logCreator',
]);
const PRODUCER_FIELDS = new Set([
  'createPartitioner', 'retry', 'metadataMaxAge', 'allowAutoTopicCreation', 'idempotent', 'transactionalId',
  'transactionTimeout', 'maxInFlightRequests', 'ringkafka',
]);

/** An object that is no array: what every KafkaJS configuration object must be. */
function isConfigObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `a string, ${JSON.stringify(value)}` : typeof value;
}

function checkFields(config: unknown, known: ReadonlySet<string>, where: string): void {
  // A raw TypeError from destructuring null was all a caller got before.
  if (!isConfigObject(config)) refuse(where, `must be an object, got ${config === null ? 'null' : typeof config}`);
  for (const name of Object.keys(config)) {
    if (known.has(name)) continue;
    const near = nearestName(name, [...known]);
    refuse(`${where}.${name}`, `is not a KafkaJS setting${near === undefined ? '' : ` (did you mean ${near}?)`}`);
  }
}

/**
 * The KafkaJS setting each mapped ringkafka option comes from: a value ringkafka refuses is named as the caller
 * wrote it (`maxInFlightRequests`, not `options.maxInFlight`), unless the caller gave the ringkafka option itself.
 */
const KAFKAJS_NAME: Readonly<Record<string, string>> = {
  clientId: 'clientId',
  tls: 'ssl',
  sasl: 'sasl',
  connectTimeoutMs: 'connectionTimeout',
  requestTimeoutMs: 'requestTimeout',
  maxInFlight: 'maxInFlightRequests',
  metadataMaxAgeMs: 'metadataMaxAge',
  transactionalId: 'transactionalId',
  transactionTimeoutMs: 'transactionTimeout',
  retryBackoffMs: 'retry.initialRetryTime',
  retryBackoffMaxMs: 'retry.maxRetryTime',
  deliveryTimeoutMs: 'retry (retries and maxRetryTime)',
};

/** The setting to name for ringkafka's refusal `message`, which names `options.<field>` first. */
function refusedSetting(message: string, extra: object): string {
  const option = /options\.([A-Za-z]+)/.exec(message)?.[1];
  if (option === undefined || Object.hasOwn(extra, option)) return 'config';
  return KAFKAJS_NAME[option] ?? 'config';
}

/** Maps both configurations and checks the result with ringkafka's own validation; throws KafkaJS errors only. */
export function mapProducerConfig(client: KafkaConfig, config: ProducerConfig): MappedProducer {
  checkFields(client, CLIENT_FIELDS, 'kafka config');
  checkFields(config, PRODUCER_FIELDS, 'producer config');
  // Spread as they were, a number or a string gave no setting at all (`retry: 5`), or one per character.
  for (const [value, field] of [[client.retry, 'kafka config retry'], [config.retry, 'producer config retry'], [config.ringkafka, 'producer config ringkafka']] as const) {
    if (value !== undefined && !isConfigObject(value)) refuse(field, `must be an object, got ${describeValue(value)}`);
  }
  // The brokers come from new Kafka({ brokers }) (a list or a function called at each connect()), which replaced these.
  if (config.ringkafka !== undefined && Object.hasOwn(config.ringkafka, 'brokers')) {
    refuse('producer config ringkafka.brokers', 'is not taken: the brokers are new Kafka({ brokers })\'s');
  }
  const connection = clientOptions(client);
  const producer = producerOptions(config);
  const extra = config.ringkafka ?? {};
  const base: ProducerOptions = { ...connection, ...producer, ...extra };
  const retryField = config.retry !== undefined ? 'producer config retry' : 'kafka config retry';
  const retries = config.retry?.retries ?? client.retry?.retries;
  const retriesField = config.retry?.retries !== undefined ? 'producer config retry' : 'kafka config retry';
  // KafkaJS refuses this too: an idempotent producer that may not retry loses the records of a transient error.
  if (producer.idempotent === true && retries !== undefined && retries < 1) {
    refuse(`${retriesField}.retries: ${retries}`, 'an idempotent producer must allow retries to protect against transient errors');
  }
  // KafkaJS accepts this, as at-most-once: ringkafka has no retry count (retries become a delivery timeout, see
  // retry.ts) and would resend, and a resend by a producer that is not idempotent may write the message twice.
  if (producer.idempotent !== true && retries === 0) {
    refuse(
      `${retriesField}.retries: 0`,
      'cannot be honoured: ringkafka bounds retries by time (deliveryTimeoutMs), not by count, so it cannot promise zero retries, ' +
        'and a retry by a producer that is not idempotent may write a message twice. Set idempotent: true (its retries never ' +
        'duplicate; it needs retries above 0) or a retries count above 0',
    );
  }
  // ringkafka's own options win over what the retry settings imply, as over every mapped setting.
  const options: ProducerOptions = { ...base, ...retryOptions({ ...client.retry, ...config.retry }, retryField, base), ...extra };
  let resolved: ResolvedOptions;
  try {
    // The brokers are checked at connect(), where a function gives them; the rest is checked now, as in ringkafka.
    resolved = resolveOptions({ ...options, brokers: Array.isArray(client.brokers) ? client.brokers : undefined }, {});
  } catch (error) {
    const message = (error as Error).message;
    refuse(refusedSetting(message, extra), `is not valid for ringkafka: ${message}`);
  }
  return { options, resolved };
}

/** The connection settings of `new Kafka(config)`. */
function clientOptions(c: KafkaConfig): ProducerOptions {
  if (c.authenticationTimeout !== undefined) refuse('authenticationTimeout', 'has no ringkafka counterpart: authentication is bounded by requestTimeout');
  if (c.reauthenticationThreshold !== undefined) refuse('reauthenticationThreshold', 'has no ringkafka counterpart: sessions are renewed at 85–95 % of their lifetime, as in the Java client');
  if (c.socketFactory !== undefined) refuse('socketFactory', 'is not supported: connections are made on worker threads, which a function cannot reach');
  if (c.enforceRequestTimeout === false) refuse('enforceRequestTimeout: false', 'is not supported: ringkafka always enforces the request timeout');
  if (c.enforceRequestTimeout !== undefined && c.enforceRequestTimeout !== true) {
    refuse('enforceRequestTimeout', `must be a boolean, got ${describeValue(c.enforceRequestTimeout)}`);
  }
  return {
    ...(c.clientId !== undefined && { clientId: c.clientId }),
    ...(c.ssl !== undefined && { tls: c.ssl }),
    ...(c.sasl !== undefined && { sasl: saslOptions(c.sasl) }),
    ...(c.connectionTimeout !== undefined && { connectTimeoutMs: c.connectionTimeout }),
    ...(c.requestTimeout !== undefined && { requestTimeoutMs: c.requestTimeout }),
  };
}

function saslOptions(sasl: SASLOptions): SaslOptions {
  if (typeof sasl !== 'object' || sasl === null || typeof sasl.mechanism !== 'string') refuse('sasl', 'must be an object with a mechanism');
  const raw = sasl as unknown as Record<string, unknown>;
  if (raw.authenticationProvider !== undefined) refuse('sasl.authenticationProvider', 'is not supported: ringkafka implements PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER itself');
  const mechanism = sasl.mechanism.toLowerCase();
  if (mechanism === 'oauthbearer') {
    const { oauthBearerProvider } = sasl as { oauthBearerProvider?: unknown };
    if (typeof oauthBearerProvider !== 'function') refuse('sasl.oauthBearerProvider', 'must be a function');
    const provider = oauthBearerProvider as () => Promise<{ value: string }>;
    return { mechanism: 'oauthbearer', token: async () => facadeToken((await provider()).value) };
  }
  if (mechanism === 'plain' || mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') {
    const { username, password } = sasl as { username: string; password: string };
    return { mechanism, username, password };
  }
  return refuse(`sasl.mechanism '${sasl.mechanism}'`, 'is not supported: use plain, scram-sha-256, scram-sha-512 or oauthbearer');
}

/**
 * How long a token that is not a JWT with an `exp` claim is used. KafkaJS asks its oauthBearerProvider at every
 * authentication, so a provider may hand out short-lived opaque tokens (a signed request valid a few minutes, say),
 * whose expiry nobody can read: kept for the native API's default hour, such a token went stale long before its
 * refresh, and every authentication and re-authentication after that failed until then.
 */
export const OPAQUE_TOKEN_LIFETIME_MS = 60_000;

function facadeToken(value: string): { value: string; lifetimeMs?: number } {
  // Not a string: passed on as it is, for the token cache to refuse with its own message.
  return typeof value === 'string' && expiryOf(value) === undefined ? { value, lifetimeMs: OPAQUE_TOKEN_LIFETIME_MS } : { value };
}

/** The settings of `kafka.producer(config)` but retry. */
function producerOptions(p: ProducerConfig): ProducerOptions {
  const partitioner = p.createPartitioner;
  if (partitioner === Partitioners.LegacyPartitioner) {
    refuse('createPartitioner: LegacyPartitioner', "is not supported: ringkafka places keyed messages as the Java client does (DefaultPartitioner); LegacyPartitioner's placement differs for some keys");
  }
  if (partitioner !== undefined && partitioner !== Partitioners.DefaultPartitioner) {
    refuse('createPartitioner', 'accepts only Partitioners.DefaultPartitioner (the Java-compatible placement ringkafka uses); a custom partitioner is not supported, set a partition per message or ringkafka.partitioner');
  }
  // ringkafka's Metadata requests let the broker create a missing topic (its auto.create.topics.enable decides), as
  // Java's producer and KafkaJS by default do; it has no setting to forbid that.
  if (p.allowAutoTopicCreation === false) {
    refuse('allowAutoTopicCreation: false', "is not supported: ringkafka lets the broker decide (auto.create.topics.enable), as KafkaJS's default does; leave it out, and disable auto-creation on the broker to forbid it");
  }
  for (const flag of ['idempotent', 'allowAutoTopicCreation'] as const) {
    // 'true' (a string from an environment variable) was quietly taken as false.
    if (p[flag] !== undefined && typeof p[flag] !== 'boolean') refuse(flag, `must be a boolean, got ${typeof p[flag]}`);
  }
  const transactional = p.transactionalId !== undefined;
  if (transactional && p.idempotent === false) refuse('idempotent: false', 'contradicts transactionalId: a transactional producer is idempotent');
  if (!transactional && p.transactionTimeout !== undefined) refuse('transactionTimeout', 'applies only with a transactionalId');
  // KafkaJS's default is a producer without idempotence; a transactional one always has it.
  const idempotent = transactional || p.idempotent === true;
  // KafkaJS reads a falsy maxInFlightRequests (0, null) as "no limit": here, ringkafka's default.
  const inFlight = p.maxInFlightRequests || undefined;
  if (idempotent && inFlight !== undefined && inFlight > MAX_IDEMPOTENT_IN_FLIGHT) {
    refuse('maxInFlightRequests', `must be at most ${MAX_IDEMPOTENT_IN_FLIGHT} for an idempotent producer (the broker detects duplicates among the last 5 batches), got ${inFlight}`);
  }
  return {
    idempotent,
    ...(inFlight !== undefined && { maxInFlight: inFlight }),
    ...(p.metadataMaxAge !== undefined && { metadataMaxAgeMs: p.metadataMaxAge }),
    ...(transactional && { transactionalId: p.transactionalId! }),
    ...(transactional && p.transactionTimeout !== undefined && { transactionTimeoutMs: p.transactionTimeout }),
  };
}
