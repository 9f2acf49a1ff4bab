import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokerUsPerRecord, processCpuSec } from '../../../bench/lib/broker-cpu.js';

describe('brokerUsPerRecord', () => {
  it('is the CPU seconds between the readings over the records, in µs per record', () => {
    assert.equal(brokerUsPerRecord(10, 12.5, 1_000_000), 2.5);
    assert.equal(brokerUsPerRecord(3, 3, 400_000), 0);
  });

  it('says nothing without both readings, without records, or when the reading went backwards (another process)', () => {
    assert.equal(brokerUsPerRecord(undefined, 5, 100), undefined);
    assert.equal(brokerUsPerRecord(5, undefined, 100), undefined);
    assert.equal(brokerUsPerRecord(5, 6, 0), undefined);
    assert.equal(brokerUsPerRecord(6, 5, 100), undefined);
  });
});

describe('processCpuSec', () => {
  it('reads a live process\'s CPU seconds (Linux only), and nothing for no pid or a pid that is not there', { skip: process.platform !== 'linux' }, () => {
    const own = processCpuSec(process.pid);
    assert.ok(own !== undefined && own > 0, String(own));
    assert.equal(processCpuSec(undefined), undefined);
    assert.equal(processCpuSec(2 ** 30), undefined);
  });
});
