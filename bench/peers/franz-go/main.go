// The franz-go peer of ringkafka's throughput benchmark (bench/throughput.ts starts it, one run per scenario).
//
// It is driven the way franz-go's users drive it for throughput: Produce with a callback, never waiting for one
// record before the next; the client's own buffer limit (MaxBufferedBytes / MaxBufferedRecords) pushes back. A
// warm-up runs first against the same topic; the clock covers the measured records from the first Produce until
// the last callback, so every record is acknowledged before it stops. The result is one JSON line on stdout.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type result struct {
	Records     int64    `json:"records"`
	Bytes       int64    `json:"bytes"`
	ElapsedMs   float64  `json:"elapsedMs"`
	P50Ms       *float64 `json:"p50Ms"`
	P99Ms       *float64 `json:"p99Ms"`
	P999Ms      *float64 `json:"p999Ms,omitempty"`
	MaxMs       *float64 `json:"maxMs,omitempty"`
	CPUSec      float64  `json:"cpuSec"`
	RSSMB       float64  `json:"rssMB"`
	Errors      int64    `json:"errors"`
	FirstError  string   `json:"firstError,omitempty"`
	Settings    []string `json:"settings"`
	LatencyNote string   `json:"latencyNote"`
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma separated")
	topic := flag.String("topic", "", "topic to produce to")
	records := flag.Int("records", 200_000, "measured records")
	warmup := flag.Int("warmup", 20_000, "warm-up records, not measured")
	payloadFile := flag.String("payload-file", "", "values, one per line; record i uses line i mod n")
	compression := flag.String("compression", "none", "none or lz4")
	lingerMs := flag.Int("linger-ms", 5, "ProducerLinger")
	batchBytes := flag.Int("batch-bytes", 1<<20, "ProducerBatchMaxBytes")
	bufferBytes := flag.Int("buffer-bytes", 64<<20, "MaxBufferedBytes")
	bufferRecords := flag.Int("buffer-records", 1_000_000, "MaxBufferedRecords")
	sampleEvery := flag.Int("sample-every", 64, "time one record in this many")
	keysFile := flag.String("keys-file", "", "keys, one per line; record i uses line i mod n (default: no keys)")
	tlsCA := flag.String("tls-ca", "", "CA certificate (PEM) for TLS; with -tls-cert and -tls-key: mutual TLS")
	tlsCert := flag.String("tls-cert", "", "client certificate (PEM)")
	tlsKey := flag.String("tls-key", "", "client key (PEM)")
	rate := flag.Float64("rate", 0, "records per second on a fixed schedule, every record timed from its due time (0: as fast as it can)")
	txnRecords := flag.Int("transaction-records", 0, "commit one transaction per this many records (0: no transactions)")
	txnID := flag.String("transactional-id", "", "TransactionalID, with -transaction-records")
	flag.Parse()
	if (*txnRecords > 0) != (*txnID != "") {
		fail(fmt.Errorf("-transaction-records and -transactional-id go together"))
	}

	values, err := readPayloads(*payloadFile)
	if err != nil {
		fail(err)
	}
	var keys [][]byte
	if *keysFile != "" {
		if keys, err = readPayloads(*keysFile); err != nil {
			fail(err)
		}
	}
	codec := kgo.NoCompression()
	if *compression == "lz4" {
		codec = kgo.Lz4Compression()
	} else if *compression != "none" {
		fail(fmt.Errorf("unsupported compression %q", *compression))
	}
	// Idempotence is franz-go's default (acks=all is required for it and is also the default); set both anyway
	// so the settings are visible here.
	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.DefaultProduceTopic(*topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(time.Duration(*lingerMs) * time.Millisecond),
		kgo.ProducerBatchMaxBytes(int32(*batchBytes)),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedBytes(*bufferBytes),
		kgo.MaxBufferedRecords(*bufferRecords),
	}
	settings := []string{}
	if *tlsCA != "" {
		config, err := tlsConfig(*tlsCA, *tlsCert, *tlsKey)
		if err != nil {
			fail(err)
		}
		opts = append(opts, kgo.DialTLSConfig(config))
		settings = append(settings, "DialTLSConfig(RootCAs, Certificates) (mutual TLS)")
	}
	if *txnRecords > 0 {
		opts = append(opts, kgo.TransactionalID(*txnID))
		settings = append(settings, "TransactionalID="+*txnID, fmt.Sprintf("one transaction per %d records, committed", *txnRecords))
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		fail(err)
	}
	defer client.Close()

	ctx := context.Background()
	produce := func(n, sample int) measured {
		if *txnRecords > 0 {
			return runTransactions(ctx, client, values, keys, n, *txnRecords)
		}
		return run(ctx, client, values, keys, n, sample, *rate)
	}
	if w := produce(*warmup, 0); w.errors > 0 {
		fail(fmt.Errorf("warm-up: %d records failed, first: %w", w.errors, w.firstError))
	}
	cpuBefore := cpuSeconds()
	start := time.Now()
	m := produce(*records, *sampleEvery)
	elapsed := time.Since(start)
	cpu := cpuSeconds() - cpuBefore

	out := result{
		Records:   int64(*records),
		Bytes:     m.bytes,
		ElapsedMs: float64(elapsed.Nanoseconds()) / 1e6,
		P50Ms:     percentile(m.latencies, 0.50),
		P99Ms:     percentile(m.latencies, 0.99),
		CPUSec:    cpu,
		RSSMB:     peakRSSMB(),
		Errors:    m.errors,
		Settings: []string{
			"franz-go " + moduleVersion("github.com/twmb/franz-go"),
			fmt.Sprintf("ProducerLinger=%dms", *lingerMs), fmt.Sprintf("ProducerBatchMaxBytes=%d", *batchBytes),
			fmt.Sprintf("MaxBufferedBytes=%d", *bufferBytes), fmt.Sprintf("MaxBufferedRecords=%d", *bufferRecords),
			"RequiredAcks=all", "idempotent (default)", "partitioner=default (murmur2 for keys, sticky for null keys)",
		},
		LatencyNote: fmt.Sprintf("Produce call to promise, 1 in %d records", *sampleEvery),
	}
	out.Settings = append(out.Settings, settings...)
	if *rate > 0 {
		out.P999Ms = percentile(m.latencies, 0.999)
		out.MaxMs = percentile(m.latencies, 1)
		out.LatencyNote = "each record from its due time to its promise, every record (one Produce per record, on schedule)"
	}
	if *txnRecords > 0 {
		out.LatencyNote = "per transaction: BeginTransaction to EndTransaction(TryCommit) returned, every transaction"
	}
	if m.firstError != nil {
		out.FirstError = m.firstError.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

type measured struct {
	bytes      int64
	errors     int64
	firstError error
	latencies  []float64
}

// run produces n records and returns once every one of them has its promise called. With rate > 0 record i is
// due i/rate seconds after the start (bench/lib/pacing.ts's rule): the loop sleeps until then, and a sampled
// record's latency runs from its due time, so falling behind the schedule shows as latency.
func run(ctx context.Context, client *kgo.Client, values, keys [][]byte, n int, sampleEvery int, rate float64) measured {
	var (
		m       measured
		wg      sync.WaitGroup
		errs    atomic.Int64
		errOnce sync.Once
		mu      sync.Mutex
	)
	if sampleEvery > 0 {
		m.latencies = make([]float64, 0, n/sampleEvery+1)
	}
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		value := values[i%len(values)]
		m.bytes += int64(len(value))
		record := &kgo.Record{Value: value}
		if keys != nil {
			record.Key = keys[i%len(keys)]
		}
		sampled := sampleEvery > 0 && i%sampleEvery == 0
		var sent time.Time
		if rate > 0 {
			sent = start.Add(time.Duration(float64(i) * 1e9 / rate))
			// Never early; when a sleep overshoots, the records now due go without one until the loop catches up.
			sleepUntil(sent)
		} else if sampled {
			// Only a sampled record reads the clock, as in the other drivers: a time.Now() for every record cost
			// this loop about 44 ns of its ~0.7 µs per 100 B record.
			sent = time.Now()
		}
		if sampled {
			client.Produce(ctx, record, func(_ *kgo.Record, err error) {
				elapsed := time.Since(sent)
				mu.Lock()
				m.latencies = append(m.latencies, float64(elapsed.Nanoseconds())/1e6)
				mu.Unlock()
				onResult(err, &errs, &errOnce, &m.firstError)
				wg.Done()
			})
			continue
		}
		client.Produce(ctx, record, func(_ *kgo.Record, err error) {
			onResult(err, &errs, &errOnce, &m.firstError)
			wg.Done()
		})
	}
	wg.Wait()
	m.errors = errs.Load()
	return m
}

