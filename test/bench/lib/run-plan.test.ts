import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePlan, runOrder, runSize, warmupCalls } from '../../../bench/lib/run-plan.js';

describe('resolvePlan', () => {
  it('gives the newcomer default without flags: 100,000 records after 300,000 of warm-up, median of 3, rate scenarios once for 10 s after 10 s', () => {
    const plan = resolvePlan({});
    assert.equal(plan.preset, 'default');
    assert.equal(plan.records, 100_000);
    assert.equal(plan.warmupRecords, 300_000);
    assert.equal(plan.repeats, 3);
    assert.equal(plan.rateRepeats, 1);
    assert.equal(plan.rateSeconds, 10);
    assert.equal(plan.rateWarmupSeconds, 10);
    assert.equal(plan.brokerWarmupSeconds, 30);
  });

  it('keeps the million-record runs behind --full', () => {
    const plan = resolvePlan({ full: true });
    assert.equal(plan.records, 1_000_000);
    assert.equal(plan.warmupRecords, 300_000);
    assert.equal(plan.rateRepeats, 3);
    assert.equal(plan.rateSeconds, 60);
    assert.equal(plan.rateWarmupSeconds, 15);
  });

  it('makes --quick shorter than the default', () => {
    const quick = resolvePlan({ quick: true });
    const normal = resolvePlan({});
    assert.ok(quick.records < normal.records);
    assert.ok(quick.repeats < normal.repeats);
    assert.ok(quick.rateSeconds < normal.rateSeconds);
    assert.equal(quick.rateWarmupSeconds, 2);
    assert.ok(quick.brokerWarmupSeconds > 0 && quick.brokerWarmupSeconds < normal.brokerWarmupSeconds);
  });

  it('lets --broker-warmup set the broker warm-up, 0 for none', () => {
    assert.equal(resolvePlan({ brokerWarmup: '0' }).brokerWarmupSeconds, 0);
    assert.equal(resolvePlan({ quick: true, brokerWarmup: '45' }).brokerWarmupSeconds, 45);
    assert.equal(resolvePlan({ full: true }).brokerWarmupSeconds, 30);
  });

  it('lets --records, --repeat and --rate-seconds override the preset; --repeat covers every scenario', () => {
    const plan = resolvePlan({ full: true, records: '500000', repeat: '2', rateSeconds: '7' });
    assert.equal(plan.records, 500_000);
    assert.equal(plan.warmupRecords, 300_000, 'never under 300,000, whatever --records says');
    assert.equal(resolvePlan({ records: '5000000' }).warmupRecords, 500_000, 'a tenth of a larger run');
    assert.equal(plan.repeats, 2);
    assert.equal(plan.rateRepeats, 2);
    assert.equal(plan.rateSeconds, 7);
  });

  it('lets --rate-warmup set the fixed-rate warm-up, whatever the preset and --rate-seconds', () => {
    assert.equal(resolvePlan({ rateWarmup: '3' }).rateWarmupSeconds, 3);
    assert.equal(resolvePlan({ quick: true, rateWarmup: '20' }).rateWarmupSeconds, 20);
    assert.equal(resolvePlan({ rateSeconds: '30' }).rateWarmupSeconds, 10, 'the preset\'s warm-up, not a share of --rate-seconds');
  });

  it('refuses what is not a positive integer, and --quick with --full', () => {
    assert.throws(() => resolvePlan({ records: '0' }), /--records/);
    assert.throws(() => resolvePlan({ repeat: '1.5' }), /--repeat/);
    assert.throws(() => resolvePlan({ rateSeconds: 'x' }), /--rate-seconds/);
    assert.throws(() => resolvePlan({ rateWarmup: '0' }), /--rate-warmup/);
    assert.throws(() => resolvePlan({ quick: true, full: true }), /exclude/);
    for (const bad of ['-1', '2.5', 'x', '']) assert.throws(() => resolvePlan({ brokerWarmup: bad }), /--broker-warmup must be a non-negative integer/, bad);
  });
});

