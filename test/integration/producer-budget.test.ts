/**
 * The byte budget with the real producer and the real broker (invariant 1, docs/invariants.md: no lost wake-ups under a
 * byte limit; FIFO; a large record is never starved; a new send never overtakes queued waiters). The budget's own
 * unit tests are in test/main/byte-budget.test.ts; here the releases come from real acknowledgements, one per
 * batch, through the workers and the completion ring.
 *
 * Every record goes to partition 0 of a one-partition topic, so the offsets the broker assigned are the order the
 * records entered the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Producer } from '../../src/main/producer.js';
import type { RecordMetadata } from '../../src/main/types.js';
import { createTopic, uniqueTopic, useBroker } from '../helpers/broker.js';
import { consume, until } from '../helpers/readback.js';

let brokers: string[];
const open = new Set<Producer>();

/** A producer closed after the test whatever happens, so no worker thread keeps the process alive. */
function producer(options: ConstructorParameters<typeof Producer>[0]): Producer {
  const p = new Producer({ brokers, ...options });
  open.add(p);
  return p;
}

async function closeAll(): Promise<void> {
  await Promise.allSettled([...open].map((p) => p.close({ timeoutMs: 10_000 })));
  open.clear();
}

/** A value of exactly `bytes` accounted bytes (no key, no headers), tagged so the console consumer shows which. */
function value(tag: string, bytes: number): string {
  assert.ok(tag.length <= bytes);
  return tag + '.'.repeat(bytes - tag.length);
}

