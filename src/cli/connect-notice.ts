/**
 * The wait for the cluster, said on stderr once it is no longer short. With `--brokers` naming a host where nothing
 * answers, a command printed nothing for the producer's whole wait (bufferTimeoutMs, 60 s) before its error, and
 * looked hung.
 *
 * Said after a second, on a terminal or not, and on stderr only: a connection that is quick says nothing (as kcat
 * and kafka-console-producer say nothing then), a slow one is told in a log as on a screen (both tools report a
 * failing connection on stderr wherever it goes), and stdout stays the command's output alone for scripts.
 */
import type { Producer, ProducerOptions } from '../main/index.js';
import { connectFailure } from '../main/producer-internals.js';
import { untilAborted } from '../shared/until-aborted.js';

/** How long a connection may take before it is said (a TLS and SASL handshake with a distant cluster included). */
export const CONNECT_NOTICE_MS = 1000;

/**
 * Connects `producer`; says so through `say` if that takes longer than CONNECT_NOTICE_MS, with why the last attempt
 * failed when one did (a refused or unresolvable address said only "no answer yet", as a silent one does). `signal`
 * ends the wait (AbortError 'interrupted while connecting'). `why` is the producer's last failure, by default.
 */
export async function connectSaying(
  producer: Producer,
  brokers: ProducerOptions['brokers'],
  waitLimitMs: number,
  signal: AbortSignal,
  say: (line: string) => void,
  why: () => string | undefined = () => connectFailure(producer),
): Promise<void> {
  const timer = setTimeout(() => {
    const named = typeof brokers === 'string' ? brokers : (brokers ?? []).join(', ');
    const failure = why();
    const state = failure === undefined ? 'no answer yet' : `the last attempt failed (${failure}), retrying`;
    say(`connecting to ${named}: ${state} (giving up after ${Math.round(waitLimitMs / 1000)} s; Ctrl-C stops)`);
  }, CONNECT_NOTICE_MS);
  timer.unref();
  try {
    await untilAborted(producer.connect(), signal, 'interrupted while connecting');
  } finally {
    clearTimeout(timer);
  }
}
