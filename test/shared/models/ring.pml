/*
 * A record ring's reader side: the main thread writes records to each worker's ring and wakes its reader; each
 * worker reads its ring and goes to sleep when it has nothing to do.
 *
 * Code modelled
 *   main (writer)  src/shared/ring.ts  RingWriter.commit() and RingWriter.wake() (#wakeReader), called by
 *                  RecordFeed (src/main/record-feed.ts: #scheduleCommit, wake). The demand for sending at once:
 *                  ByteBudget#append (src/main/byte-budget.ts) stores WAITERS (ControlBlock.setWaiters) and
 *                  then calls onWaiting = WorkerGroup.wake; Producer.flush (src/main/producer.ts) does
 *                  ControlBlock.beginFlush (FLUSHES++) and then WorkerGroup.wake. WorkerGroup.wake
 *                  (src/main/worker-group.ts) calls WorkerHandle.wake() for every worker, i.e. RecordFeed.wake()
 *                  and RingWriter.wake() on every record ring.
 *   worker (reader) src/workers/producer-worker.ts  ProducerWorker.run(): #readRing (RingReader.read/release),
 *                  #sealDue (Accumulator.sealDue(sendNow)), then RingReader.waitForData({ hasWork: () =>
 *                  control.sendNow && batches.hasOpen, lingerBytes }) in src/shared/ring.ts; lingerBytes is set
 *                  (the sleep is lingering) while the worker has open batches and sendNow is off.
 *
 * Steps (labels below) and the code they stand for; each step is one Atomics operation, executed atomically.
 *   Main    publish  RingWriter.commit: Atomics.store(WRITE_POS)
 *           look     RingWriter.commit: Atomics.load(READER_SLEEPING); 0 -> done
 *           lookat   RingWriter.commit, when it loaded 2 (lingering): Atomics.load(WAKE_AT); WRITE_POS short of it
 *                    -> done
 *           reload   #wakeReader: Atomics.load(READER_SLEEPING) again, the value v its swap expects
 *           swap     #wakeReader: Atomics.compareExchange(READER_SLEEPING, v, 0) for v = 1 or 2; 0 or failed -> done
 *           notify   #wakeReader: Atomics.notify(READER_SLEEPING)
 *           demand   ControlBlock.setWaiters(n > 0) or beginFlush(): sendNow becomes true. WAITERS, FLUSHES and
 *                    CLOSING are folded into one flag `sendNow`: the worker only asks whether any is non-zero.
 *           kick     WorkerGroup.wake: RecordFeed.wake() on each ring in turn, i.e. RingWriter.wake(): `reload`,
 *                    `swap` (and `notify` when the swap succeeded) without a `look`. RecordFeed.wake() first
 *                    commits records still pending, which is an ordinary `publish`; the model publishes them
 *                    separately. (RingWriter.waitForSpace kicks the same way before the writer sleeps for room.)
 *   Worker  read     #readRing: RingReader.read loads WRITE_POS and reads every record up to it; the records join
 *                    the open batch (the model only counts them)
 *           seal     #sealDue: loads sendNow; if set, the open batch is sealed (linger is infinite in the model:
 *                    a batch is sealed only because of sendNow)
 *           idle     waitForData: nothing left to read (#pos == #cachedWrite) — ProtocolStep 'reader:idle'
 *           linger   run(): lingering when a batch is open and sendNow is off (loads sendNow)
 *           wakeat   waitForData, lingering: Atomics.store(WAKE_AT, #pos + lingerBytes); the model's lingerBytes
 *                    is one record or two (roomBeforeFull varies), chosen freely
 *           sleepy   waitForData: Atomics.store(READER_SLEEPING, 1, or 2 when lingering)
 *           recheck  waitForData: Atomics.load(WRITE_POS) differs from #pos (lingering: has reached WAKE_AT), or
 *                    hasWork() = sendNow && open batch; either -> Atomics.store(READER_SLEEPING, 0) and loop
 *                    ('not-equal')
 *           sleep    waitOn(READER_SLEEPING, 1 or 2): Atomics.waitAsync
 *           awake    Atomics.store(READER_SLEEPING, 0) after the wait
 *
 * Atomics.waitAsync(word, expected) is one atomic step: if the word is not `expected` it returns at once,
 * otherwise the worker registers as a waiter on its READER_SLEEPING and blocks until a notify on that word
 * clears the registration. The linger is infinite (no timeout), which is the case where a lost wake-up keeps a
 * batch, and the flush waiting for it, open forever.
 *
 * The main thread publishes K records to each of NW rings in any order and, at any point, makes its demand and
 * kicks every worker. A worker stops (in the model) once it has read all K records and has no open batch.
 * K = 2 (a worker can linger: it has read a record and one more is to come) and NW = 2 keep the search near 7
 * million states (seconds). A ring sees up to three wake-ups (two `publish`es and a `kick`), so a token taken in
 * an earlier round (a stale swap) is covered.
 *
 * Property checked (safety run, pan -DSAFETY): no invalid end state — no worker stays blocked in `sleep` with
 * records unread or a batch open once the main thread is done — and an assertion that each worker read all K
 * records and sealed its batch. Every loop of a worker that does not block consumes a record or a main-thread
 * step, so the model has no cycles and a wake-up lost for good is exactly a reachable deadlock.
 *
 * Variant BUGGY (spin -DBUGGY -a): `recheck` looks at WRITE_POS only, not at sendNow (waitForData without
 * hasWork). Lost wake-up: the worker reads its records and `seal` sees sendNow = 0 (the batch stays open); main
 * does `demand` and `kick`, whose `swap` fails because READER_SLEEPING is still 0; the worker does `idle`,
 * `sleepy`, `recheck` (WRITE_POS unchanged) and `sleep`s forever with its batch open.
 *
 * Configuration NODEMAND (spin -DNODEMAND -a): the main thread never demands, so nothing but the records wakes
 * a lingering worker (the demand's kick would hide a lost one). A worker may then end asleep only lingering with
 * WRITE_POS short of its WAKE_AT — the linger timeout, which the model leaves out, would wake it — taken as the
 * branch `timeout && …` (Spin's `timeout`: no process can move); asleep any other way is an invalid end state.
 * Its negative variant BUGGY_LINGER (spin -DNODEMAND -DBUGGY_LINGER -a): the lingering `recheck` ignores
 * WAKE_AT. Lost wake-up: the worker reads a record (`read`, batch open), `linger`s with `wakeat` one record on;
 * main does `publish` and its `look` sees READER_SLEEPING still 0; the worker does `sleepy`, `recheck` (blind to
 * the record) and `sleep`s for good with WAKE_AT reached.
 */

