// The Java peer of the transactional scenario (`100B-txn`) of ringkafka's throughput benchmark: Kafka's own
// KafkaProducer from the broker's kafka-clients jar, committing one transaction per `--transaction-records` records.
//
// Why not ProducerPerformance: its `--transaction-duration-ms` commits by elapsed time, so the records per
// transaction would vary with the machine's speed; the scenario fixes the count, as the other clients' drivers do.
// The bench compiles this file with javac into bench/bin/java/ (bench/lib/setup.ts) and runs it in a process of its
// own. It prints one report as a JSON line on stdout (bench/lib/contract.ts), like the franz-go peer.
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

public final class TxnPerf {
  private static final class Outcome {
    long bytes;
    final AtomicLong errors = new AtomicLong();
    final AtomicReference<String> firstError = new AtomicReference<>();
    final List<Double> transactionMs = new ArrayList<>();

    void fail(long records, Exception error) {
      errors.addAndGet(records);
      firstError.compareAndSet(null, error.getClass().getSimpleName() + ": " + error.getMessage());
    }
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = flags(argv);
    List<byte[]> values = readValues(args.get("payload-file"));
    String topic = args.get("topic");
    int perTransaction = Integer.parseInt(args.get("transaction-records"));
    List<String> settings = List.of(
        "acks=all", "enable.idempotence=true", "linger.ms=" + args.get("linger-ms"), "batch.size=" + args.get("batch-bytes"),
        "buffer.memory=" + args.get("buffer-bytes"), "compression.type=" + args.get("compression"),
        "transactional.id=" + args.get("transactional-id"));
    Properties props = new Properties();
    props.put("bootstrap.servers", args.get("brokers"));
    for (String setting : settings) {
      int eq = setting.indexOf('=');
      props.put(setting.substring(0, eq), setting.substring(eq + 1));
    }
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      Outcome warm = run(producer, topic, values, 0, Integer.parseInt(args.get("warmup")), perTransaction);
      if (warm.errors.get() > 0) throw new IllegalStateException(warm.errors.get() + " warm-up records failed: " + warm.firstError.get());
      com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      int records = Integer.parseInt(args.get("records"));
      long cpuBefore = os.getProcessCpuTime();
      long start = System.nanoTime();
      Outcome measured = run(producer, topic, values, Integer.parseInt(args.get("warmup")), records, perTransaction);
      double elapsedMs = (System.nanoTime() - start) / 1e6;
      double cpuSec = (os.getProcessCpuTime() - cpuBefore) / 1e9;
      Collections.sort(measured.transactionMs);
      StringBuilder json = new StringBuilder("{\"records\":").append(records)
          .append(",\"bytes\":").append(measured.bytes)
          .append(",\"elapsedMs\":").append(elapsedMs)
          .append(",\"p50Ms\":").append(percentile(measured.transactionMs, 0.5))
          .append(",\"p99Ms\":").append(percentile(measured.transactionMs, 0.99))
          .append(",\"cpuSec\":").append(cpuSec)
          .append(",\"rssMB\":null,\"errors\":").append(measured.errors.get());
      if (measured.firstError.get() != null) json.append(",\"firstError\":").append(quote(measured.firstError.get()));
      json.append(",\"settings\":[");
      for (int i = 0; i < settings.size(); i++) json.append(i > 0 ? "," : "").append(quote(settings.get(i)));
      json.append(",").append(quote("kafka-clients " + org.apache.kafka.common.utils.AppInfoParser.getVersion()))
          .append(",").append(quote("one transaction per " + perTransaction + " records, committed"))
          .append("],\"latencyNote\":").append(quote("per transaction: beginTransaction() to commitTransaction() returned, every transaction"))
          .append("}");
      System.out.println(json);
    }
  }

  /**
   * Sends records from..from+count-1 (record i has value i mod n) in transactions of perTransaction records, one
   * after the other: a producer has one open transaction at a time. send() never blocks on an acknowledgement;
   * commitTransaction() flushes and commits, so a transaction's time covers every one of its records.
   */
  private static Outcome run(KafkaProducer<byte[], byte[]> producer, String topic, List<byte[]> values, int from, int count, int perTransaction) {
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
      outcome.transactionMs.add((System.nanoTime() - began) / 1e6);
    }
    return outcome;
  }

  /** `--name value` pairs. */
  private static Map<String, String> flags(String[] argv) {
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (!argv[i].startsWith("--")) throw new IllegalArgumentException("expected --flag, got " + argv[i]);
      flags.put(argv[i].substring(2), argv[i + 1]);
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
