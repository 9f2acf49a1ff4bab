/**
 * Fresh topics for each client and scenario, created and deleted with our own CreateTopics / DeleteTopics over
 * one Connection (no JVM start per topic), and ready only once every partition has a leader, so no client pays
 * for a topic still coming up. Before a topic goes, the bench counts what the broker holds in it (ListOffsets),
 * since every client reports its own count.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '../../src/net/connection.js';
import { CreateTopics } from '../../src/protocol/apis/create-topics.js';
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { LATEST_TIMESTAMP, ListOffsets } from './list-offsets.js';

const TOPIC_ALREADY_EXISTS = 36;
const READY_TIMEOUT_MS = 30_000;

/** An admin connection to `host`:`port`, one request at a time. */
function adminConnection(host: string, port: number): Promise<Connection> {
  return Connection.connect({ host, port, clientId: 'ringkafka-bench-admin', requestTimeoutMs: 30_000, maxInFlight: 1 });
}

export class Topics {
  readonly #connection: Connection;
  /** Connections to partition leaders by node id, for ListOffsets (only a partition's leader answers it). */
  readonly #leaders = new Map<number, Promise<Connection>>();

  private constructor(connection: Connection) {
    this.#connection = connection;
  }

  /** Connects to the first bootstrap broker (the controller forwards CreateTopics in KRaft). */
  static async connect(brokers: readonly string[]): Promise<Topics> {
    const address = brokers[0];
    if (address === undefined) throw new Error('no brokers');
    const at = address.lastIndexOf(':');
    return new Topics(await adminConnection(address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))));
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

  /**
   * The records the broker holds in `name`: the latest offset (ListOffsets, timestamp -1, read_uncommitted: the high
   * watermark) of every partition, summed. Every topic is fresh and nothing deletes records from it, so each
   * partition's log starts at 0 and its latest offset is the count of what was appended: records, and the markers
   * of committed or aborted transactions. Each partition is asked of its leader.
   */
  async recordCount(name: string): Promise<number> {
    const metadata = await this.#connection.request(Metadata, { topics: [name], allowAutoTopicCreation: false });
    const topic = metadata.topics[0];
    if (topic === undefined || topic.errorCode !== 0) throw new Error(`no metadata for ${name}: error ${topic?.errorCode ?? 'none'}`);
    const byLeader = new Map<number, number[]>();
    for (const p of topic.partitions) {
      if (p.errorCode !== 0 || p.leaderId < 0) throw new Error(`${name}-${p.partitionIndex} has no leader (error ${p.errorCode})`);
      byLeader.set(p.leaderId, [...(byLeader.get(p.leaderId) ?? []), p.partitionIndex]);
    }
    let sum = 0n;
    for (const [leader, partitions] of byLeader) {
      const broker = metadata.brokers.find((b) => b.nodeId === leader);
      if (broker === undefined) throw new Error(`${name}: leader ${leader} is not among the brokers Metadata lists`);
      let connection = this.#leaders.get(leader);
      if (connection === undefined) {
        connection = adminConnection(broker.host, broker.port);
        this.#leaders.set(leader, connection);
      }
      const response = await (await connection).request(ListOffsets, {
        isolationLevel: 0,
        topics: [{ name, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: LATEST_TIMESTAMP })) }],
      });
      const listed = response.topics.flatMap((t) => t.partitions);
      for (const partitionIndex of partitions) {
        const answer = listed.find((p) => p.partitionIndex === partitionIndex);
        if (answer === undefined || answer.errorCode !== 0 || answer.offset < 0n) {
          throw new Error(`ListOffsets ${name}-${partitionIndex}: ${answer === undefined ? 'no answer' : `error ${answer.errorCode}, offset ${answer.offset}`}`);
        }
        sum += answer.offset;
      }
    }
    return Number(sum);
  }

  async close(): Promise<void> {
    const leaders = await Promise.allSettled(this.#leaders.values());
    await Promise.all([
      this.#connection.close(),
      ...leaders.flatMap((l) => (l.status === 'fulfilled' ? [l.value.close()] : [])),
    ]);
  }
}

/** What a run sent: its warm-up and its measured records, and transactions of how many, if any. */
export interface SentRecords {
  readonly warmupRecords: number;
  readonly records: number;
  readonly transactionRecords?: number | undefined;
}

/**
 * Why the broker's count (`found`, Topics.recordCount) does not match what the run sent, or undefined when it does.
 * The producers are idempotent, so a retried batch is written once and the count is exact: a client that reported
 * success for records the broker does not have, or wrote twice, fails. With transactions each commit also appends
 * one marker to every partition it wrote to, which the count cannot tell from a record: there the broker must hold
 * at least what was sent (markers could hide a loss of as many records; a failed transaction fails the run anyway).
 */
export function countMismatch(sent: SentRecords, found: number): string | undefined {
  const expected = sent.warmupRecords + sent.records;
  const transactional = sent.transactionRecords !== undefined;
  if (transactional ? found >= expected : found === expected) return undefined;
  const what = `${sent.warmupRecords.toLocaleString('en-US')} warm-up + ${sent.records.toLocaleString('en-US')} measured`;
  return transactional
    ? `the broker holds ${found.toLocaleString('en-US')} records and transaction markers, fewer than the ${expected.toLocaleString('en-US')} records sent (${what})`
    : `the broker holds ${found.toLocaleString('en-US')} records, expected ${expected.toLocaleString('en-US')} (${what})`;
}
