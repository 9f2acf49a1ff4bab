import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbortError, BufferTimeoutError, DeliveryTimeoutError } from '../../src/shared/producer-errors.js';

test('a buffer timeout says the record was not sent, so a caller can resend it without duplicating it', () => {
  const error = new BufferTimeoutError('no buffer space');
  assert.equal(error.delivery, 'not-sent');
  assert.equal(error.code, 'ERR_BUFFER_TIMEOUT');
  assert.equal(error.retriable, true);
});

test('abort and delivery timeout carry the delivery they are given', () => {
  assert.equal(new AbortError('unknown', 'aborted').delivery, 'unknown');
  assert.equal(new DeliveryTimeoutError('not-sent', 'late').delivery, 'not-sent');
});