#define NW 2          /* workers, one record ring each; the choice of ring below names each */
#ifndef K
#define K 2           /* records per ring: a lingering sleep needs a record read (an open batch) and one to come */
#endif
#define ALL (NW * K)

byte wpos[NW];        /* WRITE_POS of each record ring, counted in records */
byte rsleep[NW];      /* READER_SLEEPING of each ring: 0 awake, 1 asleep, 2 lingering */
byte wakeAt[NW];      /* WAKE_AT of each ring, counted in records */
bit rwait[NW];        /* worker i is a registered waiter on its READER_SLEEPING */
bit sendNow;          /* WAITERS != 0 || FLUSHES != 0 || CLOSING != 0 */

active proctype Main() {
  byte r, sent, v;
  byte kicking = NW;  /* < NW while WorkerGroup.wake runs: the next ring to wake */
  bit demanded, won;
next:
  if
  :: kicking < NW ->
kick:
    d_step { r = kicking; kicking++ }
    goto reload
  :: kicking == NW && sent < ALL ->
publish:
    atomic {
      if
      :: wpos[0] < K -> r = 0
      :: wpos[1] < K -> r = 1
      fi;
      wpos[r]++;
      sent++
    }
look:
    if
    :: rsleep[r] == 0 -> goto next
    :: rsleep[r] == 1 -> v = 1
    :: rsleep[r] == 2 -> v = 2
    fi;
    if
    :: v == 2 ->
lookat:
      if
      :: wpos[r] < wakeAt[r] -> goto next
      :: else -> skip
      fi
    :: else -> skip
    fi
#ifndef NODEMAND
  :: kicking == NW && !demanded ->
demand:
    d_step { sendNow = 1; demanded = 1; kicking = 0 }
    goto next
  :: kicking == NW && sent == ALL && demanded ->
    goto done
#else
  :: kicking == NW && sent == ALL ->
    goto done
#endif
  fi;
reload:
  v = rsleep[r];
swap:
  d_step {
    if
    :: v != 0 && rsleep[r] == v -> rsleep[r] = 0; won = 1
    :: else -> won = 0
    fi
  }
  if
  :: won ->
notify:
    d_step { rwait[r] = 0; won = 0 }
  :: else -> skip
  fi;
  goto next;
done:
  skip
}

proctype Worker(byte me) {
  byte rpos, cw;      /* RingReader #pos and #cachedWrite */
  byte word;          /* the value it sleeps on: 1, or 2 when lingering */
  bit open;           /* an open (unsealed) batch holds records */
read:
  atomic {
    cw = wpos[me];
    if
    :: cw != rpos -> rpos = cw; open = 1
    :: else -> skip
    fi
  }
seal:
  d_step {
    if
    :: sendNow != 0 && open -> open = 0
    :: else -> skip
    fi
  }
idle:
  if
  :: rpos == K && !open -> goto finished    /* the model's end: nothing more will come */
  :: rpos != cw -> goto read                /* never taken: #readRing read up to cw */
  :: else -> skip
  fi;
linger:
  if
  :: open && sendNow == 0 -> word = 2
  :: else -> word = 1
  fi;
  if
  :: word == 2 ->
    /* roomBeforeFull: one more record, or two, may fill a batch */
wakeat:
    if
    :: wakeAt[me] = rpos + 1
    :: wakeAt[me] = rpos + 2
    fi
  :: else -> skip
  fi;
sleepy:
  rsleep[me] = word;
recheck:
  cw = wpos[me];
  if
  :: word == 1 && cw != rpos -> rsleep[me] = 0; goto read
#ifndef BUGGY_LINGER
  :: word == 2 && cw >= wakeAt[me] -> rsleep[me] = 0; goto read
#endif
  :: else -> skip
  fi;
#ifndef BUGGY
  if
  :: sendNow != 0 && open -> rsleep[me] = 0; goto read
  :: else -> skip
  fi;
#endif
sleep:
  d_step {
    if
    :: rsleep[me] == word -> rwait[me] = 1
    :: else -> skip
    fi
  }
#ifndef NODEMAND
  rwait[me] == 0;                           /* blocked until a notify on READER_SLEEPING */
#else
  if
  :: rwait[me] == 0 -> skip                 /* woken by a notify on READER_SLEEPING */
  :: timeout && word == 2 && wpos[me] < wakeAt[me] ->
    goto lingered                           /* nothing it must be woken for: it sleeps out its linger */
  fi;
#endif
awake:
  rsleep[me] = 0;
  goto read;
finished:
  assert(rpos == K && !open);
  goto end_worker;
lingered:
  assert(open);                             /* only a worker with an open batch lingers */
end_worker:
  skip
}

init {
  atomic {
    run Worker(0);
    run Worker(1)
  }
}
