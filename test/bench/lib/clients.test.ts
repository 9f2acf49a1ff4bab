import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { callBytes, callPlan, GcWatch, MemoryWatch } from '../../../bench/clients/harness.js';
import { clientBundle } from '../../../bench/lib/client-bundles.js';
import { CLIENTS, ringkafkaWithWorkers, runOne, slug, standingOf } from '../../../bench/lib/clients.js';
import type { ClientConfig, Scenario } from '../../../bench/lib/contract.js';
import { writeKeyFile } from '../../../bench/lib/payload.js';

const base: ClientConfig = {
  brokers: ['127.0.0.1:9092'], topic: 't', partitions: 16, scenario: { name: '100B-lz4', valueBytes: 100, compression: 'lz4' },
  records: 1000, warmupRecords: 100, payloadFile: '/tmp/p', lingerMs: 5, batchBytes: 1048576, bufferBytes: 67108864,
  bufferRecords: 1000000, chunkBytes: 1048576, sampleEvery: 64,
};
const tls = { ca: '/tls/ca.pem', cert: '/tls/client.pem', key: '/tls/client.key', keyAndCert: '/w/both.pem' };
const client = (name: string) => CLIENTS.find((c) => c.name === name)!;

describe('--workers', () => {
  it('names one ringkafka row per worker count, and topic names stay plain', () => {
    assert.equal(ringkafkaWithWorkers(1).name, 'ringkafka (1 worker)');
    assert.equal(ringkafkaWithWorkers(4).name, 'ringkafka (4 workers)');
    assert.equal(ringkafkaWithWorkers(4).workers, 4);
    assert.equal(slug('ringkafka (4 workers)'), 'ringkafka-4-workers');
  });

  it('runs @platformatic/kafka 2.x with the 1.x driver, told its install', () => {
    const one = client('platformatic').command(base).args;
    const two = client('platformatic-2').command(base).args;
    assert.equal(two.at(-1), 'platformatic-2');
    assert.equal(two.at(-3), one.at(-2));
    assert.equal(client('platformatic-2').setup, 'platformatic-2');
  });

  it('preloads the thread tagger into the Node clients, so worker threads can be told apart', () => {
    const { args } = ringkafkaWithWorkers(2).command(base);
    assert.match(args[1]!, /^file:.*thread-tag\.mjs$/);
    assert.equal(args[0], '--import');
  });

  it('runs every Node client from its bundle, as plain JavaScript without tsx, once the drivers are bundled', () => {
    for (const name of ['ringkafka', 'kafkajs', 'kafkajs-facade', 'platformatic', 'platformatic-2']) {
      const spec = client(name);
      const { args } = spec.command(base);
      assert.ok(!args.includes('tsx'), name);
      assert.equal(args[2], clientBundle(name.startsWith('platformatic') ? 'platformatic' : name === 'ringkafka' ? 'ringkafka' : 'kafkajs'), name);
      assert.notEqual(spec.setup, 'none', `${name} has a setup step that bundles the drivers`);
    }
  });
});

describe('keys and TLS reach every peer', () => {
  const keyed: ClientConfig = { ...base, keysFile: '/w/keys.txt', tls };

  it('franz-go gets -keys-file and the three PEM files', () => {
    const { args } = client('franz-go').command(keyed);
    const at = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    assert.equal(at('-keys-file'), '/w/keys.txt');
    assert.equal(at('-tls-ca'), '/tls/ca.pem');
    assert.equal(at('-tls-cert'), '/tls/client.pem');
    assert.equal(at('-tls-key'), '/tls/client.key');
    assert.ok(!client('franz-go').command(base).args.includes('-keys-file'));
  });

  it('librdkafka gets 16 arguments, "-" for what a scenario does not use, rate 0 for flat out', () => {
    assert.deepEqual(client('librdkafka').command(keyed).args.slice(11), ['/w/keys.txt', '/tls/ca.pem', '/tls/client.pem', '/tls/client.key', '0']);
    assert.deepEqual(client('librdkafka').command(base).args.slice(11), ['-', '-', '-', '-', '0']);
  });
});

