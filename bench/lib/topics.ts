/**
 * Fresh topics for each client and scenario, created and deleted with our own CreateTopics / DeleteTopics over
 * one Connection (no JVM start per topic), and ready only once every partition has a leader, so no client pays
 * for a topic still coming up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '../../src/net/connection.js';
import { CreateTopics } from '../../src/protocol/apis/create-topics.js';
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';

const TOPIC_ALREADY_EXISTS = 36;
const READY_TIMEOUT_MS = 30_000;

export class Topics {
  readonly #connection: Connection;

  private constructor(connection: Connection) {
    this.#connection = connection;
  }

  /** Connects to the first bootstrap broker (the controller forwards CreateTopics in KRaft). */
  static async connect(brokers: readonly string[]): Promise<Topics> {
    const address = brokers[0];
    if (address === undefined) throw new Error('no brokers');
    const at = address.lastIndexOf(':');
    const connection = await Connection.connect({
      host: address.slice(0, at).replace(/^\[|\]$/g, ''),
      port: Number(address.slice(at + 1)),
      clientId: 'ringkafka-bench-admin',
      requestTimeoutMs: 30_000,
      maxInFlight: 1,
    });
    return new Topics(connection);
  }

  /** Creates `name` with `partitions` partitions (replication 1) and waits until each has a leader. */
  async create(name: string, partitions: number): Promise<void> {
    const response = await this.#connection.request(CreateTopics, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1 }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const result = response.topics[0];
    if (result === undefined) throw new Error(`CreateTopics answered nothing for ${name}`);
    if (result.errorCode !== 0 && result.errorCode !== TOPIC_ALREADY_EXISTS) {
      throw new Error(`cannot create topic ${name}: error ${result.errorCode} ${result.errorMessage ?? ''}`);
    }
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const metadata = await this.#connection.request(Metadata, { topics: [name], allowAutoTopicCreation: false });
      const topic = metadata.topics[0];
      const ready =
        topic !== undefined &&
        topic.errorCode === 0 &&
        topic.partitions.length === partitions &&
        topic.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0);
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`topic ${name} has no leader for every partition after ${READY_TIMEOUT_MS} ms`);
      await sleep(100);
    }
  }

  /** Deletes `name`; the broker frees its log files in the background. Failures are reported, not thrown. */
  async delete(name: string): Promise<string | undefined> {
    try {
      const response = await this.#connection.request(DeleteTopics, { topics: [{ name }], timeoutMs: 30_000 });
      const code = response.responses[0]?.errorCode ?? -1;
      return code === 0 ? undefined : `DeleteTopics ${name}: error ${code}`;
    } catch (error) {
      return `DeleteTopics ${name}: ${String(error)}`;
    }
  }

  close(): Promise<void> {
    return this.#connection.close();
  }
}
