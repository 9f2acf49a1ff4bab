/**
 * The flags both commands take for how records are batched and acknowledged, and the producer options they stand for.
 */
import type { ProducerOptions } from '../main/index.js';
import { choiceFlag, numberFlag, type FlagValues } from './args.js';

export const DELIVERY_FLAGS = {
  acks: { type: 'string' },
  'batch-bytes': { type: 'string' },
} as const;

export const DELIVERY_USAGE = `  --acks A                  all (or -1, Kafka's name for it), 1, 0 (default all)
  --batch-bytes BYTES       producer batchMaxBytes (default the producer's, 1 MiB)`;

/**
 * The producer options of --acks and --batch-bytes. acks 1 or 0 turns idempotence off, as the producer requires
 * (idempotence needs acks all), rather than refusing the flag.
 */
export function deliveryOptions(values: FlagValues): Pick<ProducerOptions, 'acks' | 'idempotent' | 'batchMaxBytes'> {
  const acks = choiceFlag(values, 'acks', ['all', '-1', '1', '0'] as const);
  const batchMaxBytes = numberFlag(values, 'batch-bytes', { min: 1, integer: true });
  return {
    ...(acks !== undefined && { acks: acks === 'all' || acks === '-1' ? 'all' : Number(acks) as 0 | 1 }),
    ...((acks === '1' || acks === '0') && { idempotent: false }),
    ...(batchMaxBytes !== undefined && { batchMaxBytes }),
  };
}