describe('a fixed offered rate reaches every peer', () => {
  const paced: ClientConfig = { ...base, scenario: { ...base.scenario, rate: 20_000 } };

  it('franz-go gets -rate, and none without one', () => {
    const { args } = client('franz-go').command(paced);
    assert.equal(args[args.indexOf('-rate') + 1], '20000');
    assert.ok(!client('franz-go').command(base).args.includes('-rate'));
  });

  it('librdkafka gets the rate as its last argument', () => {
    assert.equal(client('librdkafka').command(paced).args.at(-1), '20000');
  });

  it("runs Java's ProducerPerformance at a fixed rate only, with --throughput, and the bench's driver flat out", () => {
    const java = client('java');
    const { args } = java.command(paced);
    assert.ok(args.includes('org.apache.kafka.tools.ProducerPerformance'));
    assert.equal(args[args.indexOf('--throughput') + 1], '20000');
    assert.equal(java.setupFor!(paced.scenario), 'java', 'a Java runtime and the tools jar are enough');
    const flatOut = java.command(base).args;
    assert.ok(flatOut.includes('ProducerPeer') && !flatOut.includes('--throughput'));
    assert.equal(java.setupFor!(base.scenario), 'java-driver', 'the driver is compiled first');
  });

  it("gives Java's driver ProducerPerformance's settings as properties, no transactions and the latency sampling", () => {
    const { args } = client('java').command({ ...base, tls });
    const at = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    const properties = args.flatMap((arg, i) => (args[i - 1] === '--property' ? [arg] : []));
    for (const setting of ['acks=all', 'enable.idempotence=true', 'linger.ms=5', 'batch.size=1048576', 'compression.type=lz4', 'buffer.memory=67108864', 'ssl.keystore.location=/w/both.pem']) {
      assert.ok(properties.includes(setting), setting);
    }
    assert.ok(!properties.some((p) => p.startsWith('transactional.id=')));
    assert.ok(!args.includes('--transaction-records'));
    assert.equal(at('--sample-every'), '64');
    assert.equal(at('--records'), '1000');
    assert.equal(at('--warmup'), '100');
  });

  it('Java is skipped for keys at a fixed rate only (ProducerPerformance has none), with the reason; its driver sends them', () => {
    const scenario = (extra: Partial<Scenario>): Scenario => ({ name: 's', valueBytes: 100, compression: 'lz4', ...extra });
    assert.equal(client('java').cannot!(scenario({ keys: 1000 })), undefined);
    assert.match(client('java').cannot!(scenario({ keys: 1000, rate: 2000 }))!, /ProducerPerformance sends no keys/);
    const args = client('java').command({ ...base, keysFile: '/w/keys.txt' }).args;
    assert.equal(args[args.indexOf('--keys-file') + 1], '/w/keys.txt');
    assert.ok(!client('java').command(base).args.includes('--keys-file'));
    assert.equal(client('java').cannot!(scenario({ tls: true })), undefined);
    assert.equal(client('java').cannot!(scenario({ partitions: 1 })), undefined);
  });
});

describe('per-call clients', () => {
  it('keep a call at most half a batch per partition', () => {
    assert.equal(callBytes(base), 1048576);
    assert.equal(callBytes({ ...base, partitions: 1 }), 524288);
  });
});