describe('byte budget with the real producer', { timeout: 120_000 }, () => {
  before(async () => {
    brokers = await useBroker();
  });
  after(closeAll);

  test('lost wake-up: budget 100, records of 100, 50 and 50 sent at once are all delivered, in order', async () => {
    const topic = uniqueTopic('budget-wakeup');
    await createTopic(topic, 1);
    // A linger far beyond the test: A leaves its worker only because B and C wait (workers stop lingering while
    // anyone waits), not because a timer ran out.
    const p = producer({ maxBufferedBytes: 100, lingerMs: 60_000, workers: 1, clientId: 'budget-wakeup' });
    const a = p.send({ topic, partition: 0, value: value('A', 100) });
    const b = p.send({ topic, partition: 0, value: value('B', 50) });
    const c = p.send({ topic, partition: 0, value: value('C', 50) });

    // The whole budget goes to A: B and C wait, and their waiting is what sends A.
    await until(() => p.metrics().recordsSent === 1, 'A delivered while B and C wait');
    // One release of A's 100 bytes must grant both B and C (the bug: one wake-up for one waiter, C never woken).
    const granted = p.metrics();
    assert.equal(granted.waiters, 0, 'no send left waiting after A freed its bytes');
    assert.equal(granted.bufferedBytes, 100, 'B and C hold 50 bytes each');

    const done = await Promise.all([a, b, c, p.flush()]);
    const [ra, rb, rc] = done.slice(0, 3) as RecordMetadata[];
    assert.deepEqual([ra!.partition, rb!.partition, rc!.partition], [0, 0, 0]);
    assert.ok(ra!.offset < rb!.offset && rb!.offset < rc!.offset, `offsets in send order: ${ra!.offset}, ${rb!.offset}, ${rc!.offset}`);
    assert.equal(p.metrics().bufferedBytes, 0);
    await p.close();

    const read = await consume(brokers, topic, 3);
    assert.deepEqual(read.map((r) => [r.offset, r.value[0], r.value.length]), [
      [ra!.offset, 'A', 100],
      [rb!.offset, 'B', 50],
      [rc!.offset, 'C', 50],
    ]);
  });

  test('a large record near the budget is delivered, not overtaken by a flood of small records sent after it', async () => {
    const topic = uniqueTopic('budget-starve');
    await createTopic(topic, 1);
    const budget = 10_000;
    const p = producer({ maxBufferedBytes: budget, workers: 1, clientId: 'budget-starve' });
    await p.send({ topic, partition: 0, value: 'warm-up' }); // connected, topic known: no await left in send's way

    // Fill 9000 of the 10 000 bytes, then ask for 9000 more: the large record must wait for real acknowledgements,
    // while every small record after it would fit in the 1000 bytes left. Only FIFO keeps them behind it.
    const fill = Array.from({ length: 90 }, (_, i) => p.send({ topic, partition: 0, value: value(`fill-${i}`, 100) }));
    const large = p.send({ topic, partition: 0, value: value('large', 9000) });
    let largeSettled = false;
    void large.then(() => (largeSettled = true), () => (largeSettled = true));

    // The flood: always 64 small records outstanding, replaced as they complete, for as long as the large one has
    // no result (capped so a starving budget fails the test instead of running forever).
    const cap = 5_000;
    const flood: Promise<RecordMetadata>[] = [];
    await new Promise<void>((resolve) => {
      let outstanding = 0;
      const next = (): void => {
        while (!largeSettled && flood.length < cap && outstanding < 64) {
          outstanding++;
          const sent = p.send({ topic, partition: 0, value: value(`flood-${flood.length}`, 100) });
          flood.push(sent);
          sent.finally(() => {
            outstanding--;
            next();
          }).catch(() => undefined);
        }
        if (largeSettled || flood.length >= cap) resolve();
      };
      next();
      void large.finally(() => resolve()).catch(() => undefined);
    });

    const largeResult = await large;
    assert.equal(largeResult.partition, 0);
    assert.ok(flood.length < cap, `the large record got its result before the flood ran out (${flood.length} small sends)`);
    const fillResults = await Promise.all(fill);
    const floodResults = await Promise.all(flood);
    await p.flush();
    for (const r of fillResults) assert.ok(r.offset < largeResult.offset, `fill record at ${r.offset} before the large one at ${largeResult.offset}`);
    floodResults.forEach((r, i) => {
      assert.ok(r.offset > largeResult.offset, `flood record ${i} (offset ${r.offset}), sent after the waiting large record, overtook it (offset ${largeResult.offset})`);
    });
    assert.equal(p.metrics().bufferedBytes, 0);
    assert.equal(p.metrics().waiters, 0);
  });

  test('records sent while others wait for buffer space keep send order', async () => {
    const topic = uniqueTopic('budget-order');
    await createTopic(topic, 1);
    // Room for 10 records: nearly every send waits, and new sends keep arriving while releases grant old ones.
    const p = producer({ maxBufferedBytes: 1000, workers: 1, clientId: 'budget-order' });
    const total = 3000;
    const results: RecordMetadata[] = new Array(total);
    let issued = 0;
    // Eight independent callers, each sending its next record as soon as its previous one has a result; the
    // index is taken when `send` is called, so the order of the calls is the order of the indexes.
    const caller = async (): Promise<void> => {
      while (issued < total) {
        const index = issued++;
        results[index] = await p.send({ topic, partition: 0, value: value(`#${index}`, 100) });
      }
    };
    // And one that sends in bursts, without waiting for results, so calls also land between releases.
    const burster = async (): Promise<void> => {
      while (issued < total) {
        const sends: Promise<void>[] = [];
        for (let i = 0; i < 5 && issued < total; i++) {
          const index = issued++;
          sends.push(p.send({ topic, partition: 0, value: value(`#${index}`, 100) }).then((r) => void (results[index] = r)));
        }
        await Promise.race(sends);
        await Promise.all(sends);
      }
    };
    await Promise.all([...Array.from({ length: 8 }, caller), burster()]);
    for (let i = 1; i < total; i++) {
      if (!(results[i]!.offset > results[i - 1]!.offset)) {
        assert.fail(`send ${i} was called after send ${i - 1} but landed at offset ${results[i]!.offset}, before ${results[i - 1]!.offset}`);
      }
    }
  });

  test('maxBufferedRecords: with room for 2 records, 50 sends at once are all delivered in order', async () => {
    const topic = uniqueTopic('budget-records');
    await createTopic(topic, 1);
    const p = producer({ maxBufferedRecords: 2, workers: 1, clientId: 'budget-records' });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => p.send({ topic, partition: 0, value: `r${i}` })));
    results.forEach((r, i) => assert.equal(r.offset, results[0]!.offset + i, `record ${i} in order`));
    assert.equal(p.metrics().bufferedRecords, 0);
  });
});
