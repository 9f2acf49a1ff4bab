/*
 * The librdkafka peer of ringkafka's throughput benchmark: a small producer loop in C against Debian's
 * librdkafka-dev (bench/throughput.ts builds it with gcc and starts it once per scenario).
 *
 * It drives librdkafka the way its users do for throughput: rd_kafka_producev() without waiting, serving
 * delivery reports with rd_kafka_poll(), and on QUEUE_FULL polling until the queue has room. A warm-up runs first
 * against the same topic; the clock covers the measured records from the first produce until the last delivery
 * report (rd_kafka_flush), so every record is acknowledged before it stops. One JSON line goes to stdout.
 *
 * usage: producer BROKERS TOPIC RECORDS WARMUP PAYLOAD_FILE none|lz4 LINGER_MS BATCH_BYTES BUFFER_BYTES
 *                 BUFFER_RECORDS SAMPLE_EVERY KEYS_FILE CA_PEM CERT_PEM KEY_PEM RATE
 *
 * KEYS_FILE: keys, one per line, record i uses line i mod n, placed by murmur2 as Java does (partitioner
 * murmur2_random); "-" for no keys. CA_PEM CERT_PEM KEY_PEM: mutual TLS (security.protocol=ssl); "-" for plaintext.
 * RATE: records per second on a fixed schedule, record i due i/RATE s after the start (bench/lib/pacing.ts's rule),
 * each sampled record timed from its due time to its delivery report; 0 for as fast as it can.
 */
#include <librdkafka/rdkafka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct payloads {
  char **values;
  size_t *lengths;
  size_t count;
};

/* What the delivery report callback counts; only rd_kafka_poll/flush on this thread call it. */
struct progress {
  long delivered;
  long failed;
  char first_error[256];
  long sample_every;
  long seen;
  double *latencies_ms;
  size_t latency_count;
  size_t latency_capacity;
  double rate;     /* records per second; 0: not paced */
  double start_ms; /* when record 0 of the current run was due */
};

static void die(const char *what, const char *detail) {
  fprintf(stderr, "librdkafka peer: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* This program's peak resident set in MiB: VmHWM from /proc/self/status. Not getrusage's ru_maxrss, which Linux
 * carries over from the process that spawned this one (the bench's own size). Falls back to it without /proc. */
static double peak_rss_mb(void) {
  FILE *status = fopen("/proc/self/status", "r");
  if (status != NULL) {
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, status) != NULL) {
      if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    }
    fclose(status);
    if (kib >= 0) return kib / 1024.0;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0; /* KiB on Linux */
}

static double cpu_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}

static void read_payloads(const char *path, struct payloads *out) {
  FILE *file = fopen(path, "r");
  if (!file) die("cannot open payload file", strerror(errno));
  size_t capacity = 1024;
  out->values = malloc(capacity * sizeof *out->values);
  out->lengths = malloc(capacity * sizeof *out->lengths);
  out->count = 0;
  char *line = NULL;
  size_t size = 0;
  ssize_t length;
  while ((length = getline(&line, &size, file)) > 0) {
    if (line[length - 1] == '\n') line[--length] = '\0';
    if (length == 0) continue;
    if (out->count == capacity) {
      capacity *= 2;
      out->values = realloc(out->values, capacity * sizeof *out->values);
      out->lengths = realloc(out->lengths, capacity * sizeof *out->lengths);
    }
    out->values[out->count] = strdup(line);
    out->lengths[out->count] = (size_t)length;
    out->count++;
  }
  free(line);
  fclose(file);
  if (out->count == 0) die("no values in payload file", path);
}

/* librdkafka measures produce() → acknowledgement itself (rd_kafka_message_latency, in µs). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
  (void)rk;
  struct progress *progress = opaque;
  if (message->err) {
    if (progress->failed++ == 0) {
      snprintf(progress->first_error, sizeof progress->first_error, "%s", rd_kafka_err2str(message->err));
      /* it goes into a JSON string */
      for (char *c = progress->first_error; *c; c++) {
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) *c = '\'';
      }
    }
    return;
  }
  progress->delivered++;
  if (progress->sample_every > 0 && progress->seen++ % progress->sample_every == 0 &&
      progress->latency_count < progress->latency_capacity) {
    if (progress->rate > 0) {
      /* the record's index rides in its opaque: its due time follows from the schedule */
      double due = progress->start_ms + (double)(intptr_t)message->_private * 1e3 / progress->rate;
      progress->latencies_ms[progress->latency_count++] = now_ms() - due;
    } else {
      int64_t micros = rd_kafka_message_latency(message);
      if (micros >= 0) progress->latencies_ms[progress->latency_count++] = (double)micros / 1e3;
    }
  }
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) die(name, error);
}

