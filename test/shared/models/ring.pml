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
 *                  #sealDue (Accumulator.sealDue(sendNow)), then RingReader.waitForData({ hasWork, lingerBytes })
 *                  in src/shared/ring.ts as planSleep (src/workers/sleep-plan.ts) says: the sleep is lingering
 *                  (lingerBytes set) while sendNow is off and the worker has open batches or its last read found
 *                  records (the code also asks that its linger timeout began that turn; the model, without
 *                  timeouts, lets any such read count: more behaviours than the code has, none fewer); hasWork is
 *                  `control.sendNow` whenever it has open batches or lingers, else none.
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
 *                    the open batch (the model only counts them); `fresh` records whether it found any
 *           seal     #sealDue: loads sendNow; if set, the open batch is sealed. Otherwise its linger may be over
 *                    (the model has no clock: a choice), and then it is sealed too
 *           idle     waitForData: nothing left to read (#pos == #cachedWrite) — ProtocolStep 'reader:idle'
 *           linger   planSleep: lingering when sendNow is off and a batch is open or the last read found
 *                    records (loads sendNow)
 *           wakeat   waitForData, lingering: Atomics.store(WAKE_AT, #pos + lingerBytes); the model's lingerBytes
 *                    is one record or two (roomBeforeFull varies), chosen freely
 *           sleepy   waitForData: Atomics.store(READER_SLEEPING, 1, or 2 when lingering)
 *           recheck  waitForData: Atomics.load(WRITE_POS) differs from #pos (lingering: has reached WAKE_AT), or
 *                    hasWork() = sendNow, asked when a batch is open or it lingers; either ->
 *                    Atomics.store(READER_SLEEPING, 0) and loop ('not-equal')
 *           sleep    WordWaiter.wait(1 or 2) on READER_SLEEPING (src/shared/wait-on.ts): Atomics.waitAsync
 *           expire   (-DNODEMAND only) the linger timeout ends the wait; the registration stays listed
 *           awake    Atomics.store(READER_SLEEPING, 0) after the wait
 *
 * A sleep is one atomic step: if the word is not `expected` it returns at once, otherwise the worker is a
 * registered waiter on its READER_SLEEPING (rwait) and blocks until a notify on that word clears the
 * registration. WordWaiter registers with Atomics.waitAsync, or rides on the registration an earlier wait left
 * listed when its timeout ended it (loading the word first, as waitAsync would): either way rwait is 1 from the
 * check until a notify. With the main thread's demand the linger timeout is left out (a sleep lasts until a
 * notify), which is the case where a lost wake-up keeps a batch, and the flush waiting for it, open forever.
 *
 * The main thread publishes K records to each of NW rings in any order and, at any point, makes its demand and
 * kicks every worker. A worker stops (in the model) once it has read all K records and has no open batch.
 * K = 2 (a worker can linger: it has read a record and one more is to come) and NW = 2 keep the search near 16
 * million states (about 15 s and 1.1 GB; 5 million with -DNODEMAND). A ring sees up to three wake-ups (two `publish`es and a `kick`), so a token taken in
 * an earlier round (a stale swap) is covered.
 *
 * Property checked (safety run, pan -DSAFETY): no invalid end state — no worker stays blocked in `sleep` with
 * records unread or a batch open once the main thread is done — and an assertion that each worker read all K
 * records and sealed its batch. With the demand, every loop of a worker that does not block consumes a record
 * or a main-thread step, so the model has no cycles and a wake-up lost for good is exactly a reachable deadlock.
 * (With -DNODEMAND a worker may sleep out its linger over and over; a lost wake-up is still a deadlock there,
 * since `expire` is only taken short of WAKE_AT.)
 *
 * Variant BUGGY (spin -DBUGGY -a): `recheck` looks at WRITE_POS only, not at sendNow (waitForData without
 * hasWork). Lost wake-up: the worker reads its records and `seal` sees sendNow = 0 (the batch stays open); main
 * does `demand` and `kick`, whose `swap` fails because READER_SLEEPING is still 0; the worker does `idle`,
 * `sleepy`, `recheck` (WRITE_POS unchanged) and `sleep`s forever with its batch open.
 *
 * Variant BUGGY_IDLE (spin -DBUGGY_IDLE -a): hasWork is asked only with a batch open, as before the worker
 * lingered without one. Lost wake-up: the worker reads a record, `seal`s it (its linger was over) and `linger`s
 * with no batch open, `wakeat` two records on; main does `publish` (its `look` sees READER_SLEEPING still 0),
 * `demand` and `kick` (its `swap` fails); the worker does `sleepy`, `recheck` (one record short of WAKE_AT, and
 * no batch open, so sendNow is not asked) and `sleep`s forever with the flushed record unread.
 *
 * Configuration NODEMAND (spin -DNODEMAND -a): the main thread never demands, so nothing but the records wakes
 * a lingering worker (the demand's kick would hide a lost one). A worker may then end asleep only lingering with
 * WRITE_POS short of its WAKE_AT: then its linger timeout ends the wait (`expire`, taken under Spin's `timeout`:
 * no process can move), leaving the registration listed as WordWaiter does, and it goes round its loop, reading
 * what came; asleep any other way is an invalid end state.
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
  bit fresh;          /* the last read found records (ProducerWorker #readRecords) */
read:
  atomic {
    cw = wpos[me];
    if
    :: cw != rpos -> rpos = cw; open = 1; fresh = 1
    :: else -> fresh = 0
    fi
  }
  /* Without a demand the batch's linger decides, either way: with `:: open -> open = 0` beside an `else`, the
     `else` never ran while a batch was open, and no state had a worker sleep with an open batch. */
seal:
  if
  :: sendNow != 0 && open -> open = 0
  :: sendNow == 0 && open -> open = 0       /* its linger is over */
  :: sendNow == 0 && open -> skip           /* its linger is not over: the batch stays open */
  :: else -> skip
  fi;
idle:
  if
  :: rpos == K && !open -> goto finished    /* the model's end: nothing more will come */
  :: rpos != cw -> goto read                /* never taken: #readRing read up to cw */
  :: else -> skip
  fi;
linger:
  if
  :: (open || fresh) && sendNow == 0 -> word = 2
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
#if defined(BUGGY)
  skip;
#elif defined(BUGGY_IDLE)
  if
  :: sendNow != 0 && open -> rsleep[me] = 0; goto read
  :: else -> skip
  fi;
#else
  if
  :: sendNow != 0 && (open || word == 2) -> rsleep[me] = 0; goto read
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
expire:                                     /* nothing it must be woken for: it sleeps out its linger */
    assert(open || fresh);                  /* only a worker with a batch open, or records just read, lingers */
    goto awake                              /* rwait[me] stays 1: the registration rides on (WordWaiter) */
  fi;
#endif
awake:
  rsleep[me] = 0;
  goto read;
finished:
  assert(rpos == K && !open);
end_worker:
  skip
}

init {
  atomic {
    run Worker(0);
    run Worker(1)
  }
}
