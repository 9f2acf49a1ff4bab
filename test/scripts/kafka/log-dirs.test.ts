import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryPlaceProblem, memoryRoot, nodeLogDir, parseLogDirPlace } from '../../../scripts/kafka/log-dirs.js';

describe('--log-dirs', () => {
  it('accepts disk and memory', () => {
    assert.equal(parseLogDirPlace('disk'), 'disk');
    assert.equal(parseLogDirPlace('memory'), 'memory');
  });

  it('rejects anything else, naming what it accepts', () => {
    for (const text of ['', 'tmpfs', 'Memory', '/dev/shm']) assert.throws(() => parseLogDirPlace(text), /must be one of disk, memory/, text);
  });
});

describe('nodeLogDir', () => {
  it('keeps the logs beside the node on disk', () => {
    assert.equal(nodeLogDir('disk', 2, '/repo/.kafka/node-2', '/dev/shm/ringkafka-kafka-x'), '/repo/.kafka/node-2/data');
  });

  it('keeps them under the checkout\'s tmpfs folder in memory, one folder per node', () => {
    assert.equal(nodeLogDir('memory', 1, '/repo/.kafka/node-1', '/dev/shm/ringkafka-kafka-x'), '/dev/shm/ringkafka-kafka-x/node-1');
    assert.equal(nodeLogDir('memory', 3, '/repo/.kafka/node-3', '/dev/shm/ringkafka-kafka-x'), '/dev/shm/ringkafka-kafka-x/node-3');
  });
});

describe('memoryRoot', () => {
  it('gives two checkouts two folders, and one checkout the same folder each time', () => {
    assert.equal(memoryRoot('/work/a', '/dev/shm'), memoryRoot('/work/a', '/dev/shm'));
    assert.notEqual(memoryRoot('/work/a', '/dev/shm'), memoryRoot('/work/b', '/dev/shm'));
    assert.match(memoryRoot('/work/a', '/dev/shm'), /^\/dev\/shm\/ringkafka-kafka-[0-9a-f]{12}$/);
  });
});

describe('memoryPlaceProblem', () => {
  it('accepts a folder, and names the flag and the path when there is none or it is a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shm-'));
    try {
      assert.equal(memoryPlaceProblem(dir), undefined);
      assert.match(memoryPlaceProblem(join(dir, 'missing')) ?? '', /--log-dirs memory .*missing/);
      writeFileSync(join(dir, 'file'), '');
      assert.match(memoryPlaceProblem(join(dir, 'file')) ?? '', /--log-dirs memory .*file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
