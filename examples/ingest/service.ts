/**
 * An HTTP ingestion service on ringkafka, written as an embedder would: Node's own `http` (no framework, so what is
 * measured is the producer, and nothing here needs a dependency), NDJSON in, Kafka out.
 *
 *   POST /topics/:topic[?key=FIELD][&ack=accept]   one record per NDJSON line, sent as it is (trimmed)
 *   GET  /healthz                                  200 while delivering, 503 while deliveries fail or once shutting down
 *   GET  /metrics                                  Prometheus text: producer metrics, requests, event-loop delay
 *
 * What it shows:
 * - Acknowledged (default): the answer waits until every record is acknowledged: 200 with the count, or per-record
 *   failures. `ack=accept`: 202 as soon as the producer took every record (trySend: no waiting, no promise per
 *   record); failures after that are counted in /metrics. A request whose first record trySend refuses (its topic's
 *   metadata not loaded yet, the producer not connected yet, or the buffer full) sends that one record acknowledged,
 *   then takes the rest as before.
 * - Back-pressure with bounded memory: a request never buffers beyond the producer's byte budget. Acknowledged
 *   requests wait for room at most the producer's `bufferTimeoutMs`, then get 503 with `Retry-After` and the index
 *   from which nothing was sent; `ack=accept` requests get 503 with how many were accepted: at once when a record
 *   was taken, after at most `bufferTimeoutMs` when not even the first was. Beyond `maxConcurrentRequests` under
 *   way, a request gets 503 with `Retry-After` before its body is read.
 * - A client that goes away aborts its sends (AbortSignal): records not yet handed to a worker are never sent.
 * - The whole request is validated before anything is sent: a bad line (not JSON, not UTF-8, a key that is neither a
 *   string nor a safe integer) is a 400 naming it, too many bytes or lines a 413, and nothing goes.
 * - Graceful shutdown (`shutdown`): stop accepting, let requests finish, flush and close the producer, all within
 *   one deadline; called again, it is the same shutdown. It fails when records answered 202 failed as it closed.
 * - A topic the cluster does not have is a 404 (no retry can succeed), and a client too slow to send its request a
 *   408 (`requestTimeoutMs`): neither holds a slot or marks the instance unhealthy.
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ProducerMetrics, ProducerRecord, SendOptions } from '../../src/main/index.js';
import { HttpError, checkLineCount, decodeBody, readBody, toRecords, tooLarge } from './body.js';

/**
 * What the service needs of a producer. ringkafka's Producer is one as it is; the parts other clients lack are
 * optional, so `npm run bench:ingest` can run this same HTTP handling on KafkaJS and @platformatic/kafka through
 * small adapters, and what differs between the runs is the producer alone.
 */
export interface IngestProducer {
  sendBatch(records: readonly ProducerRecord[], options: SendOptions): Promise<PromiseSettledResult<unknown>[]>;
  close(options: { timeoutMs: number }): Promise<void>;
  /** Takes a record without waiting, or says no; without it `ack=accept` is answered 501. */
  trySend?(record: ProducerRecord): boolean;
  /**
   * For /metrics; without it only the service's own counters are reported. For /healthz too: a rise in its
   * `recordsSent` is the only sign that a record taken by `trySend` was delivered, so without it a failure is ended
   * only by an acknowledged request or `unhealthyForMs`.
   */
  metrics?(): ProducerMetrics;
  /**
   * A record taken by `trySend` failed (ringkafka's Producer emits 'deliveryError'); without it such failures are
   * neither counted nor seen by /healthz.
   */
  on?(event: 'deliveryError', listener: (error: unknown) => void): unknown;
  /** Removes the listener `on` added, once the service has shut down. */
  off?(event: 'deliveryError', listener: (error: unknown) => void): unknown;
}

