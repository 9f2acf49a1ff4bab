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
 * KafkaJS's default placement, for code that calls the partitioner itself: the message's own `partition` when it
 * names one (returned as given, the caller's to check), else murmur2 of the key as the Java client computes it, else
 * round-robin per topic over the partitions that have a leader (over all when none has), from a random start so that
 * producers started together do not all begin on partition 0. `kafka.producer()` uses only its identity: the
 * producer honours the same explicit partition and key placement itself, and places keyless messages with the
 * uniform sticky partitioner (docs/kafkajs.md).
 */
const DefaultPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    const { partition, key } = message;
    if (partition !== null && partition !== undefined) return partition;
    const count = partitionMetadata.length;
    // KafkaJS hashes a key that is not a Buffer (a number from untyped code) as its string form.
    if (key !== null && key !== undefined) return partitionForKey(Buffer.isBuffer(key) ? key : Buffer.from(String(key)), count);
    const next = (counters.get(topic) ?? Math.floor(Math.random() * 0x1_0000_0000)) + 1;
    counters.set(topic, next % 0x1_0000_0000);
    const led = partitionMetadata.filter((p) => p.leader >= 0);
    // With no partition led, one is still named (its send then waits for a leader), as KafkaJS does.
    if (led.length === 0) return partitionMetadata[next % count]!.partitionId;
    return led[next % led.length]!.partitionId;
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
