/**
 * A worker's sinks, one per broker it sends to (./sink.ts), made on first use and wired to what the worker does with
 * their events: answers and lost requests go to its batch outcomes, throttling and requests to its stats and the
 * main thread's diagnostics, and a sink that can take more (or failed to connect) turns the worker's pump. Worker
 * thread only.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Acks } from '../protocol/apis/produce.js';
import { AuthenticationError } from '../shared/producer-errors.js';
import type { WorkerEvent, WorkerInit } from '../shared/worker-protocol.js';
import { WorkerStat, type WorkerStats } from '../shared/worker-stats.js';
import type { BatchOutcomes } from './batch-outcomes.js';
import type { ClusterView } from './cluster-view.js';
import { Sink } from './sink.js';

/** The worker's parts a sink's events reach. */
export interface SinkParts {
  readonly settings: WorkerInit['settings'];
  readonly view: ClusterView;
  readonly outcomes: Pick<BatchOutcomes, 'answered' | 'lost' | 'metadataStale'>;
  readonly stats: WorkerStats;
  readonly port: MessagePort;
}

/** What the worker's loop does for a sink. */
export interface SinkHooks {
  /** Sends what can go now. */
  pump(): void;
  /** Refreshes the worker's metadata (and pumps once it is in). */
  refresh(): void;
}

export class BrokerSinks {
  readonly #parts: SinkParts;
  readonly #hooks: SinkHooks;
  readonly #sinks = new Map<number, Sink>();

  constructor(parts: SinkParts, hooks: SinkHooks) {
    this.#parts = parts;
    this.#hooks = hooks;
  }

  /** The sink to a broker, when the worker has one. */
  get(nodeId: number): Sink | undefined {
    return this.#sinks.get(nodeId);
  }

  /** The sink to a broker, made on first use. */
  for(nodeId: number): Sink {
    let sink = this.#sinks.get(nodeId);
    if (sink === undefined) {
      this.#dropDeparted();
      sink = this.#make(nodeId);
      this.#sinks.set(nodeId, sink);
    }
    return sink;
  }

  /**
   * Closes and forgets the idle sinks of nodes that left the cluster: a broker replaced under a new node id (or
   * leadership moved to new brokers) left one sink behind per id the worker ever sent to, kept for its life. Done
   * when a sink is made, the only way their number grows. A sink with a request in flight stays until it is answered.
   */
  #dropDeparted(): void {
    for (const [nodeId, sink] of this.#sinks) {
      if (this.#parts.view.hasBroker(nodeId) || !sink.isIdle) continue;
      sink.close();
      this.#sinks.delete(nodeId);
    }
  }

  closeAll(): void {
    for (const sink of this.#sinks.values()) sink.close();
  }

  #make(nodeId: number): Sink {
    const { settings, view, outcomes, stats, port } = this.#parts;
    const { acks, requestTimeoutMs, maxInFlight, transactionalId, maxProduceVersion } = settings;
    return new Sink(nodeId, view, { acks: acks as Acks, requestTimeoutMs, maxInFlight, transactionalId, maxProduceVersion }, {
      answered: (outgoing, outcome) => outcomes.answered(outgoing, outcome, nodeId),
      lost: (outgoing, error, written) => outcomes.lost(outgoing, error, written),
      ready: () => this.#hooks.pump(),
      unreachable: (error) => {
        // No retry (nothing was sent, the batches wait unsent), but an operator needs to see a broker out of reach.
        stats.add(WorkerStat.CONNECT_ERRORS);
        port.postMessage({ type: 'event', event: 'connect-error', broker: nodeId, message: error.message } satisfies WorkerEvent);
        // Refused credentials: the pump fails the waiting batches while the refusal holds (ClusterView.authRefusal).
        if (error instanceof AuthenticationError) {
          this.#hooks.pump();
          return;
        }
        // Refreshed, the metadata may name another leader; the pump after the refresh tries again.
        this.#hooks.refresh();
        outcomes.metadataStale();
      },
      throttled: (ms) => {
        stats.add(WorkerStat.THROTTLE_MS, ms);
        port.postMessage({ type: 'event', event: 'throttle', broker: nodeId, throttleTimeMs: ms } satisfies WorkerEvent);
      },
      inFlight: (delta) => {
        stats.add(WorkerStat.REQUESTS_IN_FLIGHT, delta);
        if (delta > 0) stats.add(WorkerStat.REQUESTS);
      },
    });
  }
}