export interface IngestOptions {
  /**
   * Largest request body accepted (default 8 MiB; 413 beyond): at once, its body unread, when its Content-Length says
   * so, before a `100 Continue` when it expects one.
   */
  readonly maxBodyBytes?: number;
  /**
   * Most lines in one request (default 100,000; 413 beyond, nothing sent). Parsing costs memory and event-loop time
   * per line, not per byte: the body limit alone let one 8 MiB request of 4,000,000 tiny lines hold about 1.7 GB.
   */
  readonly maxLinesPerRequest?: number;
  /** Seconds a client is told to wait in Retry-After when the buffer is full. */
  readonly retryAfterSeconds?: number;
  /**
   * Produce requests read or processed at once (default 64); one more is answered 503 with Retry-After at once,
   * its body unread. Memory stays within the producer's `maxBufferedBytes` plus this many requests, each at most
   * `maxBodyBytes` of body and `maxLinesPerRequest` lines of parsed records.
   */
  readonly maxConcurrentRequests?: number;
  /** How long a delivery failure with no record acknowledged since keeps /healthz at 503 (default 30 s). */
  readonly unhealthyForMs?: number;
  /**
   * How long a client has to send its whole request, headers and body (default 30 s; Node answers `408` and closes
   * the connection after it). Node's own default, 300 s, let 64 clients trickling a byte a second hold every request
   * slot for five minutes, and every other client got `503`.
   */
  readonly requestTimeoutMs?: number;
}

export interface IngestService {
  readonly server: http.Server;
  /**
   * Stops accepting, waits for open requests, closes every connection, then flushes and closes the producer; all
   * within `deadlineMs`. A later call returns the first call's promise (its deadline stands).
   */
  shutdown(deadlineMs: number): Promise<void>;
}

const TOPIC_PATH = /^\/topics\/([^/?]+)$/;
/** Kafka's rule for topic names. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const MAX_REPORTED_FAILURES = 100;
/** The producer's refusals of a record itself, made before anything is sent, and the status each is answered with. */
const REFUSALS = new Map([['ERR_RECORD_TOO_LARGE', 413], ['ERR_INVALID_RECORD', 400]]);
/** Kafka's error codes for a topic the cluster does not have (UNKNOWN_TOPIC_OR_PARTITION) or cannot (INVALID_TOPIC_EXCEPTION). */
const NO_SUCH_TOPIC = new Set([3, 17]);

/**
 * The status of a failure that resending cannot cure, made before anything was sent; undefined for any other. A topic
 * the cluster answered it does not have is a 404: it was the full buffer's 503 with Retry-After, a retry that could
 * never succeed, and it turned /healthz to 503, so one client's wrong topic took the instance out of its balancer.
 * Not when no answer named the topic (errorCode 0: the cluster out of reach), which is an outage: 503, and unhealthy.
 */
function refusalStatus(reason: Error & { code?: string; errorCode?: number }): number | undefined {
  if (reason.code === 'ERR_UNKNOWN_TOPIC') return NO_SUCH_TOPIC.has(reason.errorCode ?? 0) ? 404 : undefined;
  return REFUSALS.get(reason.code ?? '');
}
/** The event-loop delay histogram's sampling interval: each sample is this interval plus the delay. */
const DELAY_RESOLUTION_MS = 10;

function answer(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

/** An option's value, or its default: a value that is not a number in range is refused, naming the option. */
function numberOption(options: IngestOptions, name: keyof IngestOptions, fallback: number, min: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`options.${name} must be a whole number, ${min} or more; got ${String(value)}`);
  }
  return value;
}

