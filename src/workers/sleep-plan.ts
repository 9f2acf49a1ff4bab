/**
 * How a producer worker's loop sleeps between turns (ProducerWorker.run): until when, whether lingering (new
 * records wake it only once enough bytes have come, RingReader.waitForData's `lingerBytes`), and whether the main
 * thread's demand to send at once (ControlBlock.sendNow: someone waits for buffer space, flushes or closes) must
 * keep it awake.
 *
 * A worker lingers while batches are open, and also, with none open, after a turn that its linger timeout began
 * and that read records: the sign of a steady stream bringing fewer bytes per linger than wake a lingering worker.
 * It sleeps a whole lingerMs and reads what came meanwhile in one turn, as one batch opened when it last read (no
 * record waits longer than lingerMs for its seal). Without that, the first record after each seal woke it — a notify from
 * the main thread, a wake-up of the worker's loop, a turn that only opened a batch and armed its linger timer —
 * about one wake-up in five of such a stream's (docs/shared-memory.md, section 2).
 *
 * Only after a timeout: a busier worker is woken by bytes or answers before its timer, and its turns are long
 * (sealing and encoding megabytes); records read after a linger are dated from the start of the turn before,
 * so lingering on after such turns sealed batches early, smaller and more of them (Apache Kafka, 100B-none,
 * 300,000 records: 1.05–1.56M records/s against 1.27–1.58M for the code before, five pairs of six worse).
 * A turn that read nothing ends it too: an idle worker sleeps until a record comes, not from linger to linger; or
 * until its next sweep of idle memory, while it holds some to give back (`sweepWait`).
 */

export interface LoopState {
  /** Batches are open (Accumulator.hasOpen). */
  readonly hasOpen: boolean;
  /** The turn just over read records from the ring. */
  readonly readRecords: boolean;
  /** The sleep before that turn ended with its timeout (the linger's, or rarely the sweep's), not a wake-up. */
  readonly timedOut: boolean;
  /** ControlBlock.sendNow as the turn saw it. */
  readonly sendNow: boolean;
  readonly lingerMs: number;
  /** Until the oldest open batch must be sealed (Accumulator.lingerWait); undefined with none open. */
  readonly lingerWait: number | undefined;
  /**
   * Until the next sweep of idle arenas and buffers (ProducerWorker), while it may release memory; undefined when
   * nothing is held that it could release.
   */
  readonly sweepWait: number | undefined;
}

export interface SleepPlan {
  /** Sleep lingering: new records wake the loop only once enough bytes have come. */
  readonly lingering: boolean;
  /** How long it may sleep; undefined: until woken. */
  readonly timeoutMs: number | undefined;
  /**
   * The demand to send at once, set after this turn looked, must wake it: there are batches to seal, or records
   * may wait unread in the ring (lingering). Re-checked after the sleep is announced (ring.pml: `recheck`); a
   * worker lingering with no batch open that ignored the demand would hold a flush for a whole linger.
   */
  readonly wakeOnDemand: boolean;
}

export function planSleep(state: LoopState): SleepPlan {
  const lingering = !state.sendNow && (state.hasOpen || (state.readRecords && state.timedOut && state.lingerMs > 0));
  return {
    lingering,
    timeoutMs: earlier(state.lingerWait ?? (lingering ? state.lingerMs : undefined), state.sweepWait),
    wakeOnDemand: state.hasOpen || lingering,
  };
}

/** The earlier of two timeouts, undefined standing for none. */
function earlier(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
