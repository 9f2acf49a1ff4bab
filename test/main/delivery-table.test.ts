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

  it('the sweep keeps send order when its ring grows while its head is mid-ring', () => {
    // Capacity 4 gives a sweep ring of 16 entries; stale entries (freed ids) keep their place until swept.
    const table = new DeliveryTable(4);
    const out: number[] = [];
    let seq = 0;
    // Move the ring's head to slot 10: ten records come and go, each swept past once its id was freed.
    for (let i = 0; i < 10; i++) table.free(add(table, ++seq, 1000 + seq));
    table.expired(0, out);
    assert.deepEqual(out, [], 'nothing due');
    // 4 live records, each freed and re-added 5 times: 20 entries from slot 10 on, past the 16 slots: the ring has wrapped, then doubles.
    const deadlines = new Map<number, number>();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 4; i++) {
        if (round > 0) table.free(i);
        const id = add(table, ++seq, 2000 + seq);
        deadlines.set(id, 2000 + seq);
      }
    }
    table.expired(2000 + seq - 2, out);
    const due = [...deadlines].filter(([, deadline]) => deadline <= 2000 + seq - 2).sort((x, y) => x[1] - y[1]).map(([id]) => id);
    assert.deepEqual(out, due, 'the live records due, oldest first; every stale entry skipped');
    table.expired(Infinity, (out.length = 0, out));
    assert.deepEqual(out, [...deadlines].sort((x, y) => x[1] - y[1]).map(([id]) => id).filter((id) => !due.includes(id)));
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
