/**
 * The client side of SCRAM (RFC 5802, with the SHA-256 and SHA-512 hashes of RFC 7677), as Kafka speaks it: no
 * channel binding (gs2 header `n,,`), no SASLprep (Kafka compares the bytes of the UTF-8 password), and a server
 * signature that must verify, or the server is not the one that holds our credentials.
 *
 *   client-first  n,,n=<user>,r=<client nonce>
 *   server-first  r=<client nonce><server nonce>,s=<salt, base64>,i=<iterations>
 *   client-final  c=biws,r=<nonce>,p=<ClientKey XOR HMAC(StoredKey, AuthMessage), base64>
 *   server-final  v=<HMAC(ServerKey, AuthMessage), base64>   or   e=<error>
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { AuthenticationError } from '../shared/producer-errors.js';

const pbkdf2Async = promisify(pbkdf2);

/** Node digest names; sha1 only for RFC 5802's own test vector. */
export type ScramDigest = 'sha1' | 'sha256' | 'sha512';

const KEY_BYTES: Record<ScramDigest, number> = { sha1: 20, sha256: 32, sha512: 64 };
/** Kafka refuses fewer (ScramMechanism.minIterations); a server asking fewer is not trusted either. */
const MIN_ITERATIONS = 4096;
/** Far above what any server uses; bounds the CPU a hostile server can make us burn. */
const MAX_ITERATIONS = 1_000_000;

/** `=` and `,` are escaped in a SCRAM user name (RFC 5802 §5.1). */
function saslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

function attributes(message: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) map.set(part[0]!, part.slice(2));
  }
  return map;
}

export class ScramClient {
  readonly #digest: ScramDigest;
  readonly #mechanism: string;
  readonly #password: string;
  readonly #nonce: string;
  readonly #clientFirstBare: string;
  #serverSignature: Buffer | undefined;

  /** `nonce` is for test vectors only; by default 24 random bytes, base64 (printable, no comma). */
  constructor(digest: ScramDigest, username: string, password: string, nonce = randomBytes(24).toString('base64')) {
    this.#digest = digest;
    this.#mechanism = `SCRAM-${digest.toUpperCase().replace('SHA', 'SHA-')}`;
    this.#password = password;
    this.#nonce = nonce;
    this.#clientFirstBare = `n=${saslName(username)},r=${nonce}`;
  }

  clientFirst(): string {
    return `n,,${this.#clientFirstBare}`;
  }

  /** Computes the proof for the server's challenge; rejects with AuthenticationError on a challenge that breaks the rules. */
  async clientFinal(serverFirst: string): Promise<string> {
    const attrs = attributes(serverFirst);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (attrs.has('e')) throw this.#failure(`the server refused: ${attrs.get('e')}`);
    if (nonce === undefined || !nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length) {
      throw this.#failure('the server nonce does not extend ours');
    }
    if (salt === undefined || salt.length === 0) throw this.#failure('the server sent no salt');
    if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
      throw this.#failure(`the server asked for ${attrs.get('i')} iterations (${MIN_ITERATIONS} to ${MAX_ITERATIONS} accepted)`);
    }
    const salted = await pbkdf2Async(this.#password, Buffer.from(salt, 'base64'), iterations, KEY_BYTES[this.#digest], this.#digest);
    const clientKey = this.#hmac(salted, 'Client Key');
    const storedKey = createHash(this.#digest).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = this.#hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.#serverSignature = this.#hmac(this.#hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Throws AuthenticationError unless the server proved it knows our salted password. */
  verifyServerFinal(serverFinal: string): void {
    const attrs = attributes(serverFinal);
    if (attrs.has('e')) throw this.#failure(`the server refused: ${attrs.get('e')}`);
    const expected = this.#serverSignature;
    const given = Buffer.from(attrs.get('v') ?? '', 'base64');
    if (expected === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw this.#failure('the server signature does not verify: the server does not know these credentials');
    }
  }

  #hmac(key: Buffer, text: string): Buffer {
    return createHmac(this.#digest, key).update(text).digest();
  }

  #failure(reason: string): AuthenticationError {
    return new AuthenticationError(`${this.#mechanism} authentication failed: ${reason}`);
  }
}
