/**
 * A worker's requests for fresh metadata, and what follows each refresh: one pump once it is in, or a retry after
 * a backoff when it failed (failures in a row back off exponentially).
 *
 * Many parts of the worker ask while one refresh is under way: every pump that finds a batch without a leader,
 * every answer that says the leader moved, every new topic. The cluster view shares one request among them, and
 * this shares what follows: one continuation per refresh, however many asked. Before, each request added its own,
 * so while a partition had no leader every pump after a refresh found it still leaderless and asked again: the
 * continuations never fell in number and grew with the traffic on other partitions, a worker spending more and more
 * of its time pumping (over half a million refresh calls per two seconds after forty seconds without a leader).
 */
import { backoffMs, type BackoffSettings } from '../shared/backoff.js';

export interface RefreshHooks {
  /** A refresh is in: what waited for it may go now. */
  refreshed(): void;
  /** A refresh failed: ask again at `at` (epoch ms), after the backoff. */
  retryAt(at: number): void;
}

export class MetadataRefresher {
  readonly #view: { refresh(topic?: string): Promise<void> };
  readonly #hooks: RefreshHooks;
  readonly #settings: BackoffSettings;
  /** The refresh whose continuation is attached: asking again while it runs attaches nothing more. */
  #awaited: Promise<void> | undefined;
  /** Refreshes failed in a row, for their backoff. */
  #failures = 0;

  constructor(view: { refresh(topic?: string): Promise<void> }, hooks: RefreshHooks, settings: BackoffSettings) {
    this.#view = view;
    this.#hooks = hooks;
    this.#settings = settings;
  }

  /**
   * Asks for a refresh (and that `topic` be in it, when given). A failed refresh is ordinary (the broker is down, or
   * answered nonsense); its rejection is always handled here: unhandled, it would end the worker thread.
   */
  request(topic?: string): void {
    const refreshing = this.#view.refresh(topic);
    if (refreshing === this.#awaited) return;
    this.#awaited = refreshing;
    refreshing.then(
      () => {
        this.#failures = 0;
        this.#hooks.refreshed();
      },
      () => {
        this.#hooks.retryAt(Date.now() + backoffMs(this.#failures++, this.#settings));
      },
    );
  }
}
