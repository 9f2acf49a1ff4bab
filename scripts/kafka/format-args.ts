/**
 * The StorageTool's `format` command line for one node, apart from cluster.ts so the flags are unit-tested without
 * formatting anything (a format wipes a node's data).
 *
 * `transactionVersion` finalizes the `transaction.version` feature at format time (`--feature
 * transaction.version=N`): Kafka 4's default is 2 (KIP-890's second phase: the epoch is bumped at every
 * transaction end and Produce adds its partitions to the transaction itself), while 1 and 0 keep the earlier
 * protocol, where the producer sends AddPartitionsToTxn first. A client has to work against both, so the tests run
 * once against each (.ci/run).
 */

import { randomBytes } from 'node:crypto';

/** The feature levels Kafka 4.3's StorageTool accepts for transaction.version. */
export const TRANSACTION_VERSIONS = [0, 1, 2] as const;
export type TransactionVersion = (typeof TRANSACTION_VERSIONS)[number];

/** The flag's text as a level, or an error naming what is accepted. */
export function parseTransactionVersion(text: string): TransactionVersion {
  const level = Number(text);
  const known = TRANSACTION_VERSIONS.find((v) => v === level);
  if (known === undefined || text.trim() === '') {
    throw new Error(`--transaction-version must be one of ${TRANSACTION_VERSIONS.join(', ')}, got ${text}`);
  }
  return known;
}

export interface FormatOptions {
  readonly clusterId: string;
  /** The node's server.properties. */
  readonly properties: string;
  /** `--add-scram` pairs, already spelled out. */
  readonly scram: readonly string[];
  /** Unset: the release's default level (2 in Kafka 4.3). */
  readonly transactionVersion?: TransactionVersion | undefined;
}

/**
 * A new cluster id: 16 random bytes in URL-safe base64 without padding, drawn again while it starts with '-', as
 * Kafka's own generator does: the StorageTool's argument parser reads `-t -pv6Z…` as a flag with its value missing,
 * and one format in 64 failed so (a CI run did).
 */
export function newClusterId(random: (size: number) => Uint8Array = randomBytes): string {
  for (;;) {
    const id = Buffer.from(random(16)).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Arguments after the StorageTool's main class. The id is given as `--cluster-id=<id>`, so a cluster formatted with
 * an id that starts with '-' (before newClusterId) is read as the value it is.
 */
export function storageFormatArgs(options: FormatOptions): string[] {
  return [
    'format', `--cluster-id=${options.clusterId}`, '-c', options.properties, ...options.scram,
    ...(options.transactionVersion !== undefined ? ['--feature', `transaction.version=${options.transactionVersion}`] : []),
  ];
}
