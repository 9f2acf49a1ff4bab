import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rateTimingOf, skippedRow, type RunRow } from '../../../bench/lib/clients.js';
import { medianRow, standingLine } from '../../../bench/lib/rows.js';

const row = (client: string, scenario: string, recordsPerSec: number, p99Ms: number): RunRow => ({
  client, scenario, recordsPerSec, mbPerSec: null, p50Ms: null, p99Ms, p999Ms: p99Ms * 2, cpuSecPerGB: null, rssMB: null, eventLoopDelayP99Ms: null,
});
const timing = (client: string) => rateTimingOf(client, 5);

describe('medianRow', () => {
  it('flat out: the median records/s stands, with the slowest and fastest beside it', () => {
    const median = medianRow([row('a', 's', 300, 1), row('a', 's', 100, 1), row('a', 's', 200, 1)], false);
    assert.equal(median.recordsPerSec, 200);
    assert.deepEqual([median.recordsPerSecMin, median.recordsPerSecMax, median.repeats], [100, 300, 3]);
  });

  it('at a fixed rate: the median p99 stands, and the range is still the lowest and highest records/s', () => {
    // ordered by p99 the records/s run 19,990, 20,010, 19,950: the ends of that order are neither extreme
    const runs = [row('a', 'r', 20_010, 5), row('a', 'r', 19_950, 3), row('a', 'r', 19_990, 9)];
    const median = medianRow(runs, true);
    assert.equal(median.p99Ms, 5);
    assert.deepEqual([median.recordsPerSecMin, median.recordsPerSecMax], [19_950, 20_010]);
  });

  it('counts failed repetitions beside the median, and reports a client whose every one failed as failed', () => {
    const failed = skippedRow('a', 's', 'run failed: x');
    const median = medianRow([failed, row('a', 's', 100, 1)], false);
    assert.deepEqual([median.recordsPerSec, median.failedRepeats, median.failure], [100, 1, 'run failed: x']);
    assert.equal(medianRow([failed], false), failed);
  });
});

describe('standingLine', () => {
  const rate = { name: 'rate-20k-100B', rate: 20_000 };
  const rows = [
    row('ringkafka', rate.name, 20_000, 6), row('java', rate.name, 20_000, 2), row('kafkajs', rate.name, 20_000, 3),
    row('franz-go', rate.name, 20_000, 8), row('librdkafka', rate.name, 20_000, 7), row('kafkajs-facade', rate.name, 20_000, 1),
  ];

  it("at a fixed rate compares ringkafka's p99 only with peers timed from the due time, naming the peer and its linger", () => {
    const line = standingLine(rate, rows, timing);
    assert.match(line, /ringkafka p99 6 ms, p99\.9 12 ms \(linger 5 ms\)/);
    // java's 2 ms is timed from send(), the facade is ringkafka: kafkajs is the lowest comparable, without a linger
    assert.match(line, /lowest p99 of the peers timed from the due time 3 ms \(kafkajs, no linger\)/);
    assert.match(line, /with its linger: 7 ms \(librdkafka, linger 5 ms\)/);
    assert.match(line, /not compared: java \(latency from send\(\)\)/);
  });

  it('names no second peer when the lowest one has the same linger, and says when there is nothing to compare', () => {
    const line = standingLine(rate, rows.filter((r) => r.client !== 'kafkajs'), timing);
    assert.match(line, /timed from the due time 7 ms \(librdkafka, linger 5 ms\); not compared: java/);
    assert.doesNotMatch(line, /with its linger/);
    assert.match(standingLine(rate, rows.filter((r) => ['ringkafka', 'java'].includes(r.client)), timing), /^rate-20k-100B: no comparison; not compared: java/);
  });

  it("flat out: ringkafka's records/s as a share of the fastest peer's, every peer counted", () => {
    const flat = [row('ringkafka', '100B-none', 500_000, 9), row('java', '100B-none', 1_000_000, 9), row('franz-go', '100B-none', 800_000, 9)];
    assert.equal(standingLine({ name: '100B-none' }, flat, timing), '100B-none: ringkafka 500,000 records/s = 50% of the fastest peer (java, 1,000,000)');
  });

  it('knows which clients time from the due time and which have a linger', () => {
    assert.deepEqual(timing('ringkafka (2 workers)'), { fromDueTime: true, lingerMs: 5 });
    assert.deepEqual(timing('java'), { fromDueTime: false, lingerMs: 5 });
    for (const client of ['kafkajs', 'platformatic', 'platformatic-2']) assert.deepEqual(timing(client), { fromDueTime: true, lingerMs: null }, client);
    for (const client of ['franz-go', 'librdkafka']) assert.deepEqual(timing(client), { fromDueTime: true, lingerMs: 5 }, client);
  });
});
