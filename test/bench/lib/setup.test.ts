import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goVersionOf, librdkafkaNeeds, nodeAtLeast, noGoReason } from '../../../bench/lib/setup.js';

describe('librdkafkaNeeds', () => {
  const all = { gcc: true, headers: true, apt: true, root: true };

  it('needs nothing when gcc and the headers are there', () => {
    assert.equal(librdkafkaNeeds(all), undefined);
  });

  it('installs librdkafka-dev itself as root with apt-get', () => {
    assert.deepEqual(librdkafkaNeeds({ ...all, headers: false }), { install: ['librdkafka-dev'] });
    assert.deepEqual(librdkafkaNeeds({ ...all, gcc: false, headers: false }), { install: ['gcc', 'librdkafka-dev'] });
  });

  it('tells a user without root the exact command, with sudo', () => {
    const needs = librdkafkaNeeds({ ...all, headers: false, root: false });
    assert.deepEqual(needs, { reason: 'librdkafka headers are missing: run `sudo apt-get install -y librdkafka-dev` and rerun' });
  });

  it('names both missing pieces, and the package manager when there is no apt-get', () => {
    const needs = librdkafkaNeeds({ gcc: false, headers: false, apt: false, root: true });
    assert.ok(needs !== undefined && 'reason' in needs);
    assert.match(needs.reason, /^gcc is not on PATH and librdkafka headers are missing: install gcc and librdkafka-dev/);
    assert.doesNotMatch(needs.reason, /apt-get/);
  });
});

describe('Go missing', () => {
  it("reads the oldest Go from go.mod's go directive and says it", () => {
    const goMod = 'module x\n\ngo 1.26.0\n\nrequire y v1\n';
    assert.equal(goVersionOf(goMod), '1.26.0');
    assert.match(noGoReason(goMod), /install Go 1\.26\.0 or later .* add its bin directory to PATH/);
    assert.equal(goVersionOf('module x\n'), undefined);
  });
});

describe('nodeAtLeast (@platformatic/kafka 2.x needs Node >= 22.22)', () => {
  it('compares major, minor and patch as numbers, with or without the v', () => {
    assert.equal(nodeAtLeast('v20.20.2', '22.22.0'), false);
    assert.equal(nodeAtLeast('v22.9.0', '22.22.0'), false);
    assert.equal(nodeAtLeast('v22.22.0', '22.22.0'), true);
    assert.equal(nodeAtLeast('22.22.1', '22.22.0'), true);
    assert.equal(nodeAtLeast('v24.1.0', '22.22.0'), true);
    assert.equal(nodeAtLeast('v22.21.9', '22.22.0'), false);
  });
});
