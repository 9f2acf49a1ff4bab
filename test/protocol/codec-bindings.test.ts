import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const src = (path: string): string => new URL(`../../src/${path}`, import.meta.url).href;

/**
 * Runs `body` (an ES module's text, with `loaded()` in scope) in a fresh Node process, where nothing has mapped a
 * native addon yet, and returns what it printed. `loaded()` names the addons mapped into that process, read
 * from the process report's shared objects: what the kernel has mapped, not what a module cache remembers.
 */
function inFreshProcess(body: string): string {
  const script = `
    // Addons only (.node files), so a shared library of Node's own (a distribution's libzstd) is not counted.
    const addons = ['lz4-napi', 'snappy', 'zstd', 'msgpackr-extract'];
    const loaded = () => {
      const mapped = process.report.getReport().sharedObjects.filter((path) => path.endsWith('.node'));
      return addons.filter((name) => mapped.some((path) => path.includes(name)))
        .map((name) => name === 'lz4-napi' ? 'lz4' : name).join(',') || '-';
    };
    ${body}`;
  // A file, not --eval: worker threads inherit the process's flags, and --input-type would stop them starting.
  const dir = mkdtempSync(join(tmpdir(), 'ringkafka-codec-bindings-'));
  try {
    const file = join(dir, 'probe.mjs');
    writeFileSync(file, script);
    const child = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    return child.stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('codec bindings are loaded when a codec needs them', () => {
  it('maps no codec addon on import, then only the one each codec uses', () => {
    const out = inFreshProcess(`
      const c = await import(${JSON.stringify(src('protocol/compression.ts'))});
      await import(${JSON.stringify(src('protocol/record-batch.ts'))});
      const bindings = await import(${JSON.stringify(src('protocol/codec-bindings.ts'))});
      const section = Buffer.alloc(4096, 'abcd');
      const steps = ['import ' + loaded()];
      c.compressNow(c.Codec.none, section);
      await c.compress(c.Codec.gzip, section);
      bindings.loadCodecBinding(c.Codec.none);
      bindings.loadCodecBinding(c.Codec.gzip);
      steps.push('none,gzip ' + loaded());
      bindings.loadCodecBinding(c.Codec.lz4);
      steps.push('lz4 ' + loaded());
      const snappy = c.compressNow(c.Codec.snappy, section);
      steps.push('snappy ' + loaded());
      const zstd = await c.compress(c.Codec.zstd, section);
      steps.push('zstd ' + loaded());
      const back = [await c.decompress(c.Codec.snappy, snappy), await c.decompress(c.Codec.zstd, zstd)];
      steps.push('round trips ' + back.every((b) => b.equals(section)));
      console.log(steps.join(' | '));`);
    assert.equal(out, 'import - | none,gzip - | lz4 lz4 | snappy lz4,snappy | zstd lz4,snappy,zstd | round trips true');
  });

  it('decompressing loads the codec it reads, and no other', () => {
    const out = inFreshProcess(`
      const c = await import(${JSON.stringify(src('protocol/compression.ts'))});
      const frame = Buffer.from('04224d18604082' + '0a000080' + '30313233343536373839' + '00000000', 'hex');
      const text = (await c.decompress(c.Codec.lz4, frame)).toString();
      console.log(text + ' ' + loaded());`);
    assert.equal(out, '0123456789 lz4');
  });

  it('a binding that cannot load is a ConfigError naming the compression and the package', () => {
    const out = inFreshProcess(`
      const { default: Module } = await import('node:module');
      const load = Module._load;
      Module._load = function (request, ...rest) {
        if (request === 'lz4-napi') throw new Error('no build for this platform');
        return load.call(this, request, ...rest);
      };
      const bindings = await import(${JSON.stringify(src('protocol/codec-bindings.ts'))});
      const c = await import(${JSON.stringify(src('protocol/compression.ts'))});
      const errors = [];
      try { bindings.loadCodecBinding(c.Codec.lz4); } catch (err) { errors.push(err.code + ': ' + err.message); }
      await c.decompress(c.Codec.lz4, Buffer.from('04224d1860408200000000', 'hex')).catch((err) => errors.push(err.code));
      console.log(errors.join(' | '));`);
    assert.equal(out, 'ERR_CONFIG: compression lz4 needs the lz4-napi package, which did not load: no build for this platform | ERR_CONFIG');
  });

  it("a producer's worker loads its compression's binding when it starts, before any record, and no other", () => {
    const out = inFreshProcess(`
      const { FakeBroker } = await import(${JSON.stringify(new URL('../helpers/fake-broker.ts', import.meta.url).href)});
      const { Producer } = await import(${JSON.stringify(src('main/index.ts'))});
      const broker = await FakeBroker.start(1);
      const producer = new Producer({ brokers: [broker.address], workers: 1, compression: 'snappy' });
      const before = loaded();
      await producer.connect();
      const started = loaded();
      await producer.close();
      await broker.close();
      console.log(before + ' ' + started);`);
    assert.equal(out, '- snappy');
  });

  it("importing the package's entries maps no native addon: msgpackr without its unpacking extension, no codec", () => {
    const out = inFreshProcess(`
      const { Producer } = await import(${JSON.stringify(src('main/index.ts'))});
      await import(${JSON.stringify(src('kafkajs/index.ts'))});
      await import(${JSON.stringify(src('otel/index.ts'))});
      const { prepareRecord } = await import(${JSON.stringify(src('main/serialize.ts'))});
      const before = loaded();
      const value = prepareRecord({ topic: 't', value: { a: 1, b: 'two' } }, 'msgpack', 0).value;
      console.log(typeof Producer + ' ' + before + ' ' + Buffer.from(value).toString('hex') + ' ' + loaded());`);
    // 0xde 0x0002: a map of two (msgpackr writes map16 headers unless told variableMapSize); 'a' 1, 'b' 'two'.
    assert.equal(out, 'function - de0002a16101a162a374776f -');
  });
});
