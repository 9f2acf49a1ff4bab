/**
 * KafkaJS's exported constants: compression types, the codec registry and the partitioners. The numbers are KafkaJS's
 * (they are the codec ids of the Kafka record batch attributes), so code that stores or compares them keeps working.
 */
import type { Compression } from '../main/options.js';
import { CODEC_NAMES, isCodecValue } from '../shared/codecs.js';
import { partitionForKey } from '../main/partitioner.js';
import type { ICustomPartitioner, PartitionerArgs } from './types.js';

/** Codec ids, KafkaJS's `CompressionTypes`. */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;
/** One of the {@link CompressionTypes} values. */
export type CompressionTypes = (typeof CompressionTypes)[keyof typeof CompressionTypes];

/** ringkafka's codec name for a KafkaJS codec id (the same numbering), or undefined for an unknown id. */
export function codecName(type: unknown): Compression | undefined {
  return typeof type === 'number' && isCodecValue(type) ? CODEC_NAMES[type] : undefined;
}

/** A codec as KafkaJS users register one. */
export interface CompressionCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/**
 * KafkaJS's codec registry, where its users plug in Snappy, LZ4 and ZSTD. ringkafka ships every codec in its worker
 * threads, so an entry registered here is accepted (the same code keeps running) and not called (docs/kafkajs.md).
 */
export const CompressionCodecs: Record<number, (() => CompressionCodec) | undefined> = {};

/**
 * The Java client's placement: murmur2 of the key for keyed messages, which is what the producer does for every
 * keyed record; keyless messages go round-robin here. Only its identity matters to `kafka.producer()`; it is
 * callable so that code which calls it directly gets Java's answer.
 */
const DefaultPartitioner: ICustomPartitioner = () => {
  let next = 0;
  return ({ partitionMetadata, message }: PartitionerArgs): number => {
    const count = partitionMetadata.length;
    const { key } = message;
    if (key === null || key === undefined) return partitionMetadata[next++ % count]!.partitionId;
    return partitionForKey(typeof key === 'string' ? Buffer.from(key) : key, count);
  };
};

/**
 * KafkaJS 1.x's placement, which differs from Java's for some keys. ringkafka does not reproduce it, so
 * `kafka.producer()` refuses it with a KafkaJSNonRetriableError; calling it throws the same way.
 */
const LegacyPartitioner: ICustomPartitioner = () => () => {
  throw new Error('ringkafka/kafkajs does not implement LegacyPartitioner (docs/kafkajs.md)');
};

/** The partitioners `kafka.producer({ createPartitioner })` accepts (Default and its old name) or names in its refusal. */
export const Partitioners: {
  readonly DefaultPartitioner: ICustomPartitioner;
  readonly LegacyPartitioner: ICustomPartitioner;
  /** The 1.x name of DefaultPartitioner. */
  readonly JavaCompatiblePartitioner: ICustomPartitioner;
} = Object.freeze({ DefaultPartitioner, LegacyPartitioner, JavaCompatiblePartitioner: DefaultPartitioner });
