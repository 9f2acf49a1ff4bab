/**
 * The bytes of one exchange: a request encoded into its frame, and an answer's frame decoded into its response. A
 * request is encoded at once, when it is made, into one buffer sized from the start (size placeholder, header and
 * body in one writer, then the size patched in place), so a request that cannot be encoded fails its own caller,
 * not the connection, and nothing is copied on its way to the socket.
 */
import type { ApiDefinition } from '../protocol/api.js';
import { readResponseHeaderRest, writeRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { ProtocolError } from '../shared/errors.js';

const DEFAULT_BODY_CAPACITY = 256;

export class RequestEncoder {
  readonly #clientId: string | null;
  /** Bytes of size prefix and request header, so a frame buffer is sized once. */
  readonly #headerBytes: number;

  constructor(clientId: string | null) {
    this.#clientId = clientId;
    this.#headerBytes = 4 + 10 + (clientId === null ? 0 : Buffer.byteLength(clientId)) + 1;
  }

  /** The frame as pieces to write in order (a Produce frame's record batches are their own pieces: Writer#chunks). */
  encode(api: ApiDefinition<unknown, unknown>, version: number, correlationId: number, request: unknown, sizeHint: number | undefined): Uint8Array[] {
    const writer = new Writer(this.#headerBytes + (sizeHint ?? DEFAULT_BODY_CAPACITY));
    writer.int32(0);
    writeRequestHeader(writer, api, version, correlationId, this.#clientId);
    api.encodeRequest(writer, version, request);
    writer.patchInt32(0, writer.length - 4);
    return writer.chunks();
  }
}

/**
 * Decodes an answer's frame, whose correlation id was matched already. Throws ProtocolError when it does not decode:
 * the frame boundaries held, but a broker that sends a malformed body cannot be trusted with the requests behind it.
 */
export function decodeResponse(api: ApiDefinition<unknown, unknown>, version: number, frame: Buffer): unknown {
  try {
    const reader = new Reader(frame, 4);
    readResponseHeaderRest(reader, api, version);
    return api.decodeResponse(reader, version);
  } catch (error) {
    throw error instanceof ProtocolError
      ? error
      : new ProtocolError(`cannot decode ${api.name} v${version} response`, { cause: error });
  }
}
