// The Java peer of ringkafka's throughput benchmark: Kafka's own KafkaProducer from the broker's kafka-clients jar,
// driven the way the bench drives every other client, in its saturation scenarios and in the transactional one.
//
// Why not ProducerPerformance (kafka-producer-perf-test), which the bench still runs at a fixed rate: its clock
// starts at the first measured send while warm-up records may still be unacknowledged, and stops after close();
// every other client waits for all its warm-up acknowledgements before the clock starts and stops it at the last
// acknowledgement, so this driver sends the warm-up, flush()es, and times the measured records to the callback of
// the last one. And its `--transaction-duration-ms` commits by elapsed time, so the records per transaction would
// vary with the machine's speed; the transactional scenario fixes the count, as the other clients' drivers do.
//
// Producer settings come as `--property key=value` (bench/lib/java-perf.ts, javaSettings: ProducerPerformance's
// own). The bench compiles this file with javac into bench/bin/java/ (bench/lib/setup.ts) and runs it in a process
// of its own. It prints one report as a JSON line on stdout (bench/lib/contract.ts), like the franz-go peer.
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class ProducerPeer {
  private static final class Outcome {
    long bytes;
    final AtomicLong errors = new AtomicLong();
    final AtomicReference<String> firstError = new AtomicReference<>();
    /** Per transaction, or per sampled record; in ms. */
    final List<Double> latencyMs = new ArrayList<>();
    /**
     * System.nanoTime() of the latest acknowledgement. Written by the producer's I/O thread, which runs the callbacks
     * one after another; read once flush() has returned, which waits for every callback to have run.
     */
    long lastAckNanos;

    void fail(long records, Exception error) {
      errors.addAndGet(records);
      firstError.compareAndSet(null, error.getClass().getSimpleName() + ": " + error.getMessage());
    }
  }

  public static void main(String[] argv) throws Exception {
    List<String> properties = new ArrayList<>();
    Map<String, String> args = flags(argv, properties);
    List<byte[]> values = readValues(args.get("payload-file"));
    // Absent: no keys (the sticky partitioner); else record i's key is line i mod n, murmur2 choosing its partition.
    List<byte[]> keys = args.containsKey("keys-file") ? readValues(args.get("keys-file")) : null;
    String topic = args.get("topic");
    int warmup = Integer.parseInt(args.get("warmup"));
    int records = Integer.parseInt(args.get("records"));
    // Absent: no transactions, every record its own send, latency sampled one record in `sample-every`.
    Integer perTransaction = args.containsKey("transaction-records") ? Integer.valueOf(args.get("transaction-records")) : null;
    int sampleEvery = Integer.parseInt(args.getOrDefault("sample-every", "1"));
    Properties props = new Properties();
    props.put("bootstrap.servers", args.get("brokers"));
    for (String setting : properties) {
      int eq = setting.indexOf('=');
      props.put(setting.substring(0, eq), setting.substring(eq + 1));
    }
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      if (perTransaction != null) producer.initTransactions();
      Outcome warm = perTransaction != null
          ? inTransactions(producer, topic, values, 0, warmup, perTransaction)
          : send(producer, topic, values, keys, 0, warmup, sampleEvery);
      // Every warm-up record acknowledged before the clock starts, as the other drivers wait for theirs.
      producer.flush();
      if (warm.errors.get() > 0) throw new IllegalStateException(warm.errors.get() + " warm-up records failed: " + warm.firstError.get());
      com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long cpuBefore = os.getProcessCpuTime();
      long start = System.nanoTime();
      Outcome measured = perTransaction != null
          ? inTransactions(producer, topic, values, warmup, records, perTransaction)
          : send(producer, topic, values, keys, warmup, records, sampleEvery);
      producer.flush();
      // The clock stops at the last acknowledgement (a transaction's: when its commit returned), not at flush()'s
      // return; with no record acknowledged the run fails on its errors and the time is flush()'s.
      long end = measured.lastAckNanos != 0 ? measured.lastAckNanos : System.nanoTime();
      double elapsedMs = (end - start) / 1e6;
      double cpuSec = (os.getProcessCpuTime() - cpuBefore) / 1e9;
      Collections.sort(measured.latencyMs);
      List<String> settings = new ArrayList<>();
      for (String setting : properties) {
        // the scenario's, not the client's; and a per-run name
        if (!setting.startsWith("compression.type=") && !setting.startsWith("transactional.id=")) settings.add(setting);
      }
      if (!props.containsKey("max.request.size")) settings.add("max.request.size=1048576 (default)");
      settings.add("partitioner=default (sticky for null keys)");
      for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (flag.startsWith("-Xmx")) settings.add("heap " + flag);
      }
      settings.add("kafka-clients " + org.apache.kafka.common.utils.AppInfoParser.getVersion());
      if (perTransaction != null) settings.add("one transaction per " + perTransaction + " records, committed");
      StringBuilder json = new StringBuilder("{\"records\":").append(records)
          .append(",\"bytes\":").append(measured.bytes)
          .append(",\"elapsedMs\":").append(elapsedMs)
          .append(",\"p50Ms\":").append(percentile(measured.latencyMs, 0.5))
          .append(",\"p99Ms\":").append(percentile(measured.latencyMs, 0.99))
          .append(",\"cpuSec\":").append(cpuSec)
          .append(",\"rssMB\":null,\"errors\":").append(measured.errors.get());
      if (measured.firstError.get() != null) json.append(",\"firstError\":").append(quote(measured.firstError.get()));
      json.append(",\"settings\":[");
      for (int i = 0; i < settings.size(); i++) json.append(i > 0 ? "," : "").append(quote(settings.get(i)));
      json.append("],\"latencyNote\":").append(quote(perTransaction != null
              ? "per transaction: beginTransaction() to commitTransaction() returned, every transaction"
              : "KafkaProducer: send() to callback, one record in " + sampleEvery))
          .append("}");
      System.out.println(json);
    }
  }

  /**
   * Sends records from..from+count-1 (record i has value i mod n, and key i mod the keys' n when there are keys),
   * each with a callback; the caller flush()es.
   * send() returns at once unless the producer's buffer (buffer.memory) is full, which pushes back as the other
   * clients' buffers do. Latency: one record in sampleEvery, from its send() to its callback.
   */
  private static Outcome send(
      KafkaProducer<byte[], byte[]> producer, String topic, List<byte[]> values, List<byte[]> keys, int from, int count, int sampleEvery) {
    Outcome outcome = new Outcome();
    for (int i = 0; i < count; i++) {
      byte[] value = values.get((from + i) % values.size());
      byte[] key = keys == null ? null : keys.get((from + i) % keys.size());
      outcome.bytes += value.length;
      boolean sampled = i % sampleEvery == 0;
      long sent = sampled ? System.nanoTime() : 0;
      producer.send(new ProducerRecord<>(topic, key, value), (metadata, error) -> {
        long now = System.nanoTime();
        if (error != null) {
          // also run on this thread, when send() itself fails: only the counters, which are atomic
          outcome.fail(1, error);
          return;
        }
        outcome.lastAckNanos = now;
        if (sampled) outcome.latencyMs.add((now - sent) / 1e6);
      });
    }
    return outcome;
  }

  /**
   * Sends records from..from+count-1 in transactions of perTransaction records, one after the other: a producer has
   * one open transaction at a time. send() never blocks on an acknowledgement; commitTransaction() flushes and
   * commits, so a transaction's time covers every one of its records.
   */
  private static Outcome inTransactions(KafkaProducer<byte[], byte[]> producer, String topic, List<byte[]> values, int from, int count, int perTransaction) {
    Outcome outcome = new Outcome();
    for (int first = 0; first < count; first += perTransaction) {
      int end = Math.min(count, first + perTransaction);
      long began = System.nanoTime();
      producer.beginTransaction();
      AtomicReference<Exception> failed = new AtomicReference<>();
      for (int i = first; i < end; i++) {
        byte[] value = values.get((from + i) % values.size());
        outcome.bytes += value.length;
        producer.send(new ProducerRecord<>(topic, value), (metadata, error) -> {
          if (error != null) failed.compareAndSet(null, error);
        });
      }
      try {
        producer.commitTransaction();
      } catch (KafkaException error) {
        // An abortable error: the whole transaction's records count as failed, and the producer may go on.
        producer.abortTransaction();
        outcome.fail(end - first, failed.get() != null ? failed.get() : error);
        continue;
      }
      outcome.lastAckNanos = System.nanoTime();
      outcome.latencyMs.add((outcome.lastAckNanos - began) / 1e6);
    }
    return outcome;
  }

  /** `--name value` pairs; each `--property key=value` goes to `properties`, in order. */
  private static Map<String, String> flags(String[] argv, List<String> properties) {
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (!argv[i].startsWith("--")) throw new IllegalArgumentException("expected --flag, got " + argv[i]);
      if (argv[i].equals("--property")) {
        if (argv[i + 1].indexOf('=') <= 0) throw new IllegalArgumentException("expected --property key=value, got " + argv[i + 1]);
        properties.add(argv[i + 1]);
      } else {
        flags.put(argv[i].substring(2), argv[i + 1]);
      }
    }
    return flags;
  }

  private static List<byte[]> readValues(String path) throws IOException {
    List<byte[]> values = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(path), StandardCharsets.UTF_8)) {
      if (!line.isEmpty()) values.add(line.getBytes(StandardCharsets.UTF_8));
    }
    if (values.isEmpty()) throw new IllegalArgumentException("no values in " + path);
    return values;
  }

  /** Nearest rank, the rule of bench/lib/stats.ts; null when there is no sample. */
  private static String percentile(List<Double> sorted, double q) {
    if (sorted.isEmpty()) return "null";
    int index = Math.max(0, Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    return String.valueOf(sorted.get(index));
  }

  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }
}
