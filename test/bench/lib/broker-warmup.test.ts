import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { warmBroker } from '../../../bench/lib/broker-warmup.js';
import { Topics } from '../../../bench/lib/topics.js';
import { metadata, uniqueTopic, useBroker } from '../../helpers/broker.js';

const UNKNOWN_TOPIC_OR_PARTITION = 3;

describe('warmBroker (against the real broker)', () => {
  let brokers: string[];
  let topics: Topics;
  before(async () => {
    brokers = await useBroker();
    topics = await Topics.connect(brokers);
  });
  after(() => topics.close());

  it('produces round by round through the scenarios’ shapes, every record acknowledged, and deletes its topic', async () => {
    const topic = uniqueTopic('bench-warmup');
    const rounds = await warmBroker(brokers, topics, topic, 0.9, { roundMs: 300 });
    assert.deepEqual(rounds.map((r) => r.shape), ['100B-none', '100B-lz4', '1KiB-lz4']);
    for (const r of rounds) {
      assert.ok(r.records > 0, `${r.shape}: records sent`);
      assert.ok(r.recordsPerSec > 0, `${r.shape}: a rate`);
    }
    // The deletion reaches the broker's metadata cache after DeleteTopics answers: asked at once, it may still be listed.
    let code: number | undefined;
    for (const giveUpAt = Date.now() + 30_000; code !== UNKNOWN_TOPIC_OR_PARTITION && Date.now() < giveUpAt; ) {
      code = (await metadata([topic])).topics[0]?.errorCode;
      if (code !== UNKNOWN_TOPIC_OR_PARTITION) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(code, UNKNOWN_TOPIC_OR_PARTITION, 'the scratch topic is gone');
  });
});