export function createIngestService(producer: IngestProducer, options: IngestOptions = {}): IngestService {
  // Checked at once: `maxConcurrentRequests: 0` answered every request 503, and NaN never limited anything.
  const maxBodyBytes = numberOption(options, 'maxBodyBytes', 8 * 1024 * 1024, 1);
  const maxLines = numberOption(options, 'maxLinesPerRequest', 100_000, 1);
  const retryAfter = String(numberOption(options, 'retryAfterSeconds', 1, 0));
  const maxConcurrent = numberOption(options, 'maxConcurrentRequests', 64, 1);
  const unhealthyForMs = numberOption(options, 'unhealthyForMs', 30_000, 0);
  const requestTimeoutMs = numberOption(options, 'requestTimeoutMs', 30_000, 1);
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  delay.enable();
  const counts = { requests: new Map<string, number>(), records: 0, lateFailures: 0, aborted: 0 };
  /**
   * /healthz's rule: 503 while the latest delivery outcome the service saw is a failure (a record not acknowledged,
   * other than one the producer refused as too large or invalid, or one whose client went away) and no record has
   * been acknowledged since. It answered 200 while every send failed (the cluster unreachable), and a load balancer
   * kept sending there. An acknowledged request clears it, and so does any record the producer counts as sent (so
   * accept mode's records clear it too). The failure stops counting after `unhealthyForMs` without a newer one: a
   * balancer sends no traffic to an instance it took out, so without that its health could never come back.
   */
  let failing: { reason: string; at: number; sent: number | undefined } | undefined;
  const deliveryFailed = (error: unknown): void => {
    const reason = error instanceof Error ? `${(error as Error & { code?: string }).code ?? error.name}: ${error.message}` : String(error);
    failing = { reason, at: Date.now(), sent: producer.metrics?.().recordsSent };
  };
  const unhealthy = (): string | undefined => {
    if (failing === undefined) return undefined;
    const sent = producer.metrics?.().recordsSent;
    if (Date.now() - failing.at >= unhealthyForMs || (sent !== undefined && failing.sent !== undefined && sent > failing.sent)) failing = undefined;
    return failing?.reason;
  };
  const onDeliveryError = (error: unknown): void => {
    counts.lateFailures++;
    deliveryFailed(error);
  };
  producer.on?.('deliveryError', onDeliveryError);
  let open = 0;
  /** The responses not yet sent, for shutdown to close their connections after them. */
  const answering = new Set<http.ServerResponse>();
  let producing = 0;
  let shuttingDown = false;
  let idle: (() => void) | undefined;
  let stopping: Promise<void> | undefined;

  /**
   * A 503 says which limit refused the request (`reason`): the service's own (`max_concurrent_requests`) or the
   * producer's (`buffer_full`). Under one `code="503"` an operator could not tell which limit to raise.
   */
  const count = (status: number, reason?: 'max_concurrent_requests' | 'buffer_full'): void => {
    const labels = reason === undefined ? `code="${status}"` : `code="${status}",reason="${reason}"`;
    counts.requests.set(labels, (counts.requests.get(labels) ?? 0) + 1);
  };

  async function produce(req: http.IncomingMessage, res: http.ServerResponse, topic: string, url: URL, continues: boolean): Promise<void> {
    if (!LEGAL_TOPIC.test(topic)) throw new HttpError(400, `topic ${JSON.stringify(topic)} is not a legal Kafka topic name`);
    // Refused before a byte of the body is read: the limit was found only mid-upload, and the request destroyed then
    // reset the connection before the 413 was written.
    if (Number(req.headers['content-length']) > maxBodyBytes) throw tooLarge(maxBodyBytes);
    // `Expect: 100-continue`: the client sends its body only once told to, after every check above.
    if (continues) res.writeContinue();
    const body = await readBody(req, maxBodyBytes);
    checkLineCount(body, maxLines);
    const records = toRecords(topic, decodeBody(body), url.searchParams.get('key'));
    const mode = url.searchParams.get('ack') ?? 'all';
    if (mode !== 'all' && mode !== 'accept') throw new HttpError(400, `ack must be all or accept, got ${JSON.stringify(mode)}`);
    // The client going away aborts what has not been handed to a worker yet: it will never read the answer.
    const gone = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) gone.abort(new Error('the client closed the request'));
    };
    res.once('close', onClose);
    try {
      return await (mode === 'accept' ? accept(res, records, gone.signal) : acknowledged(res, records, gone.signal));
    } finally {
      res.off('close', onClose);
    }
  }

  async function accept(res: http.ServerResponse, records: ProducerRecord[], signal: AbortSignal): Promise<void> {
    const trySend = producer.trySend?.bind(producer);
    if (trySend === undefined) throw new HttpError(501, 'this producer cannot take records without waiting: use ack=all');
    let accepted = 0;
    let refusal: (Error & { code?: string }) | undefined;
    const take = (): void => {
      try {
        while (accepted < records.length && trySend(records[accepted]!)) accepted++;
      } catch (error) {
        refusal = error as Error & { code?: string };
      }
    };
    take();
    if (accepted === 0 && refusal === undefined && records.length > 0) {
      // trySend says no without saying why, and the first record of any request to a topic whose metadata was not
      // loaded yet was refused so: answered 503 "the buffer is full", counted as buffer_full, though the buffer was
      // empty. That record goes by an acknowledged send instead, which waits for what it lacks (the connection, the
      // metadata, room: at most `bufferTimeoutMs` for them), then trySend takes the rest. It counts as accepted only
      // once acknowledged, so resending from `accepted` after a 503 still writes nothing twice.
      const [result] = await producer.sendBatch([records[0]!], { signal });
      if (signal.aborted) {
        counts.aborted++;
        return;
      }
      if (result!.status === 'fulfilled') {
        accepted = 1;
        failing = undefined;
        take();
      } else {
        const reason = result!.reason as Error & { code?: string; delivery?: string };
        if (refusalStatus(reason) !== undefined) refusal = reason;
        else {
          deliveryFailed(reason);
          if (reason.delivery !== 'not-sent') {
            // Perhaps written: resending it may write it twice, as an acknowledged request's `unknown` failure says.
            count(502);
            return answer(res, 502, { accepted: 0, total: records.length, error: `line 1: ${reason.code ?? reason.name}: ${reason.message}`, delivery: reason.delivery ?? 'unknown' });
          }
          // Not sent (no room within `bufferTimeoutMs`, or no connection or metadata within it): the full buffer's answer.
        }
      }
    }
    counts.records += accepted;
    if (refusal !== undefined) {
      // A line the producer refuses (too large, invalid) after it took the lines before it: the answer says how many
      // it took, as the full-buffer answer does. A bare 500 made the client resend the whole body, and the lines
      // before this one were written twice.
      const status = refusalStatus(refusal) ?? 500;
      count(status);
      return answer(res, status, { accepted, total: records.length, error: `line ${accepted + 1}: ${refusal.message}` });
    }
    if (accepted < records.length) {
      count(503, 'buffer_full');
      return answer(res, 503, { accepted, total: records.length, error: 'the buffer is full: resend from `accepted`' }, { 'retry-after': retryAfter });
    }
    count(202);
    return answer(res, 202, { accepted });
  }

  async function acknowledged(res: http.ServerResponse, records: ProducerRecord[], signal: AbortSignal): Promise<void> {
    const results = await producer.sendBatch(records, { signal });
    if (signal.aborted) {
      counts.aborted++;
      return;
    }
    const failures: { index: number; error: string; delivery: string }[] = [];
    let notSentFrom = -1;
    let onlyNotSent = true;
    let sentAfter = false;
    let refused: number | undefined;
    let cause: unknown;
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') {
        if (notSentFrom >= 0) sentAfter = true;
        return;
      }
      const reason = result.reason as Error & { delivery?: string; code?: string };
      // The producer refuses such a record before it is sent, and its error carries no `delivery`: it was reported
      // `unknown`, and the client could not tell that nothing of it was written.
      const refusal = refusalStatus(reason);
      refused ??= refusal;
      if (refusal === undefined) cause ??= reason;
      const delivery = refusal !== undefined ? 'not-sent' : reason.delivery ?? 'unknown';
      if (delivery !== 'not-sent') onlyNotSent = false;
      else if (refusal === undefined && notSentFrom < 0) notSentFrom = index;
      if (failures.length < MAX_REPORTED_FAILURES) failures.push({ index, error: `${reason.code ?? reason.name}: ${reason.message}`, delivery });
    });
    const delivered = records.length - results.filter((r) => r.status === 'rejected').length;
    counts.records += delivered;
    if (delivered > 0) failing = undefined;
    else if (cause !== undefined) deliveryFailed(cause);
    const failedCount = records.length - delivered;
    if (failedCount === 0) {
      count(200);
      return answer(res, 200, { delivered });
    }
    // Resending from `notSentFrom` must neither write a record twice nor leave one out: every record before it was
    // delivered (or refused), none from it on written. It was the first `not-sent` failure whatever surrounded it: a
    // record delivered after it (or an `unknown` one, perhaps written) was sent twice, and an `unknown` one before it,
    // perhaps never written, was left out. -1 when there is no such place.
    if (!onlyNotSent || sentAfter) notSentFrom = -1;
    // A refused line fails the same way when resent: 413 or 400 (as in accept mode, never a 503 to retry), which says
    // the other lines were sent, so only when refusals are the only failures. With a broker failure besides, it was a
    // 413 all the same, with no Retry-After, and the client took the failed records for delivered: the broker
    // failure's answer instead (503 or 502), the refused line among the failures, `not-sent`.
    const status = cause === undefined && refused !== undefined ? refused : onlyNotSent ? 503 : 502;
    count(status, status === 503 ? 'buffer_full' : undefined);
    // `failedCount` and `truncated`: the list stops at MAX_REPORTED_FAILURES, and a client told to resend the failures
    // alone could not tell it had not been given all of them.
    const cut = failedCount > failures.length ? { truncated: true } : {};
    return answer(res, status, { delivered, notSentFrom, failedCount, failures, ...cut }, status === 503 ? { 'retry-after': retryAfter } : {});
  }

  function metrics(res: http.ServerResponse): void {
    const m = producer.metrics?.();
    const lines = [
      ...(m === undefined ? [] : [
        '# TYPE ringkafka_buffered_bytes gauge', `ringkafka_buffered_bytes ${m.bufferedBytes}`,
        '# TYPE ringkafka_buffered_records gauge', `ringkafka_buffered_records ${m.bufferedRecords}`,
        '# TYPE ringkafka_records_sent_total counter', `ringkafka_records_sent_total ${m.recordsSent}`,
        '# TYPE ringkafka_records_failed_total counter', `ringkafka_records_failed_total ${m.recordsFailed}`,
        '# TYPE ringkafka_retries_total counter', `ringkafka_retries_total ${m.retries}`,
        '# TYPE ringkafka_requests_in_flight gauge', `ringkafka_requests_in_flight ${m.requestsInFlight}`,
        '# TYPE ringkafka_throttle_time_ms_total counter', `ringkafka_throttle_time_ms_total ${m.throttleTimeMs}`,
      ]),
      '# TYPE ingest_records_total counter', `ingest_records_total ${counts.records}`,
      '# TYPE ingest_late_failures_total counter', `ingest_late_failures_total ${counts.lateFailures}`,
      '# TYPE ingest_aborted_requests_total counter', `ingest_aborted_requests_total ${counts.aborted}`,
      '# TYPE ingest_requests_total counter',
      ...[...counts.requests].map(([labels, n]) => `ingest_requests_total{${labels}} ${n}`),
      '# TYPE nodejs_eventloop_delay_p99_seconds gauge', `nodejs_eventloop_delay_p99_seconds ${Math.max(0, delay.percentile(99) / 1e9 - DELAY_RESOLUTION_MS / 1e3)}`,
    ];
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`${lines.join('\n')}\n`);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, continues: boolean): void {
    open++;
    answering.add(res);
    res.once('close', () => {
      answering.delete(res);
      if (--open === 0) idle?.();
    });
    // A request target that is no URL (`//`) or a topic that is no percent-encoding (`%E0%A4%A`) threw here, outside
    // any catch: the process died with every accepted request in flight. A 400 instead.
    let url: URL;
    let topic: string | undefined;
    try {
      url = new URL(req.url ?? '/', 'http://ingest');
      const encoded = TOPIC_PATH.exec(url.pathname)?.[1];
      topic = encoded === undefined ? undefined : decodeURIComponent(encoded);
    } catch {
      count(400);
      return answer(res, 400, { error: `not a request target this service reads: ${JSON.stringify(req.url)}` });
    }
    // A known path with another method was a 404, as if the path did not exist; HEAD is GET without the body (Node
    // leaves it out), which a monitor's HEAD /healthz got a 404 for.
    const allow = topic !== undefined ? 'POST' : url.pathname === '/healthz' || url.pathname === '/metrics' ? 'GET, HEAD' : undefined;
    if (allow === undefined) return answer(res, 404, { error: 'POST /topics/:topic, GET /healthz or GET /metrics' });
    if (!allow.split(', ').includes(req.method ?? '')) {
      count(405);
      return answer(res, 405, { error: `${String(req.method)} ${url.pathname}: the method is not one of ${allow}` }, { allow });
    }
    if (url.pathname === '/healthz') {
      if (shuttingDown) return answer(res, 503, { status: 'shutting down' });
      const reason = unhealthy();
      return reason === undefined ? answer(res, 200, { status: 'ok' }) : answer(res, 503, { status: 'failing', reason });
    }
    if (url.pathname === '/metrics') return metrics(res);
    // A compressed body was parsed as it came: gzip's bytes were a 400 "not JSON" at best. Refused, its body unread.
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
      count(415);
      return answer(res, 415, { error: `Content-Encoding ${JSON.stringify(encoding)} is not supported: send the body uncompressed` }, { 'accept-encoding': 'identity', connection: 'close' });
    }
    if (shuttingDown) return answer(res, 503, { error: 'shutting down' }, { 'retry-after': retryAfter, connection: 'close' });
    // Each request under way holds its body until it is answered: without a limit, memory grew with the number of
    // clients, past any bound. Refused before its body is read, and the connection closed rather than drained.
    if (producing >= maxConcurrent) {
      count(503, 'max_concurrent_requests');
      return answer(res, 503, { error: `${maxConcurrent} requests are under way: try again later` }, { 'retry-after': retryAfter, connection: 'close' });
    }
    producing++;
    res.once('close', () => producing--);
    produce(req, res, topic!, url, continues).catch((error: unknown) => {
      // A client that went away mid-upload ends the reading of its body with an error: counted with the other
      // departed clients, not as a 500, which is for the service's own faults; nobody is left to answer.
      if (res.destroyed) {
        counts.aborted++;
        return;
      }
      const status = error instanceof HttpError ? error.status : 500;
      count(status);
      answer(res, status, { error: error instanceof Error ? error.message : String(error) }, error instanceof HttpError ? error.headers : {});
    });
  }

  const server = http.createServer({
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    // Node looks for requests past their time every this often (30 s by default, which a 30 s limit would double).
    connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs),
  }, (req, res) => handle(req, res, false));
  // Without this listener Node answered `100 Continue` to every request that asked, and an oversized upload was sent
  // whole before its 413; now the checks come first and `produce` sends the 100 only to a request it will read.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => handle(req, res, true));

  /**
   * Once: SIGTERM then SIGINT each called it, and the second replaced the first's drain, so the first waited out its
   * whole deadline and then closed the producer with no time left. A later call is the first call's shutdown.
   */
  function shutdown(deadlineMs: number): Promise<void> {
    stopping ??= stop(deadlineMs);
    return stopping;
  }

  async function stop(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    shuttingDown = true;
    // The answers still to come close their connections: kept alive, a client's next request on one met the
    // connection's end (a reset) instead of the `503` a new request gets.
    for (const res of answering) res.shouldKeepAlive = false;
    // Once the server stops listening and its last connection has ended (or at once, with an error, when it was not
    // listening).
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
    try {
      if (open > 0) await Promise.race([new Promise<void>((resolve) => (idle = resolve)), late]);
      // Every connection, whether requests were under way or not. `server.close()` waits for each one, and only idle
      // keep-alives are cut by it: a load balancer's TCP check, or a client part-way through its headers, held it,
      // and with no request under way this was never done, so shutdown never returned, the producer was never closed
      // and records answered 202 but still buffered were lost. With no request under way cutting them loses nothing
      // (none was read, none will be answered); past the deadline it cuts the requests still under way.
      server.closeAllConnections();
      await Promise.race([closed, late]);
    } finally {
      clearTimeout(timer);
    }
    const failedBefore = counts.lateFailures;
    try {
      // What was accepted (ack=accept) goes out before the deadline or is reported failed by close.
      await producer.close({ timeoutMs: Math.max(0, deadline - Date.now()) });
      // Records answered 202 that close failed are lost: said, and the shutdown fails. It said nothing and succeeded,
      // and the only trace was a counter that ended with the process.
      const lost = counts.lateFailures - failedBefore;
      if (lost > 0) throw new Error(`${lost} record${lost === 1 ? '' : 's'} answered 202 (ack=accept) failed as the producer closed: not delivered`);
    } finally {
      // After close, which reports the accepted records it failed through this listener: nothing is left to count.
      // Even when close rejects: the listener and the histogram held on to a service that had shut down.
      producer.off?.('deliveryError', onDeliveryError);
      delay.disable();
    }
  }

  return { server, shutdown };
}
