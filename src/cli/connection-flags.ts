/**
 * The flags every `ringkafka` command shares to reach a cluster: brokers, client id, TLS and SASL, each also read
 * from an environment variable so a password need not appear in the process list. A flag wins over its variable.
 *
 *   --brokers host:port,…      KAFKA_BROKERS (default 127.0.0.1:9092)
 *   --tls                      connect over TLS with Node's defaults (system CAs, host-name check)
 *   --tls-ca FILE              RINGKAFKA_TLS_CA       (implies --tls)
 *   --tls-cert FILE            RINGKAFKA_TLS_CERT     client certificate, with --tls-key
 *   --tls-key FILE             RINGKAFKA_TLS_KEY
 *   --sasl-mechanism M         RINGKAFKA_SASL_MECHANISM   plain, scram-sha-256, scram-sha-512 (any case)
 *   --sasl-username U          RINGKAFKA_SASL_USERNAME
 *   --sasl-password P          RINGKAFKA_SASL_PASSWORD
 *
 * A mistake in a value names where the value came from: the flag, or the variable when no flag was given (a bad
 * KAFKA_BROKERS was reported as a bad --brokers, a flag the user never typed).
 */
import { readFileSync } from 'node:fs';
import type { ProducerOptions } from '../main/index.js';
import { resolveOptions } from '../main/options.js';
import { ConfigError } from '../shared/errors.js';
import { UsageError, stringFlag, type FlagSpec, type FlagValues } from './args.js';

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
  --sasl-mechanism M        RINGKAFKA_SASL_MECHANISM; plain, scram-sha-256 or scram-sha-512 (any case)
  --sasl-username U         RINGKAFKA_SASL_USERNAME
  --sasl-password P         RINGKAFKA_SASL_PASSWORD (prefer the variable: flags show in the process list)`;

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type Mechanism = (typeof MECHANISMS)[number];

/** A setting's value and where it came from: `--flag`, or the variable's name. */
interface Sourced {
  readonly value: string;
  readonly name: string;
}

/** The flag's value, else the variable's (an empty variable is unset). */
function fromFlagOrEnv(values: FlagValues, flag: string, variable: string, env: NodeJS.ProcessEnv): Sourced | undefined {
  const given = stringFlag(values, flag);
  if (given !== undefined) return { value: given, name: `--${flag}` };
  const set = env[variable];
  return set === undefined || set === '' ? undefined : { value: set, name: variable };
}

/** The brokers' setting: an empty or blank KAFKA_BROKERS is unset, as every RINGKAFKA_* variable is. */
function brokersSetting(values: FlagValues, env: NodeJS.ProcessEnv): Sourced | undefined {
  const given = stringFlag(values, 'brokers');
  if (given !== undefined) return { value: given, name: '--brokers' };
  return env.KAFKA_BROKERS?.trim() ? { value: env.KAFKA_BROKERS, name: 'KAFKA_BROKERS' } : undefined;
}

const TLS_FILES = [['tls-ca', 'RINGKAFKA_TLS_CA'], ['tls-cert', 'RINGKAFKA_TLS_CERT'], ['tls-key', 'RINGKAFKA_TLS_KEY']] as const;
const SASL_SETTINGS = [
  ['sasl-mechanism', 'RINGKAFKA_SASL_MECHANISM'], ['sasl-username', 'RINGKAFKA_SASL_USERNAME'], ['sasl-password', 'RINGKAFKA_SASL_PASSWORD'],
] as const;

function readPem({ value: path, name }: Sourced): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${name} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The mechanism as Kafka spells it (PLAIN, SCRAM-SHA-256) or in lower case alike. */
function mechanismOf(setting: Sourced): Mechanism {
  const mechanism = setting.value.toLowerCase();
  if (!(MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new UsageError(`${setting.name} must be one of ${MECHANISMS.join(', ')} (in any case), got ${JSON.stringify(setting.value)}`);
  }
  return mechanism as Mechanism;
}

/** The connection part of ProducerOptions from the flags and the environment. */
export function connectionOptions(values: FlagValues, env: NodeJS.ProcessEnv = process.env): ProducerOptions {
  const brokersGiven = brokersSetting(values, env);
  const brokers = (brokersGiven?.value ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers.length === 0) throw new UsageError(`${brokersGiven?.name ?? '--brokers'} names no broker`);

  const [ca, cert, key] = TLS_FILES.map(([flag, variable]) => fromFlagOrEnv(values, flag, variable, env));
  if ((cert === undefined) !== (key === undefined)) {
    const [missing, variable] = cert === undefined ? ['tls-cert', 'RINGKAFKA_TLS_CERT'] : ['tls-key', 'RINGKAFKA_TLS_KEY'];
    throw new UsageError(`--${missing} is missing (or ${variable}): ${(cert ?? key)!.name} gives half of a client certificate, which needs both`);
  }
  let tls: ProducerOptions['tls'];
  if (ca !== undefined || cert !== undefined) {
    tls = {
      ...(ca !== undefined && { ca: readPem(ca) }),
      ...(cert !== undefined && { cert: readPem(cert), key: readPem(key!) }),
    };
  } else if (values.tls === true) tls = true;

  let sasl: ProducerOptions['sasl'];
  const [mechanismGiven, username, password] = SASL_SETTINGS.map(([flag, variable]) => fromFlagOrEnv(values, flag, variable, env));
  if (mechanismGiven !== undefined) {
    const mechanism = mechanismOf(mechanismGiven);
    const asks = `${mechanismGiven.name} asks for SASL ${mechanism}`;
    if (username === undefined) throw new UsageError(`--sasl-username is missing (or RINGKAFKA_SASL_USERNAME): ${asks}`);
    if (password === undefined) throw new UsageError(`--sasl-password is missing (or RINGKAFKA_SASL_PASSWORD): ${asks}`);
    sasl = { mechanism, username: username.value, password: password.value };
  } else if (username !== undefined || password !== undefined) {
    const given = [username, password].flatMap((s) => (s === undefined ? [] : [s.name])).join(' and ');
    throw new UsageError(`--sasl-mechanism is missing (or RINGKAFKA_SASL_MECHANISM): a SASL username and password need one (given: ${given})`);
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
  clientId: '--client-id',
  compression: '--compression',
  acks: '--acks',
  lingerMs: '--linger-ms',
  batchMaxBytes: '--batch-bytes',
  maxBufferedBytes: '--buffer-bytes',
  workers: '--workers',
};

/** Where the connection options came from (`values` and `env` as connectionOptions read them), named as the user gave them. */
function connectionSources(values: FlagValues, env: NodeJS.ProcessEnv): Readonly<Record<string, string>> {
  const named = (settings: readonly (readonly [string, string])[], otherwise: string): string =>
    settings.flatMap(([flag, variable]) => fromFlagOrEnv(values, flag, variable, env)?.name ?? []).join(', ') || otherwise;
  return {
    brokers: brokersSetting(values, env)?.name ?? '--brokers',
    tls: named(TLS_FILES, '--tls'),
    sasl: named(SASL_SETTINGS, '--sasl-*'),
  };
}

/**
 * `options` as the producer would take them, or a UsageError (exit status 2) naming the flag (or the environment
 * variable, from `values` and `env`) whose value it refuses: the producer's own ConfigError named
 * `options.batchMaxBytes`, and the command ended with status 1 as if the cluster had failed.
 */
export function checkedProducerOptions(options: ProducerOptions, env: NodeJS.ProcessEnv = process.env, values: FlagValues = {}): ProducerOptions {
  try {
    resolveOptions(options, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const option = /options\.([A-Za-z]+)/.exec(error.message)?.[1];
    const flag = option === undefined ? undefined : (FLAG_OF[option] ?? connectionSources(values, env)[option]);
    throw new UsageError(flag === undefined ? error.message : `${flag}: ${error.message}`);
  }
  return options;
}
