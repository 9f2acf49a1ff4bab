/*
 * A lingering reader and a writer that waits for room, on one ring: the kick that ends the reader's linger.
 *
 * Code modelled
 *   writer  src/shared/ring.ts  RingWriter.commit() and RingWriter.waitForSpace(). Caller: the main thread's
 *           RecordFeed#writeQueue (src/main/record-feed.ts) on a worker's record ring.
 *   reader  src/shared/ring.ts  RingReader.read(), release() and waitForData({ lingerBytes }). Caller: each
 *           worker's loop (src/workers/producer-worker.ts), which lingers while a batch waits for more records.
 * ring.pml verifies the reader's wake-ups by the records and by the main thread's demand, ring-space.pml the
 * writer's by the reader freeing room; neither has a writer that waits for room while its reader lingers. Here the
 * writer publishes one small entry (short of the reader's WAKE_AT) and then needs room for an entry that fits only
 * in a drained ring (a near-maximal entry and its wrap waste): only its kick can make the lingering reader read and
 * free the ring. Positions count units of ring space; CAP units in all.
 *
 * Steps (labels below) and the code they stand for; each step is one Atomics operation, executed atomically.
 *   Writer  publish  RingWriter.commit: Atomics.store(WRITE_POS) (the small entry)
 *           look     commit: Atomics.load(READER_SLEEPING), and for a lingering reader Atomics.load(WAKE_AT):
 *                    short of it -> no wake; else swap and notify
 *           fits     waitForSpace: #fits loads READ_POS; room -> the big entry (`big`)
 *           sleepy   waitForSpace: Atomics.store(WRITER_SLEEPING, 1)
 *           recheck  waitForSpace: #fits loads READ_POS; room -> Atomics.store(WRITER_SLEEPING, 0), `big`
 *           kick     waitForSpace: #wakeReader: Atomics.load(READER_SLEEPING), compareExchange to 0, notify
 *           sleep    WordWaiter.wait(1) on WRITER_SLEEPING: Atomics.waitAsync
 *           awake    Atomics.store(WRITER_SLEEPING, 0), then `fits` again
 *           big      reserve and commit the big entry (it reaches WAKE_AT: the reader is woken as by `look`)
 *   Reader  read     RingReader.read: Atomics.load(WRITE_POS), reads up to it
 *           free     RingReader.release: Atomics.store(READ_POS); Atomics.load(WRITER_SLEEPING), compareExchange
 *                    1 -> 0, notify
 *           idle     waitForData: nothing new since its last look (its cached WRITE_POS) -> goes on to sleep
 *           wakeat   waitForData: Atomics.store(WAKE_AT, pos + lingerBytes)
 *           sleepy   waitForData: Atomics.store(READER_SLEEPING, 2)
 *           recheck  waitForData: Atomics.load(WRITE_POS) and Atomics.load(WRITER_SLEEPING): enough bytes, or a
 *                    writer waiting for room -> Atomics.store(READER_SLEEPING, 0), read
 *           sleep    WordWaiter.wait(2) on READER_SLEEPING: Atomics.waitAsync
 *           awake    Atomics.store(READER_SLEEPING, 0), read
 *
 * Atomics.waitAsync(word, expected) is one atomic step: if the word is not `expected` it returns at once,
 * otherwise the thread registers on the word and blocks until a notify on it clears the registration. No
 * timeouts: a reader that sleeps out its linger while the writer waits for room is an invalid end state (in the
 * code, a stall of up to the linger's timeout, lingerMs).
 *
 * Property checked (pan -DSAFETY): no invalid end state; both processes reach their end.
 *
 * -DBUGGY: the reader's recheck does not look at WRITER_SLEEPING (the code before this model): a kick that lands
 * between the reader's `idle` and its `sleepy` finds nobody asleep, and the reader sleeps with the writer waiting.
 */
#define CAP 4
#define LINGER 2
#define FINAL (1 + CAP)

byte wpos, rpos;   /* WRITE_POS, READ_POS */
byte rsleep;       /* READER_SLEEPING: 0, or 2 (lingering) */
byte wakeAt;       /* WAKE_AT */
bit rwait;         /* the reader registered on READER_SLEEPING */
bit wsleep;        /* WRITER_SLEEPING */
bit wwait;         /* the writer registered on WRITER_SLEEPING */

/* compareExchange(READER_SLEEPING, seen, 0) and notify, after a load that saw `seen` */
inline wakeReader(seen) {
  d_step { if :: seen != 0 && rsleep == seen -> rsleep = 0; rwait = 0 :: else -> skip fi }
}

active proctype Writer() {
  byte seen;
publish:
  wpos++;
look:
  if
  :: rsleep == 0 -> goto fits
  :: rsleep == 2 && wpos < wakeAt -> goto fits
  :: else -> skip
  fi;
  seen = rsleep;
  wakeReader(seen);
fits:
  if
  :: wpos == rpos -> goto big
  :: else -> skip
  fi;
sleepy:
  wsleep = 1;
recheck:
  if
  :: wpos == rpos -> wsleep = 0; goto big
  :: else -> skip
  fi;
kick:
  seen = rsleep;
  wakeReader(seen);
sleep:
  d_step { if :: wsleep == 1 -> wwait = 1 :: else -> skip fi }
  wwait == 0;
awake:
  wsleep = 0;
  goto fits;
big:
  wpos = wpos + CAP;
  seen = rsleep;
  wakeReader(seen);
}

active proctype Reader() {
  byte pos, cached;
read:
  cached = wpos;
  pos = cached;
free:
  rpos = pos;
  d_step { if :: wsleep == 1 -> wsleep = 0; wwait = 0 :: else -> skip fi }
  if
  :: pos == FINAL -> goto done
  :: else -> skip
  fi;
idle:
  skip;   /* it read up to its cached WRITE_POS: nothing new as far as it looked */
wakeat:
  wakeAt = pos + LINGER;
sleepy:
  rsleep = 2;
recheck:
  cached = wpos;
  if
  :: cached >= wakeAt -> rsleep = 0; goto read
#ifndef BUGGY
  :: wsleep != 0 -> rsleep = 0; goto read
#endif
  :: else -> skip
  fi;
sleep:
  d_step { if :: rsleep == 2 -> rwait = 1 :: else -> skip fi }
  rwait == 0;
awake:
  rsleep = 0;
  goto read;
done:
  skip
}
