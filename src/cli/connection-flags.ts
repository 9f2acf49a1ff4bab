/**
 * The flags every `ringkafka` command shares to reach a cluster: brokers, client id, TLS and SASL, each also read
 * from an environment variable so a password need not appear in the process list. A flag wins over its variable.
 *
 *   --brokers host:port,…      KAFKA_BROKERS (default 127.0.0.1:9092)
 *   --tls                      connect over TLS with Node's defaults (system CAs, host-name check)
 *   --tls-ca FILE              RINGKAFKA_TLS_CA       (implies --tls)
 *   --tls-cert FILE            RINGKAFKA_TLS_CERT     client certificate, with --tls-key
 *   --tls-key FILE             RINGKAFKA_TLS_KEY
 *   --sasl-mechanism M         RINGKAFKA_SASL_MECHANISM   plain, scram-sha-256, scram-sha-512
 *   --sasl-username U          RINGKAFKA_SASL_USERNAME
 *   --sasl-password P          RINGKAFKA_SASL_PASSWORD
 */
import { readFileSync } from 'node:fs';
import type { ProducerOptions } from '../main/index.js';
import { resolveOptions } from '../main/options.js';
import { ConfigError } from '../shared/errors.js';
import { UsageError, choiceFlag, stringFlag, type FlagSpec, type FlagValues } from './args.js';

export const CONNECTION_FLAGS: FlagSpec = {
  brokers: { type: 'string' },
  'client-id': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'sasl-mechanism': { type: 'string' },
  'sasl-username': { type: 'string' },
  'sasl-password': { type: 'string' },
};

export const CONNECTION_USAGE = `Connection (each flag also read from the environment variable after it):
  --brokers host:port,...   KAFKA_BROKERS; default 127.0.0.1:9092
  --client-id ID            default ringkafka-cli
  --tls                     TLS with Node's defaults (system CAs, host-name check)
  --tls-ca FILE             RINGKAFKA_TLS_CA; PEM CA bundle (implies --tls)
  --tls-cert FILE           RINGKAFKA_TLS_CERT; PEM client certificate, with --tls-key
  --tls-key FILE            RINGKAFKA_TLS_KEY
  --sasl-mechanism M        RINGKAFKA_SASL_MECHANISM; plain, scram-sha-256 or scram-sha-512
  --sasl-username U         RINGKAFKA_SASL_USERNAME
  --sasl-password P         RINGKAFKA_SASL_PASSWORD (prefer the variable: flags show in the process list)`;

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

function fromFlagOrEnv(values: FlagValues, flag: string, variable: string, env: NodeJS.ProcessEnv): string | undefined {
  return stringFlag(values, flag) ?? (env[variable] === '' ? undefined : env[variable]);
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`--${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The connection part of ProducerOptions from the flags and the environment. */
export function connectionOptions(values: FlagValues, env: NodeJS.ProcessEnv = process.env): ProducerOptions {
  // An empty or blank KAFKA_BROKERS is unset, as every RINGKAFKA_* variable is: it was refused as "--brokers names
  // no broker", a flag the user never gave.
  const brokersFromEnv = env.KAFKA_BROKERS?.trim() ? env.KAFKA_BROKERS : undefined;
  const brokers = (stringFlag(values, 'brokers') ?? brokersFromEnv ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers.length === 0) throw new UsageError('--brokers names no broker');

  const ca = fromFlagOrEnv(values, 'tls-ca', 'RINGKAFKA_TLS_CA', env);
  const cert = fromFlagOrEnv(values, 'tls-cert', 'RINGKAFKA_TLS_CERT', env);
  const key = fromFlagOrEnv(values, 'tls-key', 'RINGKAFKA_TLS_KEY', env);
  if ((cert === undefined) !== (key === undefined)) throw new UsageError(`--${cert === undefined ? 'tls-cert' : 'tls-key'} is missing: a client certificate needs both`);
  let tls: ProducerOptions['tls'];
  if (ca !== undefined || cert !== undefined) {
    tls = {
      ...(ca !== undefined && { ca: readPem(ca, 'tls-ca') }),
      ...(cert !== undefined && { cert: readPem(cert, 'tls-cert'), key: readPem(key!, 'tls-key') }),
    };
  } else if (values.tls === true) tls = true;

  let sasl: ProducerOptions['sasl'];
  const mechanism = choiceFlag({ 'sasl-mechanism': fromFlagOrEnv(values, 'sasl-mechanism', 'RINGKAFKA_SASL_MECHANISM', env) }, 'sasl-mechanism', MECHANISMS);
  const username = fromFlagOrEnv(values, 'sasl-username', 'RINGKAFKA_SASL_USERNAME', env);
  const password = fromFlagOrEnv(values, 'sasl-password', 'RINGKAFKA_SASL_PASSWORD', env);
  if (mechanism !== undefined) {
    if (username === undefined) throw new UsageError('--sasl-username is missing (or RINGKAFKA_SASL_USERNAME)');
    if (password === undefined) throw new UsageError('--sasl-password is missing (or RINGKAFKA_SASL_PASSWORD)');
    sasl = { mechanism, username, password };
  } else if (username !== undefined || password !== undefined) {
    throw new UsageError('--sasl-mechanism is missing: a SASL username and password need a mechanism');
  }

  return {
    brokers,
    clientId: stringFlag(values, 'client-id') ?? 'ringkafka-cli',
    ...(tls !== undefined && { tls }),
    ...(sasl !== undefined && { sasl }),
  };
}

/** The flag that sets each producer option a command passes on, for naming it when the producer refuses a value. */
const FLAG_OF: Readonly<Record<string, string>> = {
  brokers: '--brokers',
  clientId: '--client-id',
  tls: '--tls-ca, --tls-cert or --tls-key',
  sasl: '--sasl-*',
  compression: '--compression',
  acks: '--acks',
  lingerMs: '--linger-ms',
  batchMaxBytes: '--batch-bytes',
  maxBufferedBytes: '--buffer-bytes',
  workers: '--workers',
};

/**
 * `options` as the producer would take them, or a UsageError (exit status 2) naming the flag whose value it refuses:
 * the producer's own ConfigError named `options.batchMaxBytes`, and the command ended with status 1 as if the
 * cluster had failed.
 */
export function checkedProducerOptions(options: ProducerOptions, env: NodeJS.ProcessEnv = process.env): ProducerOptions {
  try {
    resolveOptions(options, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const option = /options\.([A-Za-z]+)/.exec(error.message)?.[1];
    const flag = option === undefined ? undefined : FLAG_OF[option];
    throw new UsageError(flag === undefined ? error.message : `${flag}: ${error.message}`);
  }
  return options;
}
