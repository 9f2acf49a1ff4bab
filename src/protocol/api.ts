/**
 * The contract every Kafka API module implements: one module per API (not one per version), with the versions
 * ringkafka speaks and version-gated fields inside the encoder and decoder. A connection needs nothing else to
 * frame a request and read its answer.
 */
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface ApiDefinition<Request, Response> {
  readonly key: number;
  readonly name: string;
  /** Lowest version ringkafka will send (Produce: 3, docs/kafka-protocol.md). */
  readonly minVersion: number;
  /** Highest version ringkafka can encode and decode. */
  readonly maxVersion: number;
  /** First flexible version (request header v2, response header v1, compact encodings, tagged fields). */
  readonly flexibleFrom: number;
  /**
   * From this version on, a throttled answer comes at once and the broker then stops reading the connection for
   * its `throttleTimeMs`, so the client must send nothing more on it until then (KIP-219; each answer's schema says
   * "Starting in version N, on quota violation, brokers send out responses before throttling"). Before it, the
   * broker held the answer back itself. Absent: the answer has no throttle time.
   */
  readonly clientThrottlesFrom?: number;
  encodeRequest(writer: Writer, version: number, request: Request): void;
  decodeResponse(reader: Reader, version: number): Response;
}

export function isFlexible(api: ApiDefinition<unknown, unknown>, version: number): boolean {
  return version >= api.flexibleFrom;
}
