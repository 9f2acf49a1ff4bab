/** The public API of ringkafka. Only what is exported here is reachable through the package's `exports` map. */
export {
  KafkaProducerError,
  ProtocolError,
  ConfigError,
  BrokerError,
  ConnectionError,
  RequestTimeoutError,
  UnsupportedVersionError,
} from '../shared/errors.js';
export type { Delivery, KafkaProducerErrorOptions } from '../shared/errors.js';
