/**
 * Hands a codec's output buffer back as soon as it has been copied into its batch, instead of at the worker's next
 * full collection.
 *
 * A worker allocates little JavaScript, so its collector seldom runs: over 1,000,000 records of 100B-lz4 on kfake it
 * ran 8 scavenges and 4 full collections. Until one runs, each batch's dead codec output stays allocated. lz4-napi's
 * outputs live in the addon's own allocator, and V8 learns of them only as external memory, whose limit
 * (64 MB beyond what the last full collection left) is what finally triggers a collection. In a loop that compressed
 * 1 MiB sections of random letters with the event loop turning in between, the process's resident set rose by
 * 157 MB. Detaching each output once copied freed it at once: 3–5 MB (Node 22 and 24, `node`).
 *
 * `ArrayBuffer.prototype.transfer` detaches; Node 22 and later have it. On Node 20 this does nothing, and the
 * outputs wait for the collector as before.
 */

interface Transferable {
  transfer?: (newLength?: number) => ArrayBuffer;
}

/**
 * Detaches the memory under `bytes` if it is `bytes`' own, whole: never a slice of Node's Buffer pool or of a larger
 * buffer, which other views may still read. `bytes` must not be read afterwards.
 */
export function releaseOutput(bytes: Uint8Array): void {
  const memory = bytes.buffer;
  if (bytes.byteOffset !== 0 || memory.byteLength !== bytes.byteLength) return;
  releaseMemory(memory);
}

/**
 * Detaches `memory`, freeing it at once where Node can (22 and later). Only for memory nothing reads any more, with no
 * view of it that anything will read again.
 */
export function releaseMemory(memory: ArrayBufferLike): void {
  const transferable = memory as ArrayBufferLike & Transferable;
  if (typeof transferable.transfer !== 'function') return;
  try {
    transferable.transfer(0);
  } catch {
    // Not detachable (a binding may pin its memory): the collector frees it, as without this call.
  }
}
