/** WaitingSlice and WaitingSlices: the positions of a call's records that wait for buffer space, in reused lists. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallRecords } from '../../src/main/call-records.js';
import { WaitingSlice, WaitingSlices } from '../../src/main/waiting-slice.js';

describe('WaitingSlice', () => {
  it('keeps positions in order, past its first list', () => {
    const slice = new WaitingSlice();
    for (let i = 0; i < 1000; i++) slice.add(3 * i); // beyond the 256 it starts with
    assert.equal(slice.length, 1000);
    for (let i = 0; i < 1000; i++) assert.equal(slice.positionAt(i), 3 * i);
  });
});

describe('WaitingSlices', () => {
  it('hands a slice out for a call, takes it back emptied, and reuses it', () => {
    const slices = new WaitingSlices();
    const call = new CallRecords(4);
    const slice = slices.take(call);
    assert.equal(slice.call, call);
    slice.add(2);
    slices.give(slice);
    assert.equal(slice.length, 0, 'emptied when given back');
    assert.equal(slice.call, undefined, 'and no longer holds the call (nor its records)');
    const other = new CallRecords(1);
    const again = slices.take(other);
    assert.equal(again, slice, 'reused');
    assert.equal(again.call, other);
    assert.notEqual(slices.take(call), slice, 'handed out once');
  });

  it('keeps at most 64 slices to reuse', () => {
    const slices = new WaitingSlices();
    const call = new CallRecords(1);
    const many = Array.from({ length: 70 }, () => slices.take(call));
    for (const slice of many) slices.give(slice);
    const again = new Set(Array.from({ length: 70 }, () => slices.take(call)));
    assert.equal([...again].filter((slice) => many.includes(slice)).length, 64);
  });
});
