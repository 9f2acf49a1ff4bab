/**
 * KafkaJS's client object. ringkafka is a producer, so `producer()` is the one factory; `consumer()` and `admin()`
 * exist so that a service which calls them learns why at once instead of from a missing method.
 */
import { KafkaJSNonRetriableError } from './errors.js';
import { checkedLevel, consoleLogCreator, createLogger, logLevel, type Logger } from './logger.js';
import { mapProducerConfig } from './options.js';
import { KafkaJSProducer } from './producer.js';
import { refuse } from './refuse.js';
import type { KafkaConfig, ProducerConfig } from './types.js';

/** A logCreator that is not a function threw a raw TypeError out of `new Kafka()`. */
function logCreatorOf(config: KafkaConfig): NonNullable<KafkaConfig['logCreator']> {
  const creator: unknown = config.logCreator;
  if (creator === undefined) return consoleLogCreator;
  if (typeof creator !== 'function') refuse('logCreator', `must be a function, got ${creator === null ? 'null' : typeof creator}`);
  return config.logCreator!;
}

function logLevelOf(config: KafkaConfig): logLevel {
  return config.logLevel === undefined ? logLevel.INFO : checkedLevel(config.logLevel, 'logLevel');
}

/** `new Kafka(config)`: the entry point of a KafkaJS service. */
export class Kafka {
  readonly #config: KafkaConfig;
  readonly #logger: Logger;

  constructor(config: KafkaConfig) {
    if (typeof config !== 'object' || config === null) throw new KafkaJSNonRetriableError('new Kafka() needs a config object');
    if (config.brokers === undefined) throw new KafkaJSNonRetriableError('Failed to connect: expected brokers array and got nothing');
    this.#config = config;
    this.#logger = createLogger(logCreatorOf(config), logLevelOf(config));
  }

  /** A producer; every setting is mapped to ringkafka's or refused by name now (docs/kafkajs.md). */
  producer(config: ProducerConfig = {}): KafkaJSProducer {
    return new KafkaJSProducer(mapProducerConfig(this.#config, config), this.#config.brokers, this.#logger);
  }

  /** Not provided: ringkafka is a producer. */
  consumer(): never {
    throw new KafkaJSNonRetriableError('ringkafka/kafkajs provides the producer only; keep a consumer library for consuming');
  }

  /** Not provided: ringkafka is a producer. */
  admin(): never {
    throw new KafkaJSNonRetriableError('ringkafka/kafkajs provides the producer only; keep an admin client for topics and groups');
  }

  /** The client's logger. */
  logger(): Logger {
    return this.#logger;
  }
}