func onResult(err error, errs *atomic.Int64, once *sync.Once, first *error) {
	if err == nil {
		return
	}
	errs.Add(1)
	once.Do(func() { *first = err })
}

func readPayloads(path string) ([][]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var values [][]byte
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		if line := scanner.Bytes(); len(line) > 0 {
			values = append(values, append([]byte(nil), line...))
		}
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("no values in %s", path)
	}
	return values, scanner.Err()
}

// tlsConfig trusts the CA in caFile and, given both, presents the client certificate in certFile and keyFile.
func tlsConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	config := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" && keyFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}

// peakRSSMB is this program's peak resident set in MiB: VmHWM from /proc/self/status. Not getrusage's maxrss,
// which Linux carries over from the process that spawned this one (the bench's own size). Falls back to maxrss
// without /proc.
func peakRSSMB() float64 {
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			var kib float64
			if _, err := fmt.Sscanf(line, "VmHWM: %f kB", &kib); err == nil {
				return kib / 1024
			}
		}
	}
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return float64(usage.Maxrss) / 1024 // Linux reports KiB
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return tv(usage.Utime) + tv(usage.Stime)
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func percentile(sorted []float64, q float64) *float64 {
	if len(sorted) == 0 {
		return nil
	}
	sort.Float64s(sorted)
	// Nearest rank, the same rule as bench/lib/stats.ts.
	index := int(math.Ceil(q*float64(len(sorted)))) - 1
	index = max(0, min(index, len(sorted)-1))
	return &sorted[index]
}

// moduleVersion is the version of a dependency compiled into this binary.
func moduleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return dep.Version
			}
		}
	}
	return "(unknown)"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "franz-go peer:", err)
	os.Exit(1)
}
