/*
 * Back-pressure: a ring's writer waits for space, the ring's reader wakes it when it frees some.
 *
 * Code modelled
 *   writer  src/shared/ring.ts  RingWriter.reserve() (returns -1 when full) and RingWriter.waitForSpace().
 *           Callers: each worker's CompletionWriter#drainBacklog (src/workers/completion-writer.ts) on its
 *           completion ring, and the main thread's RecordFeed#writeQueue (src/main/record-feed.ts) on each record ring.
 *   reader  src/shared/ring.ts  RingReader.read() and RingReader.release(). Callers: the main thread's
 *           Deliveries.drain (src/main/deliveries.ts) on every completion ring, and each worker's #readRing /
 *           waitForData (src/workers/producer-worker.ts) on its record ring.
 * The instance modelled: NW workers, each writing K completions into its own completion ring that holds CAP
 * entries, and the main thread reading all NW rings (the record rings are the same code with the roles of
 * the threads swapped).
 *
 * Steps (labels below) and the code they stand for; each step is one Atomics operation, executed atomically.
 *   Writer  reserve  RingWriter.reserve: Atomics.load(READ_POS) when the ring looks full; room -> write
 *           publish  RingWriter.commit: Atomics.store(WRITE_POS)
 *           fits     waitForSpace: #fits loads READ_POS; room -> return (and reserve again)
 *           sleepy   waitForSpace: Atomics.store(WRITER_SLEEPING, 1)
 *           recheck  waitForSpace: #fits loads READ_POS; room -> Atomics.store(WRITER_SLEEPING, 0), return
 *           sleep    WordWaiter.wait(1) on WRITER_SLEEPING: Atomics.waitAsync
 *           awake    Atomics.store(WRITER_SLEEPING, 0), then the loop's #fits again (`fits`)
 *   Reader  consume  RingReader.read: Atomics.load(WRITE_POS), reads one entry
 *           free     RingReader.release: Atomics.store(READ_POS)
 *           look     release: Atomics.load(WRITER_SLEEPING); 0 -> done
 *           swap     release: Atomics.compareExchange(WRITER_SLEEPING, 1, 0); failed -> done
 *           notify   release: Atomics.notify(WRITER_SLEEPING)
 * How the reader learns that there is data (the completion signal of completion-signal.pml, or the record
 * ring's reader protocol of ring.pml) is verified in those models; here the reader simply blocks until some
 * ring holds an entry (the guard before `consume`).
 *
 * Atomics.waitAsync(word, expected) is one atomic step: if the word is not `expected` it returns at once,
 * otherwise the writer registers as a waiter on its WRITER_SLEEPING and blocks until a notify on that word
 * clears the registration. No timeouts, no aborts.
 *
 * Property checked (safety run, pan -DSAFETY): no invalid end state — no writer stays blocked in `sleep` while
 * the reader has drained everything it could — and assertions that every writer wrote all K entries and the
 * reader consumed all NW * K. Every loop that does not block moves a position, so the model has no cycles and
 * a wake-up lost for good is exactly a reachable deadlock.
 *
 * Variant BUGGY (spin -DBUGGY -a): the writer has no `recheck`: having just seen the ring full at `fits`, it
 * stores WRITER_SLEEPING = 1 and waits. Lost wake-up: the writer's `fits` sees no room; the reader does
 * `consume`, `free` and `look`, which still sees WRITER_SLEEPING = 0, so it does not swap or notify; the writer
 * does `sleepy` and `sleep` (the word is 1, so it registers). The ring is now empty, nothing else will free
 * space in it, and the writer sleeps forever with entries unwritten: pan reports an invalid end state.
 */

#define NW 3          /* writers (workers), one ring each; the choice of ring below names each */
#ifndef K
#define K 3           /* entries each writer writes */
#endif
#define CAP 1         /* entries a ring holds */
#define ALL (NW * K)

byte wpos[NW];        /* WRITE_POS of each ring, counted in entries */
byte rpos[NW];        /* READ_POS of each ring */
bit wsleep[NW];       /* WRITER_SLEEPING of each ring */
bit wwait[NW];        /* writer i is a registered waiter on its WRITER_SLEEPING */

proctype Writer(byte me) {
  /* The writer is the only one to store WRITE_POS, so wpos[me] doubles as its private #pending. */
reserve:
  if
  :: wpos[me] == K -> goto finished
  :: else -> skip
  fi;
  if
  :: wpos[me] - rpos[me] < CAP ->
publish:
    wpos[me]++;
    goto reserve
  :: else -> skip
  fi;
fits:
  if
  :: wpos[me] - rpos[me] < CAP -> goto reserve
  :: else -> skip
  fi;
sleepy:
  wsleep[me] = 1;
#ifndef BUGGY
recheck:
  if
  :: wpos[me] - rpos[me] < CAP -> wsleep[me] = 0; goto reserve
  :: else -> skip
  fi;
#endif
sleep:
  d_step {
    if
    :: wsleep[me] == 1 -> wwait[me] = 1
    :: else -> skip                       /* 'not-equal': the reader's swap landed first */
    fi
  }
  wwait[me] == 0;                         /* blocked until a notify on WRITER_SLEEPING */
awake:
  wsleep[me] = 0;
  goto fits;
finished:
  assert(wpos[me] == K)
}

active proctype Reader() {
  byte i, total;
  bit won;
  do
  :: total == ALL -> break
  :: else ->
consume:
    atomic {
      if
      :: wpos[0] != rpos[0] -> i = 0
      :: wpos[1] != rpos[1] -> i = 1
      :: wpos[2] != rpos[2] -> i = 2
      fi;
      total++
    }
free:
    rpos[i]++;
look:
    if
    :: wsleep[i] == 0 -> skip
    :: else ->
swap:
      d_step {
        if
        :: wsleep[i] == 1 -> wsleep[i] = 0; won = 1
        :: else -> won = 0
        fi
      }
      if
      :: won ->
notify:
        d_step { wwait[i] = 0; won = 0 }
      :: else -> skip
      fi
    fi
  od;
  assert(wpos[0] == K && wpos[1] == K && wpos[2] == K)
}

init {
  atomic {
    run Writer(0);
    run Writer(1);
    run Writer(2)
  }
}
