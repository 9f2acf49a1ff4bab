import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cells, HEADERS, idleRow, loopDelayMs, ndjsonBody, skippedRow, summarize, type LoadResult, type ServerReport } from '../../../bench/ingest/summary.js';

const server: ServerReport = { eventLoopDelayP99Ms: 3.5, eventLoopDelayMaxMs: 12, cpuSec: 4, peakRssMB: 200 };
const load = (over: Partial<LoadResult> = {}): LoadResult => ({ duration: 10, '2xx': 2_000, non2xx: 0, errors: 0, latency: { p50: 7, p99: 40 }, ...over });

describe('ndjsonBody', () => {
  it('writes the asked number of distinct JSON lines of exactly the asked size', () => {
    const lines = ndjsonBody(100, 100).split('\n');
    assert.equal(lines.pop(), '', 'the body ends with a newline');
    assert.equal(lines.length, 100);
    for (const line of lines) assert.equal(Buffer.byteLength(line), 100);
    assert.deepEqual(lines.map((line) => (JSON.parse(line) as { n: number }).n), Array.from({ length: 100 }, (_, n) => n));
  });

  it('refuses a size too small for a line', () => {
    assert.throws(() => ndjsonBody(1, 10), RangeError);
    assert.equal(ndjsonBody(1, 17), '{"n":0,"pad":""}\n'.replace('""', '"x"'));
  });
});

describe('loopDelayMs', () => {
  it('takes the sampling interval off and never goes below 0', () => {
    assert.equal(loopDelayMs(13_500_000, 10), 3.5);
    assert.equal(loopDelayMs(9_000_000, 10), 0);
  });
});

describe('summarize', () => {
  it('counts acknowledged requests only, per second of the load, with records per request', () => {
    const row = summarize('ringkafka', 'max', load({ non2xx: 500 }), 100, server);
    assert.equal(row.requestsPerSec, 200);
    assert.equal(row.recordsPerSec, 20_000);
    assert.equal(row.cpuUsPerRecord, 20);
    assert.deepEqual([row.client, row.load, row.p50Ms, row.p99Ms, row.eventLoopDelayP99Ms], ['ringkafka', 'max', 7, 40, 3.5]);
    assert.equal(row.note, '500 non-2xx, 0 errors');
  });

  it('has no rates for a load that did not run and no CPU per record without records', () => {
    const row = summarize('kafkajs', '100 req/s', load({ duration: 0, '2xx': 0 }), 100, server);
    assert.equal(row.requestsPerSec, null);
    assert.equal(row.recordsPerSec, null);
    assert.equal(row.cpuUsPerRecord, null);
    assert.equal(row.note, '');
  });
});

describe('idleRow', () => {
  it("has the server's figures and no load figures", () => {
    const row = idleRow('ringkafka', server);
    assert.deepEqual([row.load, row.eventLoopDelayP99Ms, row.eventLoopDelayMaxMs, row.cpuSec, row.peakRssMB, row.note], ['idle', 3.5, 12, 4, 200, '']);
    assert.deepEqual([row.requestsPerSec, row.recordsPerSec, row.p99Ms, row.cpuUsPerRecord], [null, null, null, null]);
  });
});

describe('cells', () => {
  it('gives one cell per header, numbers formatted, dashes for what was not measured', () => {
    const row = cells(summarize('ringkafka', 'max', load({ '2xx': 20_000 }), 100, server));
    assert.equal(row.length, HEADERS.length);
    assert.equal(row[HEADERS.indexOf('records/s')], '200,000');
    const skipped = cells(skippedRow('platformatic', '—', 'npm ci failed'));
    assert.equal(skipped[HEADERS.indexOf('records/s')], '—');
    assert.equal(skipped.at(-1), 'skipped: npm ci failed');
  });
});
