/**
 * Send → acknowledgement latencies for `ringkafka perf`, kept per group of records that share one (a sendBatch
 * call): a value and a count, so a million records cost a few thousand entries, and percentiles weigh each group by
 * its records.
 */
export interface LatencySummary {
  readonly avg: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export class LatencyHistogram {
  #values = new Float64Array(1024);
  #counts = new Uint32Array(1024);
  #length = 0;
  #records = 0;
  #sum = 0;
  #max = 0;

  get records(): number {
    return this.#records;
  }

  /** `count` records were acknowledged `ms` after they were sent. */
  add(ms: number, count: number): void {
    if (count <= 0) return;
    if (this.#length === this.#values.length) {
      const values = new Float64Array(this.#length * 2);
      values.set(this.#values);
      this.#values = values;
      const counts = new Uint32Array(this.#length * 2);
      counts.set(this.#counts);
      this.#counts = counts;
    }
    this.#values[this.#length] = ms;
    this.#counts[this.#length++] = count;
    this.#records += count;
    this.#sum += ms * count;
    if (ms > this.#max) this.#max = ms;
  }

  summary(): LatencySummary {
    if (this.#records === 0) return { avg: 0, p50: 0, p95: 0, p99: 0, p999: 0, max: 0 };
    const order = Array.from({ length: this.#length }, (_, i) => i).sort((a, b) => this.#values[a]! - this.#values[b]!);
    const at = (quantile: number): number => {
      // The smallest latency at or below which `quantile` of the records fall (nearest rank).
      const rank = Math.max(1, Math.ceil(quantile * this.#records));
      let seen = 0;
      for (const i of order) {
        seen += this.#counts[i]!;
        if (seen >= rank) return this.#values[i]!;
      }
      return this.#max;
    };
    return { avg: this.#sum / this.#records, p50: at(0.5), p95: at(0.95), p99: at(0.99), p999: at(0.999), max: this.#max };
  }
}
