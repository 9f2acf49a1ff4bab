/**
 * How long every Metadata answer must have said a topic does not exist before the producer takes it as deleted:
 * one such answer can come from a broker that has just restarted and not yet caught up with the cluster's
 * metadata, while a deleted topic stays unknown. A worker then gives up an ambiguous batch of it
 * (src/workers/batch-expiry.ts); the main thread forgets the topic, so a new send to it waits for its metadata
 * (bufferTimeoutMs) instead of being accepted (src/main/topic-registry.ts).
 */
export const DELETED_TOPIC_AFTER_MS = 30_000;
