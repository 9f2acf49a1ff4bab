/** DeliveryTable: record ids, their columns, and the delivery-timeout sweep order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryTable } from '../../src/main/delivery-table.js';
import { DetachedSettler } from '../../src/main/settlers.js';

const settler = new DetachedSettler(() => {});

/** Allocates an id and fills what the sweep reads, as the settlement does on accept. */
function add(table: DeliveryTable, seq: number, deadline: number): number {
  const id = table.allocate();
  table.sendSeq[id] = seq;
  table.deadline[id] = deadline;
  table.attach(id, settler, undefined);
  table.track(id);
  return id;
}

describe('DeliveryTable', () => {
  it('hands out every id once, then -1; a freed id is handed out again', () => {
    const table = new DeliveryTable(3);
    const ids = [add(table, 1, 0), add(table, 2, 0), add(table, 3, 0)];
    assert.deepEqual(ids, [0, 1, 2]);
    assert.equal(table.count, 3);
    assert.equal(table.allocate(), -1);
    assert.equal(table.count, 3, 'a refused allocation counts nothing');
    table.free(1);
    assert.equal(table.count, 2);
    assert.equal(table.settlerOf(1), undefined);
    assert.equal(table.sendSeq[1], -1);
    assert.equal(table.allocate(), 1);
  });

  it('live lists the ids in use, in id order', () => {
    const table = new DeliveryTable(4);
    for (let seq = 1; seq <= 4; seq++) add(table, seq, 0);
    table.free(0);
    table.free(2);
    assert.deepEqual(table.live(), [1, 3]);
  });

  it('expired returns, oldest first, the ids past their deadline whose caller still waits, each once', () => {
    const table = new DeliveryTable(8);
    const a = add(table, 1, 100);
    const b = add(table, 2, 200);
    const c = add(table, 3, 300);
    table.detach(b); // released early: nothing left to expire
    const out: number[] = [];
    table.expired(250, out);
    assert.deepEqual(out, [a]);
    table.expired(250, (out.length = 0, out));
    assert.deepEqual(out, [], 'not returned twice');
    table.expired(1000, out);
    assert.deepEqual(out, [c]);
  });

  it('a reused id is not expired for the record that held it before', () => {
    const table = new DeliveryTable(1);
    const old = add(table, 1, 100);
    table.free(old);
    const reused = add(table, 2, 500);
    assert.equal(reused, old);
    const out: number[] = [];
    table.expired(200, out);
    assert.deepEqual(out, [], 'the stale sweep entry (seq 1) is skipped; the new record is not due');
    table.expired(600, out);
    assert.deepEqual(out, [reused]);
  });

  it('the sweep keeps send order when its ring is compacted and grows while its head is mid-ring', () => {
    // Capacity 32 gives a sweep ring of 32 entries; stale entries (freed ids) keep their place until swept or dropped.
    const table = new DeliveryTable(32);
    const out: number[] = [];
    let seq = 0;
    // Move the ring's head to slot 20: twenty records come and go, each swept past once its id was freed.
    for (let i = 0; i < 20; i++) table.free(add(table, ++seq, 1000 + seq));
    table.expired(0, out);
    assert.deepEqual(out, [], 'nothing due');
    assert.equal(table.sweepSlots, 32);
    // 26 records stay outstanding; 4 more are freed and added again 5 times: 46 entries from slot 20 on, past the 32
    // slots: the ring wraps, drops its stale entries, and with more than three quarters of it still outstanding, doubles.
    const deadlines = new Map<number, number>();
    for (let i = 0; i < 26; i++) {
      const id = add(table, ++seq, 2000 + seq);
      deadlines.set(id, 2000 + seq);
    }
    let churn: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (const id of churn) {
        table.free(id);
        deadlines.delete(id);
      }
      churn = [];
      for (let i = 0; i < 4; i++) {
        const id = add(table, ++seq, 2000 + seq);
        deadlines.set(id, 2000 + seq);
        churn.push(id);
      }
    }
    assert.equal(table.sweepSlots, 64);
    table.expired(2000 + seq - 2, out);
    const due = [...deadlines].filter(([, deadline]) => deadline <= 2000 + seq - 2).sort((x, y) => x[1] - y[1]).map(([id]) => id);
    assert.deepEqual(out, due, 'the outstanding records due, oldest first; every stale entry skipped');
    table.expired(Infinity, (out.length = 0, out));
    assert.deepEqual(out, [...deadlines].sort((x, y) => x[1] - y[1]).map(([id]) => id).filter((id) => !due.includes(id)));
  });

  it('the sweep ring stays within its first size while one record stays outstanding and a million others come and go', () => {
    // One record not due for long (a partition whose leader is away) holds the sweep's head: every entry after it
    // stays until the head passes. The ring drops the stale ones (freed ids) instead of keeping them all.
    const table = new DeliveryTable(64);
    const stuck = add(table, 1, 1e12);
    let seq = 1;
    for (let i = 0; i < 1_000_000; i++) table.free(add(table, ++seq, 1000 + seq));
    assert.equal(table.sweepSlots, 64, 'at most two records outstanding at once: the stale entries are dropped, not kept')
    const late = [add(table, ++seq, 5), add(table, ++seq, 6)];
    const out: number[] = [];
    table.expired(10, out);
    assert.deepEqual(out, [], 'the head waits at the outstanding record, whose deadline is far');
    table.expired(Infinity, out);
    assert.deepEqual(out, [stuck, ...late], 'then every outstanding record, in send order');
  });

  it('the sweep ring starts small whatever the ids, and grows to what is outstanding, in send order', () => {
    const table = new DeliveryTable(1_000_000);
    assert.equal(table.sweepSlots, 1024, 'not a slot per id: the ring\'s slots turn resident as it wraps');
    const ids: number[] = [];
    for (let seq = 1; seq <= 3000; seq++) ids.push(add(table, seq, seq));
    assert.equal(table.sweepSlots, 4096);
    const out: number[] = [];
    table.expired(Infinity, out);
    assert.deepEqual(out, ids);
  });

  it('records of one caller in a row share its entry; each keeps its settler and signal until detached', () => {
    const table = new DeliveryTable(8);
    const first = new DetachedSettler(() => {});
    const second = new DetachedSettler(() => {});
    const signal = new AbortController().signal;
    const ids = [0, 1, 2, 3].map(() => table.allocate());
    table.attach(ids[0]!, first, undefined);
    table.attach(ids[1]!, first, undefined);
    table.attach(ids[2]!, first, signal); // same settler, other signal: its own entry
    table.attach(ids[3]!, second, undefined);
    assert.deepEqual(ids.map((id) => table.settlerOf(id)), [first, first, first, second]);
    assert.deepEqual(ids.map((id) => table.signalOf(id)), [undefined, undefined, signal, undefined]);
    assert.equal(table.detach(ids[0]!), first, 'detach hands back the settler it takes away');
    assert.equal(table.settlerOf(ids[0]!), undefined);
    assert.equal(table.settlerOf(ids[1]!), first, 'its neighbour of the same caller keeps it');
    assert.equal(table.detach(ids[0]!), undefined, 'a second detach is nothing');
    assert.equal(table.settlerOf(ids[1]!), first);
  });

  it('an entry whose records are all detached is reused for another caller, never joined by a later record of the old one', () => {
    const table = new DeliveryTable(8);
    const old = new DetachedSettler(() => {});
    const next = new DetachedSettler(() => {});
    const a = table.allocate();
    table.attach(a, old, undefined);
    table.detach(a);
    const b = table.allocate();
    table.attach(b, next, undefined);
    const c = table.allocate();
    table.attach(c, old, undefined); // the old caller again: not the entry `next` now holds
    assert.equal(table.settlerOf(b), next);
    assert.equal(table.settlerOf(c), old);
    table.detach(c);
    assert.equal(table.settlerOf(b), next, 'detaching one caller leaves the other');
    table.free(b);
    assert.equal(table.settlerOf(b), undefined, 'free detaches');
  });

  it('thousands of single-record callers at once: each keeps its own settler, before and after their entries are reused', () => {
    const count = 5000; // beyond the entries kept for reuse, so both kinds of free number are handed out again
    const table = new DeliveryTable(count);
    const round = (): void => {
      const settlers = Array.from({ length: count }, () => new DetachedSettler(() => {}));
      const ids = settlers.map((s) => {
        const id = table.allocate();
        table.attach(id, s, undefined);
        return id;
      });
      ids.forEach((id, i) => assert.equal(table.settlerOf(id), settlers[i]));
      for (const id of ids) table.free(id);
      ids.forEach((id) => assert.equal(table.settlerOf(id), undefined));
    };
    round();
    round();
  });
});
