/*
 * A record ring's reader side: the main thread writes records to each worker's ring and wakes its reader; each
 * worker reads its ring and goes to sleep when it has nothing to do.
 *
 * Code modelled
 *   main (writer)  src/shared/ring.ts  RingWriter.commit() and RingWriter.wake() (#wakeReader), called by
 *                  WorkerSlot (src/main/worker-slot.ts: #scheduleCommit, wake). The demand for sending at once:
 *                  ByteBudget#append (src/main/byte-budget.ts) stores WAITERS (ControlBlock.setWaiters) and
 *                  then calls onWaiting = Producer#wakeWorkers; Producer.flush (src/main/producer.ts) does
 *                  ControlBlock.beginFlush (FLUSHES++) and then #wakeWorkers. #wakeWorkers calls
 *                  WorkerSlot.wake() for every worker, i.e. RingWriter.wake() on every record ring.
 *   worker (reader) src/workers/producer-worker.ts  ProducerWorker.run(): #readRing (RingReader.read/release),
 *                  #sealDue (Accumulator.sealDue(sendNow)), then RingReader.waitForData({ hasWork: () =>
 *                  control.sendNow && batches.hasOpen }) in src/shared/ring.ts.
 *
 * Steps (labels below) and the code they stand for; each step is one Atomics operation, executed atomically.
 *   Main    publish  RingWriter.commit: Atomics.store(WRITE_POS)
 *           look     RingWriter.commit: Atomics.load(READER_SLEEPING); 0 -> done
 *           swap     #wakeReader: Atomics.compareExchange(READER_SLEEPING, 1, 0); failed -> done
 *           notify   #wakeReader: Atomics.notify(READER_SLEEPING)
 *           demand   ControlBlock.setWaiters(n > 0) or beginFlush(): sendNow becomes true. WAITERS, FLUSHES and
 *                    CLOSING are folded into one flag `sendNow`: the worker only asks whether any is non-zero.
 *           kick     #wakeWorkers: WorkerSlot.wake() on each ring in turn, i.e. RingWriter.wake(): `swap` (and
 *                    `notify` when the swap succeeded) without a `look`. WorkerSlot.wake() first commits records
 *                    still pending, which is an ordinary `publish`; the model publishes them separately.
 *   Worker  read     #readRing: RingReader.read loads WRITE_POS and reads every record up to it; the records join
 *                    the open batch (the model only counts them)
 *           seal     #sealDue: loads sendNow; if set, the open batch is sealed (linger is infinite in the model:
 *                    a batch is sealed only because of sendNow)
 *           idle     waitForData: nothing left to read (#pos == #cachedWrite) — ProtocolStep 'reader:idle'
 *           sleepy   waitForData: Atomics.store(READER_SLEEPING, 1)
 *           recheck  waitForData: Atomics.load(WRITE_POS) differs from #pos, or hasWork() = sendNow && open
 *                    batch; either -> Atomics.store(READER_SLEEPING, 0) and loop ('not-equal')
 *           sleep    waitOn(READER_SLEEPING, 1): Atomics.waitAsync
 *           awake    Atomics.store(READER_SLEEPING, 0) after the wait
 *
 * Atomics.waitAsync(word, expected) is one atomic step: if the word is not `expected` it returns at once,
 * otherwise the worker registers as a waiter on its READER_SLEEPING and blocks until a notify on that word
 * clears the registration. The linger is infinite (no timeout), which is the case where a lost wake-up keeps a
 * batch, and the flush waiting for it, open forever.
 *
 * The main thread publishes K records to each of NW rings in any order and, at any point, makes its demand and
 * kicks every worker. A worker stops (in the model) once it has read all K records and has no open batch.
 * K = 1 by default keeps the search near 3 million states (seconds); with spin -DK=2 -a it is about 42 million
 * states (a minute, 3 GB), also without error. With K = 1 a ring still sees two wake-ups (`publish` and `kick`),
 * so a token taken in an earlier round (a stale swap) is covered either way.
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
 */

#define NW 3          /* workers, one record ring each; the choice of ring below names each */
#ifndef K
#define K 1           /* records per ring (see the comment above for -DK=2) */
#endif
#define ALL (NW * K)

byte wpos[NW];        /* WRITE_POS of each record ring, counted in records */
bit rsleep[NW];       /* READER_SLEEPING of each ring */
bit rwait[NW];        /* worker i is a registered waiter on its READER_SLEEPING */
bit sendNow;          /* WAITERS != 0 || FLUSHES != 0 || CLOSING != 0 */

active proctype Main() {
  byte r, sent;
  byte kicking = NW;  /* < NW while #wakeWorkers runs: the next ring to wake */
  bit demanded, won;
next:
  if
  :: kicking < NW ->
kick:
    d_step { r = kicking; kicking++ }
  :: kicking == NW && sent < ALL ->
publish:
    atomic {
      if
      :: wpos[0] < K -> r = 0
      :: wpos[1] < K -> r = 1
      :: wpos[2] < K -> r = 2
      fi;
      wpos[r]++;
      sent++
    }
look:
    if
    :: rsleep[r] == 0 -> goto next
    :: else -> skip
    fi
  :: kicking == NW && !demanded ->
demand:
    d_step { sendNow = 1; demanded = 1; kicking = 0 }
    goto next
  :: kicking == NW && sent == ALL && demanded ->
    goto done
  fi;
swap:
  d_step {
    if
    :: rsleep[r] == 1 -> rsleep[r] = 0; won = 1
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
sleepy:
  rsleep[me] = 1;
recheck:
  cw = wpos[me];
  if
  :: cw != rpos -> rsleep[me] = 0; goto read
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
    :: rsleep[me] == 1 -> rwait[me] = 1
    :: else -> skip
    fi
  }
  rwait[me] == 0;                           /* blocked until a notify on READER_SLEEPING */
awake:
  rsleep[me] = 0;
  goto read;
finished:
  assert(rpos == K && !open)
}

init {
  atomic {
    run Worker(0);
    run Worker(1);
    run Worker(2)
  }
}
