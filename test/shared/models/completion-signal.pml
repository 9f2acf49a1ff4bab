/*
 * The completion signal, worker -> main thread.
 *
 * Code modelled
 *   worker side  src/workers/completion-writer.ts  CompletionWriter.signal(): RingWriter.commit() on the worker's
 *                completion ring, then ControlBlock.signalCompletion() (src/shared/control-block.ts).
 *   main side    src/main/deliveries.ts  Deliveries.settleLoop(): reads ControlBlock.completionSeq, drains every
 *                completion ring (Deliveries.drain in src/main/deliveries.ts), then
 *                ControlBlock.waitForCompletion(seen) when there was nothing left to drain.
 *
 * Steps (labels below) and the code they stand for; each step is one Atomics operation, executed atomically.
 *   Worker  publish  RingWriter.commit: Atomics.store(WRITE_POS)                                       (W1)
 *           count    signalCompletion: Atomics.add(COMPLETION_SEQ, 1)                                   (W2)
 *           look     signalCompletion: Atomics.load(MAIN_SLEEPING); 0 -> done                           (W3)
 *           swap     signalCompletion: Atomics.compareExchange(MAIN_SLEEPING, 1, 0); failed -> done     (W4)
 *           notify   signalCompletion: Atomics.notify(MAIN_SLEEPING)                                    (W5)
 *   Main    snapshot settleLoop: seen = control.completionSeq                                          (M1)
 *           drain    Deliveries.drain: for each ring, RingReader.read loads WRITE_POS, consumes entries (M2)
 *           sleepy   waitForCompletion: Atomics.store(MAIN_SLEEPING, 1)                                 (M3)
 *           recheck  waitForCompletion: Atomics.load(COMPLETION_SEQ) != seen -> 'not-equal'            (M4)
 *                    (the `finally` stores MAIN_SLEEPING = 0 and the loop starts over)
 *           sleep    WordWaiter.wait(1) on MAIN_SLEEPING: Atomics.waitAsync                               (M5)
 *           awake    waitForCompletion's `finally`: Atomics.store(MAIN_SLEEPING, 0)                     (M6)
 *
 * Atomics.waitAsync(word, expected) is modelled as one atomic step: if the word no longer holds `expected` the
 * wait returns at once ('not-equal'); otherwise the thread registers as a waiter on that word (waitSleeping or
 * waitSeq) and blocks until a notify on the same word clears the registration. Atomics.notify clears it (it
 * wakes every current waiter of its word; here the main thread is the only one). No timeouts, no aborts.
 *
 * Each of the NW workers publishes K completions, one per burst, so swaps left over from an earlier round
 * (stale tokens) are explored too. The main thread stops once it has consumed all NW * K.
 *
 * Property checked (safety run, pan -DSAFETY): no invalid end state — the main thread never ends up blocked in
 * `sleep` when no other process can move, i.e. no wake-up is lost — and the assertions that every ring was read
 * up to its last completion. The model has no cycles (every loop of the main thread that does not block needs a
 * worker step, and workers take finitely many), so a run in which the main thread sleeps forever with work left
 * is exactly a reachable deadlock, which the end-state check finds.
 *
 * Variant BUGGY (spin -DBUGGY -a): the protocol before the fix. There is no `recheck`, and `sleep` waits on
 * COMPLETION_SEQ with expected value `seen` (workers still swap MAIN_SLEEPING and notify COMPLETION_SEQ).
 * Lost wake-up: a worker does `publish`, `count`; main does `snapshot` (seen includes that count), `drain`
 * (consumes it), `sleepy`; the worker does `look` (1), `swap` (1 -> 0) and `notify`, which wakes nobody; main
 * then waits on COMPLETION_SEQ == seen and registers. The next completions find MAIN_SLEEPING = 0 at `look` and
 * never notify, so main sleeps forever with completions unread: pan reports an invalid end state.
 */

#define NW 3          /* workers, one completion ring each */
#define K 2           /* completions (bursts) per worker */
#define ALL (NW * K)

byte wpos[NW];        /* WRITE_POS of each completion ring, counted in completions */
byte seq;             /* ControlSlot.COMPLETION_SEQ */
bit sleeping;         /* ControlSlot.MAIN_SLEEPING */
bit waitSleeping;     /* main is a registered waiter on MAIN_SLEEPING */
bit waitSeq;          /* main is a registered waiter on COMPLETION_SEQ (BUGGY only) */

#ifdef BUGGY
#define NOTIFY_MAIN waitSeq = 0
#else
#define NOTIFY_MAIN waitSleeping = 0
#endif

proctype Worker(byte me) {
  byte round;
  bit won;
  do
  :: round == K -> break
  :: else ->
publish:
    wpos[me]++;
count:
    seq++;
look:
    if
    :: sleeping == 0 -> skip                /* main is busy: nothing to do */
    :: else ->
swap:
      d_step {
        if
        :: sleeping == 1 -> sleeping = 0; won = 1
        :: else -> won = 0
        fi
      }
      if
      :: won ->
notify:
        d_step { NOTIFY_MAIN; won = 0 }
      :: else -> skip
      fi
    fi;
    round++
  od
}

active proctype Main() {
  byte seen, total, i;
  byte rpos[NW];      /* the main thread's read position in each ring */
  do
  :: total == ALL -> break
  :: else ->
snapshot:
    seen = seq;
drain:
    i = 0;
    do
    :: i < NW ->
      d_step { total = total + wpos[i] - rpos[i]; rpos[i] = wpos[i]; i++ }
    :: else -> i = 0; break
    od;
    if
    :: total == ALL -> break                /* the model stops here; the real loop would sleep */
    :: else -> skip
    fi;
sleepy:
    sleeping = 1;
#ifndef BUGGY
recheck:
    if
    :: seq != seen -> sleeping = 0          /* 'not-equal'; the finally stores 0; loop */
    :: else ->
sleep:
      d_step {
        if
        :: sleeping == 1 -> waitSleeping = 1
        :: else -> skip                     /* 'not-equal': a swap landed before the wait */
        fi
      }
      waitSleeping == 0;                    /* blocked until a notify on MAIN_SLEEPING */
awake:
      sleeping = 0
    fi
#else
sleep:
    d_step {
      if
      :: seq == seen -> waitSeq = 1
      :: else -> skip
      fi
    }
    waitSeq == 0;                           /* blocked until a notify on COMPLETION_SEQ */
awake:
    sleeping = 0
#endif
  od;
  i = 0;
  do
  :: i < NW -> assert(rpos[i] == K); i++
  :: else -> break
  od
}

init {
  atomic {
    run Worker(0);
    run Worker(1);
    run Worker(2)
  }
}