describe('callPlan (--call-records)', () => {
  it('gives ~1 MiB calls by default, 64 of them outstanding: 64 MiB, as the native clients buffer', () => {
    assert.deepEqual(callPlan(base, base.chunkBytes), { perCall: 10_485, window: 64 });
    const kib = { ...base, scenario: { ...base.scenario, valueBytes: 1024 } };
    assert.deepEqual(callPlan(kib, base.chunkBytes), { perCall: 1024, window: 64 });
    const onePartition = { ...base, partitions: 1 };
    assert.deepEqual(callPlan(onePartition, callBytes(onePartition), callBytes(onePartition)), { perCall: 5242, window: 128 });
  });

  it('takes the asked size, keeping 64 MiB outstanding, but never over the cap of a call that is the batch', () => {
    const small = { ...base, callRecords: 100 };
    assert.deepEqual(callPlan(small, base.chunkBytes), { perCall: 100, window: 6710 });
    const large = { ...base, callRecords: 50_000, partitions: 1 };
    assert.equal(callPlan(large, base.chunkBytes).perCall, 50_000, 'ringkafka: no cap');
    assert.equal(callPlan(large, callBytes(large), callBytes(large)).perCall, 5242, 'KafkaJS on one partition: half a batch');
  });

  it('leaves fixed-rate runs alone: the records due make a call there', () => {
    const rate = { ...base, callRecords: 100, scenario: { ...base.scenario, rate: 20_000 } };
    assert.deepEqual(callPlan(rate, callBytes(rate), callBytes(rate)), callPlan(base, callBytes(base), callBytes(base)));
  });
});