/* Produces `count` records, then waits until every one has its delivery report. */
static long produce_all(rd_kafka_t *rk, rd_kafka_topic_t *topic, const struct payloads *values,
                        const struct payloads *keys, long count, long *bytes) {
  long produced = 0;
  struct progress *progress = rd_kafka_opaque(rk);
  progress->start_ms = now_ms();
  for (long i = 0; i < count; i++) {
    if (progress->rate > 0) {
      /* wait for record i's due time, serving delivery reports meanwhile so their times are read promptly */
      double due = progress->start_ms + (double)i * 1e3 / progress->rate;
      for (double left = due - now_ms(); left > 0; left = due - now_ms()) {
        if (left >= 1) {
          rd_kafka_poll(rk, (int)left);
        } else {
          rd_kafka_poll(rk, 0);
          struct timespec pause = {0, (long)(left * 1e6)};
          nanosleep(&pause, NULL);
        }
      }
    }
    size_t pick = (size_t)i % values->count;
    const char *key = NULL;
    size_t key_length = 0;
    if (keys->count > 0) {
      key = keys->values[(size_t)i % keys->count];
      key_length = keys->lengths[(size_t)i % keys->count];
    }
    for (;;) {
      if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, values->values[pick],
                           values->lengths[pick], key, key_length, (void *)(intptr_t)i) == 0) {
        break;
      }
      rd_kafka_resp_err_t err = rd_kafka_last_error();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce failed", rd_kafka_err2str(err));
      rd_kafka_poll(rk, 1); /* the buffer is full: serve delivery reports until there is room */
    }
    *bytes += (long)values->lengths[pick];
    produced++;
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  while (rd_kafka_outq_len(rk) > 0) {
    rd_kafka_resp_err_t err = rd_kafka_flush(rk, 60 * 1000);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) die("flush timed out", NULL);
  }
  return produced;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest rank, the same rule as bench/lib/stats.ts. */
static void print_percentile(const char *name, double *sorted, size_t count, double q) {
  if (count == 0) {
    printf("\"%s\":null", name);
    return;
  }
  double rank = q * (double)count;
  size_t index = (size_t)rank;
  if ((double)index < rank) index++;
  if (index > 0) index--;
  if (index >= count) index = count - 1;
  printf("\"%s\":%.3f", name, sorted[index]);
}

