import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveryOptions } from '../../src/cli/delivery-flags.js';
import { UsageError } from '../../src/cli/args.js';

test('--acks maps to the producer\'s acks; 1 and 0 turn idempotence off, which needs acks all', () => {
  assert.deepEqual(deliveryOptions({}), {});
  assert.deepEqual(deliveryOptions({ acks: 'all' }), { acks: 'all' });
  assert.deepEqual(deliveryOptions({ acks: '-1' }), { acks: 'all' });
  assert.deepEqual(deliveryOptions({ acks: '1' }), { acks: 1, idempotent: false });
  assert.deepEqual(deliveryOptions({ acks: '0' }), { acks: 0, idempotent: false });
  assert.throws(() => deliveryOptions({ acks: '2' }), (error: unknown) => error instanceof UsageError && /--acks/.test(error.message));
});

test('--batch-bytes is batchMaxBytes, a positive integer', () => {
  assert.deepEqual(deliveryOptions({ 'batch-bytes': '16384' }), { batchMaxBytes: 16384 });
  assert.throws(() => deliveryOptions({ 'batch-bytes': '1.5' }), (error: unknown) => error instanceof UsageError && /--batch-bytes/.test(error.message));
  assert.throws(() => deliveryOptions({ 'batch-bytes': '0' }), (error: unknown) => error instanceof UsageError && /--batch-bytes/.test(error.message));
});