describe('writeKeyFile', () => {
  it('writes distinct keys, one a line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    try {
      const lines = readFileSync(writeKeyFile(dir, 1000), 'utf8').trim().split('\n');
      assert.equal(lines.length, 1000);
      assert.equal(new Set(lines).size, 1000);
      assert.equal(lines[7], 'key-0000007');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the transactional scenario', () => {
  const txn: ClientConfig = { ...base, topic: 'bench-x', scenario: { name: '100B-txn', valueBytes: 100, compression: 'lz4', transactionRecords: 10_000 } };

  it('runs Java through its own driver, compiled apart, with a count per transaction instead of ProducerPerformance', () => {
    const java = client('java');
    assert.equal(java.setupFor!(txn.scenario), 'java-driver');
    const { args } = java.command(txn);
    const at = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    assert.ok(args.includes('ProducerPeer'));
    assert.ok(!args.includes('--throughput'));
    assert.equal(at('--transaction-records'), '10000');
    assert.ok(args.includes('transactional.id=bench-x-txn'));
    assert.equal(at('--records'), '1000');
    assert.equal(at('--warmup'), '100');
  });

  it('gives franz-go the count and a transactional id of its own run', () => {
    const { args } = client('franz-go').command(txn);
    assert.equal(args[args.indexOf('-transaction-records') + 1], '10000');
    assert.equal(args[args.indexOf('-transactional-id') + 1], 'bench-x-txn');
    assert.ok(!client('franz-go').command(base).args.includes('-transactional-id'));
  });

  it('skips the clients without a transactional driver, with the reason, and only for that scenario', () => {
    for (const name of ['kafkajs', 'platformatic', 'platformatic-2', 'librdkafka']) {
      assert.match(client(name).cannot!(txn.scenario)!, /no transactional driver/, name);
      assert.equal(client(name).cannot!(base.scenario), undefined, name);
    }
    assert.equal(client('ringkafka').cannot, undefined, 'ringkafka decides at run time (unsupported in a build without transactions)');
  });
});

describe('the main thread\'s waits and pauses', () => {
  it('turns a report\'s main-thread wait for a CPU into a share of the run, and keeps its GC pauses', async () => {
    const report = {
      records: 1000, bytes: 100_000, elapsedMs: 2000, p50Ms: 1, p99Ms: 2, cpuSec: 1, rssMB: 100, eventLoopDelayP99Ms: 12, eventLoopDelayOwnP99Ms: 3, errors: 0, settings: [],
      mainGc: { count: 3, totalMs: 21, maxMs: 11 },
      memory: { startRssMB: 60, rssMB: 300, heapUsedMB: 120, heapTotalMB: 150, arrayBuffersMB: 40 },
      threads: { mainCpuSec: 0.5, workerCpuSec: [0.3], otherCpuSec: 0.2, mainElu: 0.9, mainWaitSec: 0.5, source: 'schedstat' },
    };
    const fake = { name: 'fake', setup: 'none' as const, node: true, command: () => ({ command: process.execPath, args: ['-e', `console.log(${JSON.stringify(JSON.stringify(report))})`] }) };
    const { row } = await runOne(fake, base, 30_000);
    assert.equal(row.mainWaitShare, 0.25);
    assert.equal(row.mainGcMaxMs, 11);
    assert.equal(row.mainGcTotalMs, 21);
    assert.equal(row.eventLoopDelayP99Ms, 12);
    assert.equal(row.eventLoopDelayOwnP99Ms, 3, 'the delay less the wait for a CPU, as the client measured it');
    assert.equal(row.startRssMB, 60);
    assert.equal(row.peakSampleRssMB, 300);
    assert.equal(row.peakHeapMB, 150, 'the heap reserved at the peak, garbage included, is what the resident set holds');
    assert.equal(row.peakArrayBuffersMB, 40);
  });

  it('counts this thread\'s garbage-collection pauses while it watches', async () => {
    const watch = new GcWatch();
    // A second observer says when a collection's entry has been delivered (entries come after the pause, on a later
    // turn): short-lived garbage is made until then, so no fixed wait decides the outcome on a loaded machine.
    let collected = false;
    const witness = new PerformanceObserver(() => { collected = true; });
    witness.observe({ entryTypes: ['gc'] });
    let last: unknown[] = [];
    for (let round = 0; round < 200 && !collected; round++) {
      for (let i = 0; i < 200_000; i++) last = [i, []]; // dropped at once: young garbage, scavenges
      await new Promise((resolve) => setImmediate(resolve));
    }
    witness.disconnect();
    assert.ok(collected && last.length === 2, 'no collection was seen at all');
    const pauses = watch.stop();
    assert.ok(pauses.count > 0, JSON.stringify(pauses));
    assert.ok(pauses.maxMs > 0 && pauses.maxMs <= pauses.totalMs, JSON.stringify(pauses));
  });

  it('keeps the memory of the sample with the largest resident set, whichever sample that was', () => {
    const MiB = 1024 * 1024;
    const usage = (rss: number, heapTotal: number, arrayBuffers: number): NodeJS.MemoryUsage =>
      ({ rss: rss * MiB, heapTotal: heapTotal * MiB, heapUsed: heapTotal * MiB / 2, external: 0, arrayBuffers: arrayBuffers * MiB });
    for (const [readings, peak] of [
      [[usage(100, 40, 10), usage(300, 150, 30)], { rssMB: 300, heapTotalMB: 150, heapUsedMB: 75, arrayBuffersMB: 30 }],
      [[usage(300, 150, 30), usage(200, 90, 20)], { rssMB: 300, heapTotalMB: 150, heapUsedMB: 75, arrayBuffersMB: 30 }],
    ] as const) {
      const next = [...readings];
      const memory = new MemoryWatch(60 * MiB, () => next.shift()!).stop(); // one reading at the start, one at stop
      assert.deepEqual(memory, { startRssMB: 60, ...peak });
    }
  });

  it('samples on its own while it watches', { timeout: 10_000 }, async () => {
    let reads = 0;
    const watch = new MemoryWatch(0, () => {
      reads++;
      return process.memoryUsage();
    });
    // Waits for the sampler's readings (the one at construction, then one every 50 ms), however slow the machine:
    // a sampler that never runs fails this test at its timeout.
    while (reads < 4) await new Promise((resolve) => setTimeout(resolve, 50));
    const before = reads;
    watch.stop();
    assert.equal(reads, before + 1, 'stop takes one last reading, and the sampler stops');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(reads, before + 1, 'no reading after stop');
  });
});

describe('the standings', () => {
  it('compare ringkafka with the other clients, never with ringkafka behind the KafkaJS API', () => {
    assert.equal(standingOf('ringkafka'), 'ours');
    assert.equal(standingOf(ringkafkaWithWorkers(2).name), 'ours');
    assert.equal(standingOf('kafkajs-facade'), 'neither', 'the facade is ringkafka: no peer to beat');
    for (const peer of ['kafkajs', 'platformatic', 'platformatic-2', 'franz-go', 'librdkafka', 'java']) {
      assert.ok(CLIENTS.some((c) => c.name === peer), `${peer} is a client of the bench`);
      assert.equal(standingOf(peer), 'peer', peer);
    }
  });
});
