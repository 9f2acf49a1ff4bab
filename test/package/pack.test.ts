/**
 * The package as users get it: `npm pack`, installed into an empty project, imported with plain ESM, required from
 * CommonJS and with TypeScript (`moduleResolution: nodenext`) — the types resolve, a send reaches the real broker —
 * and its `ringkafka` command runs. Only what `files` and `exports` publish is used: nothing from this repository's tree.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { ensureDist } from '../helpers/build-dist.js';
import { consume } from '../helpers/readback.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    // The timeout only turns a hang into a failure; it measures nothing.
    execFile(file, args, { cwd, env, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

/** A tsconfig in the user project that compiles `file` alone, strictly, with `moduleResolution: nodenext`. */
function writeTsconfig(name: string, file: string): void {
  writeFileSync(join(project, name), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
    files: [file],
  }));
}

let project: string;
let brokers: string[];

before(async () => {
  brokers = await useBroker();
  const build = await ensureDist();
  assert.equal(build.code, 0, `build: ${build.output}`);
  const packs = mkdtempSync(join(tmpdir(), 'ringkafka-pack-'));
  const pack = await run(NPM, ['pack', '--json', '--pack-destination', packs], ROOT);
  assert.equal(pack.code, 0, `npm pack: ${pack.stderr}`);
  const [{ filename }] = JSON.parse(pack.stdout) as [{ filename: string }];
  project = mkdtempSync(join(tmpdir(), 'ringkafka-user-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  // The dependencies come from npm's cache when this machine already installed them (npm ci did).
  const install = await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packs, filename)], project);
  assert.equal(install.code, 0, `npm install: ${install.stderr}`);
}, { timeout: 600_000 });

