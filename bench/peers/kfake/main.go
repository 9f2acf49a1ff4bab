// The in-memory broker of ringkafka's throughput benchmark: `npm run bench -- --broker kfake` starts this instead
// of Apache Kafka, so every client is measured against a broker that costs almost nothing and stores nothing.
//
// It starts franz-go's fake cluster (kfake) on 127.0.0.1 with the bench's topics already created, each with its
// own partition count (`-topic name:partitions`, repeatable); topics the bench creates later through CreateTopics
// get `-partitions` partitions. Produce requests are checked (CRC, attributes, idempotent sequences) and answered
// with advancing offsets, but their records are dropped (BlackholeProduce), so the broker's memory stays flat.
//
// Once listening it prints one JSON line on stdout, {"addresses":["127.0.0.1:PORT"]}, and serves until stdin
// closes or it gets SIGINT / SIGTERM.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

type topicFlags []string

func (t *topicFlags) String() string     { return strings.Join(*t, ",") }
func (t *topicFlags) Set(s string) error { *t = append(*t, s); return nil }

func main() {
	var topics topicFlags
	port := flag.Int("port", 0, "port to listen on (0: any free port)")
	brokers := flag.Int("brokers", 1, "brokers in the fake cluster")
	partitions := flag.Int("partitions", 16, "partitions of topics created later (CreateTopics with -1, auto-creation)")
	blackhole := flag.Bool("blackhole", true, "validate produced batches but do not store them")
	flag.Var(&topics, "topic", "name:partitions of a topic to create at start (repeatable)")
	flag.Parse()

	opts := []kfake.Opt{
		kfake.NumBrokers(*brokers),
		kfake.DefaultNumPartitions(*partitions),
		kfake.AllowAutoTopicCreation(),
	}
	if *port != 0 {
		opts = append(opts, kfake.Ports(*port))
	}
	if *blackhole {
		opts = append(opts, kfake.BlackholeProduce())
	}
	for _, spec := range topics {
		name, count, ok := strings.Cut(spec, ":")
		n, err := strconv.Atoi(count)
		if !ok || err != nil || n <= 0 || name == "" {
			fail(fmt.Errorf("-topic %q: want name:partitions", spec))
		}
		opts = append(opts, kfake.SeedTopics(int32(n), name))
	}

	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		fail(err)
	}
	defer cluster.Close()

	if err := json.NewEncoder(os.Stdout).Encode(map[string]any{
		"addresses": cluster.ListenAddrs(),
		"kfake":     moduleVersion("github.com/twmb/franz-go/pkg/kfake"),
		"franzGo":   moduleVersion("github.com/twmb/franz-go"),
		"blackhole": *blackhole,
	}); err != nil {
		fail(err)
	}

	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // the bench holds our stdin open while it needs us
		done <- struct{}{}
	}()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		done <- struct{}{}
	}()
	<-done
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
	fmt.Fprintln(os.Stderr, "kfake:", err)
	os.Exit(1)
}
