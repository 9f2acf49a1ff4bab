import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSummaryLine, perfFailure, producerPerformanceArgs, stderrFailure } from '../../../bench/lib/java-perf.js';
import type { ClientConfig } from '../../../bench/lib/contract.js';

// Printed by Kafka 4.3.1's ProducerPerformance on this machine (--warmup-records 100000, --num-records 300000).
const TOTAL =
  '300000 records sent, 35236.081748 records/sec (3.36 MB/sec), 91.74 ms avg latency, 1893.00 ms max latency, 63 ms 50th, 310 ms 95th, 365 ms 99th, 373 ms 99.9th.';
const STEADY =
  '200000 steady state records sent, 46264.168402 records/sec (4.41 MB/sec), 57.16 ms avg latency, 194.00 ms max latency, 42 ms 50th, 141 ms 95th, 187 ms 99th, 194 ms 99.9th.';

describe('ProducerPerformance summary lines', () => {
  it('reads the steady-state line', () => {
    assert.deepEqual(parseSummaryLine(STEADY), {
      steady: true, records: 200000, recordsPerSec: 46264.168402, avgMs: 57.16, maxMs: 194, p50Ms: 42, p95Ms: 141, p99Ms: 187, p999Ms: 194,
    });
  });

  it('tells the whole-run line apart', () => {
    assert.equal(parseSummaryLine(TOTAL)?.steady, false);
    assert.equal(parseSummaryLine(TOTAL)?.records, 300000);
  });

  it('ignores progress and warm-up lines', () => {
    assert.equal(parseSummaryLine('Warmup first 100000 records. Steady state results will print after the complete test summary.'), undefined);
    assert.equal(parseSummaryLine('152323 records sent, 30464.6 records/sec (2.91 MB/sec), 350.1 ms avg latency, 901.0 ms max latency.'), undefined);
  });
});

describe('ProducerPerformance arguments', () => {
  it('sends warm-up plus measured records and the shared settings', () => {
    const config: ClientConfig = {
      brokers: ['127.0.0.1:9092'], topic: 't', partitions: 16, scenario: { name: '100B-lz4', valueBytes: 100, compression: 'lz4' },
      records: 1000, warmupRecords: 100, payloadFile: '/tmp/p', lingerMs: 5, batchBytes: 1048576, bufferBytes: 67108864,
      bufferRecords: 1000000, chunkBytes: 1048576, sampleEvery: 64,
    };
    const args = producerPerformanceArgs(config);
    const at = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    assert.equal(at('--num-records'), '1100');
    assert.equal(at('--warmup-records'), '100');
    assert.equal(at('--throughput'), '-1');
    for (const setting of ['acks=all', 'enable.idempotence=true', 'linger.ms=5', 'batch.size=1048576', 'compression.type=lz4']) {
      assert.ok(args.includes(setting), setting);
    }
    assert.ok(!args.some((arg) => arg.startsWith('security.protocol=')), 'plaintext unless the scenario is TLS');
  });

  it('reaches the TLS listener with PEM files: the CA as truststore, key and certificate as one keystore file', () => {
    const config: ClientConfig = {
      brokers: ['127.0.0.1:9192'], topic: 't', partitions: 16, scenario: { name: '100B-lz4-tls', valueBytes: 100, compression: 'lz4', tls: true },
      records: 1000, warmupRecords: 100, payloadFile: '/tmp/p', lingerMs: 5, batchBytes: 1048576, bufferBytes: 67108864,
      bufferRecords: 1000000, chunkBytes: 1048576, sampleEvery: 64,
      tls: { ca: '/tls/ca.pem', cert: '/tls/client.pem', key: '/tls/client.key', keyAndCert: '/work/both.pem' },
    };
    const args = producerPerformanceArgs(config);
    for (const setting of [
      'security.protocol=SSL', 'ssl.truststore.type=PEM', 'ssl.truststore.location=/tls/ca.pem', 'ssl.keystore.type=PEM',
      'ssl.keystore.location=/work/both.pem',
    ]) {
      assert.ok(args.includes(setting), setting);
    }
  });
});

describe('a ProducerPerformance run that failed', () => {
  const asked = { warmupRecords: 100_000, records: 200_000 };
  // Printed for a record whose send failed (PerfCallback: exception.printStackTrace()); such a record is not counted.
  const EXPIRED = 'org.apache.kafka.common.errors.TimeoutException: Expiring 12 record(s) for t-3:120001 ms has passed since batch creation';
  const steady = (records: number): string => STEADY.replace(/^200000 /, `${records} `);
  const total = (records: number): string => TOTAL.replace(/^300000 /, `${records} `);

  it('is taken as printed when both summaries count every record asked and stderr reports no exception', () => {
    const stderr = 'WARNING: A terminally deprecated method in java.lang.System has been called\nERROR StatusLogger Log4j2 could not find a logging implementation.\n';
    assert.equal(perfFailure(['Warmup first 100000 records.', TOTAL, STEADY], stderr, asked), undefined);
  });

  it('fails when the summaries count fewer records than were sent or measured', () => {
    assert.match(perfFailure([total(299_988), steady(199_988)], '', asked)!, /acknowledged 299988 of the 300000 records sent/);
    assert.match(perfFailure([TOTAL, steady(199_988)], '', asked)!, /acknowledged 199988 of the 200000 measured records/);
  });

  it('fails on an exception on stderr, whatever the counts say', () => {
    assert.match(perfFailure([TOTAL, STEADY], `${EXPIRED}\n`, asked)!, /a send failed: org\.apache\.kafka\.common\.errors\.TimeoutException: Expiring/);
    assert.match(perfFailure([TOTAL, STEADY], 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n', asked)!, /OutOfMemoryError/);
  });

  it('fails without both summary lines', () => {
    assert.match(perfFailure([TOTAL], '', asked)!, /no steady-state summary line/);
    assert.match(perfFailure([STEADY], '', asked)!, /no whole-run summary line/);
  });

  it('tells exceptions from log and JVM lines on stderr', () => {
    assert.equal(stderrFailure(`\tat x.y(Z.java:1)\n${EXPIRED}\n`), EXPIRED);
    assert.equal(stderrFailure('java.lang.IllegalStateException\n'), 'java.lang.IllegalStateException');
    assert.equal(stderrFailure('ERROR StatusLogger No Log4j 2 configuration file found.\n'), undefined);
    assert.equal(stderrFailure('[2026-12-05 10:00:00,000] WARN [Producer clientId=perf-producer-client] Got error produce response (org.apache.kafka.clients.producer.internals.Sender)\n'), undefined);
  });
});