test('the tarball holds the built library, its types, the command, the licence, the docs and the changelog, and none of the sources or tests', () => {
  const manifest = JSON.parse(readFileSync(join(project, 'node_modules/ringkafka/package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(manifest.bin.ringkafka, 'dist/src/cli/main.js');
  const listed = readFileSync(join(project, 'node_modules/ringkafka/dist/src/main/index.d.ts'), 'utf8');
  assert.match(listed, /export \{ Producer \}/);
  assert.match(readFileSync(join(project, 'node_modules/ringkafka/LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
  // The README's links to docs/ and the changelog resolve in the installed package too (they are all the reference
  // there is beyond the type declarations' doc comments).
  for (const linked of new Set(readFileSync(join(ROOT, 'README.md'), 'utf8').match(/docs\/[\w-]+\.md/g))) {
    assert.ok(readFileSync(join(project, 'node_modules/ringkafka', linked), 'utf8').length > 0, linked);
  }
  assert.match(readFileSync(join(project, 'node_modules/ringkafka/CHANGELOG.md'), 'utf8'), /^# Changelog/);
  assert.throws(() => readFileSync(join(project, 'node_modules/ringkafka/src/main/index.ts')), /ENOENT/);
  assert.throws(() => readFileSync(join(project, 'node_modules/ringkafka/test/package/pack.test.ts')), /ENOENT/);
});

test('every source map carries the TypeScript it maps to, since the sources are not in the tarball', () => {
  const dist = join(project, 'node_modules/ringkafka/dist');
  const maps = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.js.map'));
  assert.ok(maps.length > 100, `only ${maps.length} source maps`);
  for (const name of maps) {
    const map = JSON.parse(readFileSync(join(dist, name), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    assert.equal(map.sourcesContent?.length, map.sources.length, `${name}: no sourcesContent (a debugger or --enable-source-maps finds no source)`);
    for (const content of map.sourcesContent!) assert.ok(typeof content === 'string' && content.length > 0, `${name}: an empty source`);
  }
});

test('ESM import and TypeScript with nodenext: types resolve, a send reaches the broker, the command runs', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('pack');
  await createTopic(topic, 1);
  writeFileSync(join(project, 'send.mjs'), `
import { Producer } from 'ringkafka';
const producer = new Producer({ brokers: ${JSON.stringify(brokers)}, clientId: 'pack-test' });
const metadata = await producer.send({ topic: ${JSON.stringify(topic)}, value: 'from-esm' });
await producer.close();
console.log(JSON.stringify(metadata));
`);
  writeFileSync(join(project, 'send.mts'), `
import { Producer, KafkaProducerError, type LateOutcome, type RecordMetadata, type ProducerOptions } from 'ringkafka';
const options: ProducerOptions = { brokers: ${JSON.stringify(brokers)}, compression: 'lz4' };
const producer = new Producer(options);
// Typed events: each listener's arguments are known, and a misspelt name does not compile.
producer.on('lateOutcome', (outcome: LateOutcome) => console.error(outcome.topic, outcome.metadata?.offset, outcome.error?.message));
producer.on('workerCrash', (error, index) => console.error(error, index.toFixed(0)));
// @ts-expect-error: there is no such event
producer.on('deliveryErorr', () => undefined);
// Every error's delivery reads without a cast (undefined on the errors that settle no record).
const resendable = (error: unknown): boolean => error instanceof KafkaProducerError && error.delivery === 'not-sent';
const metadata: RecordMetadata = await producer.send({ topic: ${JSON.stringify(topic)}, value: 'from-ts' });
await producer.close();
console.log(metadata.offset >= 0 && KafkaProducerError.name === 'KafkaProducerError' && !resendable(new Error()) ? 'ok' : 'bad');
`);
  writeTsconfig('tsconfig.json', 'send.mts');
  const esm = await run(process.execPath, ['send.mjs'], project);
  assert.equal(esm.code, 0, esm.stderr);
  assert.equal((JSON.parse(esm.stdout) as { topic: string }).topic, topic);
  const compiled = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
  assert.equal(compiled.code, 0, `tsc: ${compiled.stdout}`);
  const typed = await run(process.execPath, [join('out', 'send.mjs')], project);
  assert.equal(typed.code, 0, typed.stderr);
  assert.equal(typed.stdout.trim(), 'ok');
  const help = await run(join(project, 'node_modules/.bin/ringkafka'), ['perf', '--help'], project);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: ringkafka perf/);
  assert.deepEqual((await consume(brokers, topic, 2)).map((r) => r.value).sort(), ['from-esm', 'from-ts']);
});

test('CommonJS require and TypeScript .cts: ringkafka and ringkafka/kafkajs load, types resolve, a send reaches the broker', { timeout: 300_000 }, async () => {
  // The exports had only an "import" condition: a CommonJS service (as many KafkaJS ones are) type-checked and then
  // failed at its first line with ERR_PACKAGE_PATH_NOT_EXPORTED. Node loads the ES modules through require() (20.19+).
  const topic = uniqueTopic('pack-cjs');
  await createTopic(topic, 1);
  writeFileSync(join(project, 'send.cts'), `
import { Producer, KafkaProducerError, type RecordMetadata } from 'ringkafka';
import { Kafka } from 'ringkafka/kafkajs';
async function main(): Promise<void> {
  const producer = new Producer({ brokers: ${JSON.stringify(brokers)} });
  const metadata: RecordMetadata = await producer.send({ topic: ${JSON.stringify(topic)}, value: 'from-cjs' });
  await producer.close();
  const loaded = typeof Kafka === 'function' && KafkaProducerError.name === 'KafkaProducerError';
  console.log(metadata.offset >= 0 && loaded ? 'ok' : 'bad');
}
void main();
`);
  writeTsconfig('tsconfig.cjs.json', 'send.cts');
  const compiled = await run(process.execPath, [TSC, '-p', 'tsconfig.cjs.json'], project);
  assert.equal(compiled.code, 0, `tsc: ${compiled.stdout}`);
  assert.match(readFileSync(join(project, 'out', 'send.cjs'), 'utf8'), /require\("ringkafka"\)/, 'compiled to require()');
  const ran = await run(process.execPath, [join('out', 'send.cjs')], project);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout.trim(), 'ok');
  assert.deepEqual((await consume(brokers, topic, 1)).map((r) => r.value), ['from-cjs']);
});

test('ringkafka/kafkajs: the KafkaJS facade imports from the tarball, types resolve, a send reaches the broker', { timeout: 300_000 }, async () => {
  const topic = uniqueTopic('pack-kafkajs');
  await createTopic(topic, 1);
  writeFileSync(join(project, 'kafkajs.mts'), `
import { Kafka, CompressionTypes, KafkaJSError, type RecordMetadata } from 'ringkafka/kafkajs';
const kafka = new Kafka({ clientId: 'pack-test', brokers: ${JSON.stringify(brokers)} });
const producer = kafka.producer();
await producer.connect();
const result: RecordMetadata[] = await producer.send({ topic: ${JSON.stringify(topic)}, compression: CompressionTypes.None, messages: [{ key: 'k', value: 'from-kafkajs' }] });
await producer.disconnect();
console.log(result[0]?.baseOffset === '0' && new KafkaJSError('x').retriable ? 'ok' : 'bad');
`);
  writeTsconfig('tsconfig.kafkajs.json', 'kafkajs.mts');
  const compiled = await run(process.execPath, [TSC, '-p', 'tsconfig.kafkajs.json'], project);
  assert.equal(compiled.code, 0, `tsc: ${compiled.stdout}`);
  const ran = await run(process.execPath, [join('out', 'kafkajs.mjs')], project);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout.trim(), 'ok');
  assert.deepEqual((await consume(brokers, topic, 1)).map((r) => r.value), ['from-kafkajs']);
});
