/**
 * The few places in real Kafka messages the hostile proxy needs to find, walked by hand (independently of the
 * producer's decoders): the broker ports in a Metadata answer, the record counts in a Produce request.
 */

/**
 * Metadata answers name the broker; the producer must come back to the proxy instead. Each broker's port is
 * overwritten in place (same size), walking the answer's header, throttle time and brokers array.
 */
export function patchBrokerPorts(frame: Buffer, version: number, flexible: boolean, port: number): void {
  let pos = 8; // size, correlation id
  const uvarint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = frame[pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  const skipTags = (): void => {
    const count = uvarint();
    for (let i = 0; i < count; i++) {
      uvarint();
      const size = uvarint();
      pos += size;
    }
  };
  const int16 = (): number => frame.readInt16BE((pos += 2) - 2);
  const int32 = (): number => frame.readInt32BE((pos += 4) - 4);
  if (flexible) skipTags();
  if (version >= 3) pos += 4; // throttle_time_ms
  const count = flexible ? uvarint() - 1 : int32();
  for (let i = 0; i < count; i++) {
    pos += 4; // node_id
    const host = flexible ? uvarint() - 1 : int16();
    pos += host;
    frame.writeInt32BE(port, pos);
    pos += 4;
    const rack = flexible ? uvarint() - 1 : int16(); // -1: null
    pos += Math.max(0, rack);
    if (flexible) skipTags();
  }
}

/**
 * Records per partition in a Produce request (v3+): the request header, then transactional_id, acks, timeout and
 * the topics; each partition's records are one RecordBatch whose record count is the int32 at byte 57.
 */
export function produceCounts(frame: Buffer, version: number): Map<number, number> {
  const flexible = version >= 9;
  let pos = 8; // api key, version, correlation id
  const uvarint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = frame[pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  const skipTags = (): void => {
    const count = uvarint();
    for (let i = 0; i < count; i++) {
      uvarint();
      const size = uvarint();
      pos += size;
    }
  };
  const int16 = (): number => frame.readInt16BE((pos += 2) - 2);
  const int32 = (): number => frame.readInt32BE((pos += 4) - 4);
  const skipString = (compact: boolean): void => {
    const length = compact ? uvarint() - 1 : int16();
    pos += Math.max(0, length);
  };
  skipString(false); // client_id keeps its int16 length in header v2
  if (flexible) skipTags();
  skipString(flexible); // transactional_id
  pos += 2 + 4; // acks, timeout_ms
  const counts = new Map<number, number>();
  const topics = flexible ? uvarint() - 1 : int32();
  for (let t = 0; t < topics; t++) {
    if (version >= 13) pos += 16;
    else skipString(flexible);
    const partitions = flexible ? uvarint() - 1 : int32();
    for (let p = 0; p < partitions; p++) {
      const index = int32();
      const length = flexible ? uvarint() - 1 : int32();
      if (length >= 61) counts.set(index, frame.readInt32BE(pos + 57));
      pos += Math.max(0, length);
      if (flexible) skipTags();
    }
    if (flexible) skipTags();
  }
  return counts;
}