int main(int argc, char **argv) {
  if (argc != 17) die("usage: producer BROKERS TOPIC RECORDS WARMUP PAYLOAD_FILE COMPRESSION LINGER_MS "
                      "BATCH_BYTES BUFFER_BYTES BUFFER_RECORDS SAMPLE_EVERY KEYS_FILE CA_PEM CERT_PEM KEY_PEM RATE", NULL);
  const char *keys_file = argv[12], *ca_pem = argv[13], *cert_pem = argv[14], *key_pem = argv[15];
  int keyed = strcmp(keys_file, "-") != 0, tls = strcmp(ca_pem, "-") != 0;
  const char *brokers = argv[1], *topic_name = argv[2], *payload_file = argv[5], *compression = argv[6];
  long records = atol(argv[3]), warmup = atol(argv[4]), sample_every = atol(argv[11]);
  long buffer_kbytes = atol(argv[9]) / 1024;

  struct payloads values;
  read_payloads(payload_file, &values);
  struct payloads keys = {0};
  if (keyed) read_payloads(keys_file, &keys);

  struct progress progress = {0};
  progress.sample_every = sample_every;
  progress.rate = atof(argv[16]);
  progress.latency_capacity = sample_every > 0 ? (size_t)(records / sample_every + 1) : 0;
  progress.latencies_ms = calloc(progress.latency_capacity + 1, sizeof(double));

  char number[32];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", brokers);
  set(conf, "acks", "all");
  set(conf, "enable.idempotence", "true");
  set(conf, "compression.codec", compression);
  set(conf, "linger.ms", argv[7]);
  set(conf, "batch.size", argv[8]);
  /* The per-batch limit is the smallest of batch.size, batch.num.messages and message.max.bytes: raise the
   * other two so batch.size is the one that binds, as it does for the other clients. 1048588 is the broker's
   * default message.max.bytes. */
  set(conf, "batch.num.messages", "1000000");
  set(conf, "message.max.bytes", "1048588");
  snprintf(number, sizeof number, "%ld", buffer_kbytes);
  set(conf, "queue.buffering.max.kbytes", number);
  set(conf, "queue.buffering.max.messages", argv[10]);
  if (keyed) set(conf, "partitioner", "murmur2_random"); /* Java's placement of keyed records */
  if (tls) {
    set(conf, "security.protocol", "ssl");
    set(conf, "ssl.ca.location", ca_pem);
    set(conf, "ssl.certificate.location", cert_pem);
    set(conf, "ssl.key.location", key_pem);
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &progress);

  char error[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (!rk) die("rd_kafka_new", error);
  rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, topic_name, NULL);
  if (!topic) die("rd_kafka_topic_new", rd_kafka_err2str(rd_kafka_last_error()));

  long bytes = 0;
  long sample_saved = progress.sample_every;
  progress.sample_every = 0; /* no latency samples during the warm-up */
  produce_all(rk, topic, &values, &keys, warmup, &bytes);
  if (progress.failed > 0) die("warm-up records failed", progress.first_error);
  progress.sample_every = sample_saved;
  progress.delivered = 0;

  bytes = 0;
  double cpu_before = cpu_seconds();
  double start = now_ms();
  produce_all(rk, topic, &values, &keys, records, &bytes);
  double elapsed = now_ms() - start;
  double cpu = cpu_seconds() - cpu_before;

  qsort(progress.latencies_ms, progress.latency_count, sizeof(double), compare);

  printf("{\"records\":%ld,\"bytes\":%ld,\"elapsedMs\":%.3f,", records, bytes, elapsed);
  print_percentile("p50Ms", progress.latencies_ms, progress.latency_count, 0.50);
  printf(",");
  print_percentile("p99Ms", progress.latencies_ms, progress.latency_count, 0.99);
  if (progress.rate > 0) {
    printf(",");
    print_percentile("p999Ms", progress.latencies_ms, progress.latency_count, 0.999);
    printf(",");
    print_percentile("maxMs", progress.latencies_ms, progress.latency_count, 1);
  }
  printf(",\"cpuSec\":%.3f,\"rssMB\":%.1f,\"errors\":%ld,\"delivered\":%ld,", cpu, peak_rss_mb(),
         progress.failed, progress.delivered);
  printf("\"firstError\":\"%s\",", progress.first_error);
  printf("\"settings\":[\"librdkafka %s\",\"linger.ms=%s\",\"batch.size=%s\",\"batch.num.messages=1000000\","
         "\"message.max.bytes=1048588\",\"queue.buffering.max.kbytes=%ld\",\"queue.buffering.max.messages=%s\","
         "\"acks=all\",\"enable.idempotence=true\",\"%s\"%s],",
         rd_kafka_version_str(), argv[7], argv[8], buffer_kbytes, argv[10],
         keyed ? "partitioner=murmur2_random" : "partitioner=consistent_random (default)",
         tls ? ",\"security.protocol=ssl, ssl.ca.location, ssl.certificate.location, ssl.key.location\"" : "");
  if (progress.rate > 0) {
    printf("\"latencyNote\":\"each record from its due time to its delivery report, every record (rd_kafka_produce on "
           "schedule, rd_kafka_poll while waiting)\"}\n");
  } else {
    printf("\"latencyNote\":\"rd_kafka_message_latency (produce call to acknowledgement), 1 in %ld records\"}\n",
           sample_every);
  }

  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(rk);
  return 0;
}
