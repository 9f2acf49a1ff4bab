/**
 * Metadata requests for topics the main thread does not know yet, asked for in the same turn of the event loop on
 * the same connection, made as one request for all of them, as Java's client asks for every new topic at once. One
 * request per topic had a service's first sends to 3,000 topics make 3,000 requests on the bootstrap connection,
 * five at a time: with a 10 ms round trip, 1,356 of them failed at bufferTimeoutMs (5 s) while their requests still
 * waited in the client's own queue, and the registry's refresh and the producer id waited behind them too.
 *
 * A batch holds at most MAX_TOPICS_PER_REQUEST names; more asked for in one turn go in further requests. Every caller
 * of a batch hears its outcome: the answer, or the request's error.
 */
import type { Connection } from '../net/connection.js';
import { Metadata, type MetadataResponse, type MetadataTopic } from '../protocol/apis/metadata.js';

/** Topics in one request: an answer for each is a few hundred bytes, so one answer stays within a few megabytes. */
export const MAX_TOPICS_PER_REQUEST = 4096;

/** An answer, and its topic of the name asked for (undefined when the answer does not name it). */
export interface TopicAnswer {
  readonly response: MetadataResponse;
  readonly topic: MetadataTopic | undefined;
}

interface Batch {
  readonly names: Set<string>;
  /** The answer's topics by name; set when the batch opens. */
  answer: Promise<Map<string, MetadataTopic>>;
  response: MetadataResponse | undefined;
}

export class MetadataBatches {
  /** By connection, the batch still taking names (its request goes out in the next turn). */
  readonly #open = new Map<Connection, Batch>();

  /** The metadata of topic `name`, asked for on `connection` with every other name asked for there this turn. */
  async fetch(connection: Connection, name: string): Promise<TopicAnswer> {
    let batch = this.#open.get(connection);
    if (batch === undefined || batch.names.size >= MAX_TOPICS_PER_REQUEST) batch = this.#openBatch(connection);
    batch.names.add(name);
    const topics = await batch.answer;
    return { response: batch.response!, topic: topics.get(name) };
  }

  #openBatch(connection: Connection): Batch {
    const names = new Set<string>();
    const batch: Batch = { names, answer: undefined!, response: undefined };
    this.#open.set(connection, batch);
    // In the next turn, when every caller of this one has added its name: callers reach here after awaiting the
    // connection, each in a microtask of its own, so a microtask would send before most of them came.
    batch.answer = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      if (this.#open.get(connection) === batch) this.#open.delete(connection);
      const response = await connection.request(Metadata, { topics: [...names], allowAutoTopicCreation: true });
      batch.response = response;
      const byName = new Map<string, MetadataTopic>();
      for (const topic of response.topics) if (topic.name !== null && !byName.has(topic.name)) byName.set(topic.name, topic);
      return byName;
    });
    batch.answer.catch(() => undefined); // every caller observes it (fetch)
    return batch;
  }
}