describe('runSize', () => {
  const plan = resolvePlan({});

  it('gives a saturation scenario the plan’s records and a timeout that grows with its bytes', () => {
    const small = runSize({ valueBytes: 100 }, plan, 64);
    const large = runSize({ valueBytes: 1024 }, plan, 64);
    assert.deepEqual([small.records, small.warmupRecords, small.repeats, small.sampleEvery], [100_000, 300_000, 3, 64]);
    assert.equal(small.timeoutMs, 60_000 + 40_000);
    assert.ok(large.timeoutMs > small.timeoutMs);
  });

  it('caps a saturation warm-up at 100 MiB of values, never under 100,000 records', () => {
    assert.equal(runSize({ valueBytes: 1024 }, plan, 64).warmupRecords, 102_400, '1 KiB: 100 MiB of values');
    assert.equal(runSize({ valueBytes: 100 }, plan, 64).warmupRecords, 300_000, '100 B: the plan’s 300,000 (29 MiB)');
    assert.equal(runSize({ valueBytes: 10 * 1024 }, plan, 64).warmupRecords, 100_000, '10 KiB: the floor, though over the cap');
    const large = runSize({ valueBytes: 1024 }, plan, 64);
    assert.equal(large.timeoutMs, 60_000 + ((100_000 + 102_400) * 1024) / 1000, 'the timeout counts the capped warm-up');
  });

  it('gives a rate scenario rate × seconds, warm-up at the same rate, every record timed, its own repeats', () => {
    const size = runSize({ valueBytes: 100, rate: 20_000 }, plan, 64);
    assert.deepEqual([size.records, size.warmupRecords, size.repeats, size.sampleEvery], [200_000, 200_000, 1, 1]);
    assert.equal(size.timeoutMs, 60_000 + 40_000);
    assert.equal(runSize({ valueBytes: 1024, rate: 2000 }, resolvePlan({ rateSeconds: '3' }), 64).records, 6000);
  });
});

describe('warmupCalls', () => {
  it('sends the warm-up in two driver calls that cover its records once, in order, so the measured call is the third', () => {
    assert.deepEqual(warmupCalls(300_000), [{ from: 0, count: 150_000 }, { from: 150_000, count: 150_000 }]);
    assert.deepEqual(warmupCalls(102_401), [{ from: 0, count: 51_200 }, { from: 51_200, count: 51_201 }]);
  });

  it('makes one call of a single record and none of an empty warm-up', () => {
    assert.deepEqual(warmupCalls(1), [{ from: 0, count: 1 }]);
    assert.deepEqual(warmupCalls(0), []);
  });
});

describe('runOrder', () => {
  const clients = ['ringkafka', 'kafkajs', 'platformatic', 'franz-go', 'librdkafka', 'java', 'platformatic-2'];

  it('keeps the given order in the first repetition, and shuffles each later one the same way in every run', () => {
    assert.deepEqual(runOrder(clients, 0), clients);
    for (const repeat of [1, 2, 3]) {
      assert.deepEqual([...runOrder(clients, repeat)].sort(), [...clients].sort(), 'every client once');
      assert.deepEqual(runOrder(clients, repeat), runOrder(clients, repeat), 'the same order for the same repetition');
    }
    assert.notDeepEqual(runOrder(clients, 1), runOrder(clients, 2));
    assert.deepEqual(clients[0], 'ringkafka', 'the list itself is left as it was');
  });

  it('gives no client the same neighbour before it in all of the default three repetitions', () => {
    // Rotated, each repetition kept the circular order: librdkafka ran after franz-go in every one.
    const before = (order: readonly string[], client: string): string | undefined => order[order.indexOf(client) - 1];
    const orders = [0, 1, 2].map((repeat) => runOrder(clients, repeat));
    for (const client of clients) {
      const neighbours = orders.map((order) => before(order, client));
      assert.ok(!neighbours.every((n) => n === neighbours[0]), `${client} always after ${String(neighbours[0])}`);
    }
  });

  it('leaves one client, or none, as it is', () => {
    assert.deepEqual(runOrder(['ringkafka'], 5), ['ringkafka']);
    assert.deepEqual(runOrder([], 2), []);
  });
});
