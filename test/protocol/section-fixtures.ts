/** Inputs for the codec tests: compressible text and incompressible noise of any size, the same on every run. */

/** Compressible: JSON-like lines. */
export function text(size: number): Buffer {
  let s = '';
  for (let i = 0; s.length < size; i++) s += `{"i":${i},"user":"u${(i * 7919) % 1000}","ok":${i % 3 === 0}}\n`;
  return Buffer.from(s.slice(0, size));
}

/** Incompressible: xorshift bytes from `seed`. */
export function noise(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
