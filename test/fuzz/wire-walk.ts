/**
 * The few places in real Kafka messages the hostile proxy needs to find, walked by hand (independently of the
 * producer's decoders): the broker ports in a Metadata answer, the record counts in a Produce request.
 */

/** A read position in a frame, with the few Kafka encodings the walks below step over. */
class Cursor {
  constructor(
    readonly frame: Buffer,
    public pos: number,
  ) {}

  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.frame[this.pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  }

  int16(): number {
    return this.frame.readInt16BE((this.pos += 2) - 2);
  }

  int32(): number {
    return this.frame.readInt32BE((this.pos += 4) - 4);
  }

  /** Tagged fields of a flexible version: skipped whole. */
  skipTags(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.pos += this.uvarint();
    }
  }

  /** A string, bytes or array length: compact (uvarint + 1) in flexible versions, else int16 or int32. */
  length(flexible: boolean, classic: 'int16' | 'int32'): number {
    return flexible ? this.uvarint() - 1 : classic === 'int16' ? this.int16() : this.int32();
  }

  /**
   * Steps over a string or bytes: its length, then that many bytes (none for null, -1). Never written as
   * `pos += length(...)`: `+=` reads `pos` before `length` moves it past the length field, and every walk then
   * landed a field or two early (the proxy wrote its port over the host's last byte, so no producer behind it
   * ever connected).
   */
  skipSized(flexible: boolean, classic: 'int16' | 'int32'): void {
    const length = this.length(flexible, classic);
    this.pos += Math.max(0, length);
  }
}

/**
 * Metadata answers name the broker; the producer must come back to the proxy instead. Each broker's port is
 * overwritten in place (same size), walking the answer's header, throttle time and brokers array.
 */
export function patchBrokerPorts(frame: Buffer, version: number, flexible: boolean, port: number): void {
  const c = new Cursor(frame, 8); // size, correlation id
  if (flexible) c.skipTags();
  if (version >= 3) c.pos += 4; // throttle_time_ms
  const count = c.length(flexible, 'int32');
  for (let i = 0; i < count; i++) {
    c.pos += 4; // node_id
    c.skipSized(flexible, 'int16'); // host
    frame.writeInt32BE(port, c.pos);
    c.pos += 4;
    c.skipSized(flexible, 'int16'); // rack (-1: null)
    if (flexible) c.skipTags();
  }
}

/**
 * Records per partition in a Produce request (v3+): the request header, then transactional_id, acks, timeout and
 * the topics; each partition's records are one RecordBatch whose record count is the int32 at byte 57.
 */
export function produceCounts(frame: Buffer, version: number): Map<number, number> {
  const flexible = version >= 9;
  const c = new Cursor(frame, 8); // api key, version, correlation id
  c.skipSized(false, 'int16'); // client_id keeps its int16 length in header v2
  if (flexible) c.skipTags();
  c.skipSized(flexible, 'int16'); // transactional_id
  c.pos += 2 + 4; // acks, timeout_ms
  const counts = new Map<number, number>();
  const topics = c.length(flexible, 'int32');
  for (let t = 0; t < topics; t++) {
    if (version >= 13) c.pos += 16;
    else c.skipSized(flexible, 'int16');
    const partitions = c.length(flexible, 'int32');
    for (let p = 0; p < partitions; p++) {
      const index = c.int32();
      const length = c.length(flexible, 'int32');
      if (length >= 61) counts.set(index, frame.readInt32BE(c.pos + 57));
      c.pos += Math.max(0, length);
      if (flexible) c.skipTags();
    }
    if (flexible) c.skipTags();
  }
  return counts;
}
