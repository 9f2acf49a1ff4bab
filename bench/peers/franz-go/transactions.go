// The transactional scenario (bench/lib/contract.ts, transactionRecords): one transaction open at a time, as a
// producer with one TransactionalID must; within it records go out with Produce and callbacks, never one awaited
// at a time, then Flush and EndTransaction(TryCommit). A transaction with a failed record is aborted, and all its
// records count as failed. Latency is per transaction, from BeginTransaction until the commit returned.
package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func runTransactions(ctx context.Context, client *kgo.Client, values, keys [][]byte, n, perTransaction int) measured {
	var m measured
	for first := 0; first < n; first += perTransaction {
		end := min(n, first+perTransaction)
		began := time.Now()
		if err := client.BeginTransaction(); err != nil {
			m.fail(int64(n-first), err)
			return m
		}
		var (
			wg      sync.WaitGroup
			errs    atomic.Int64
			errOnce sync.Once
			failed  error
		)
		wg.Add(end - first)
		for i := first; i < end; i++ {
			value := values[i%len(values)]
			m.bytes += int64(len(value))
			record := &kgo.Record{Value: value}
			if keys != nil {
				record.Key = keys[i%len(keys)]
			}
			client.Produce(ctx, record, func(_ *kgo.Record, err error) {
				onResult(err, &errs, &errOnce, &failed)
				wg.Done()
			})
		}
		// Flush waits for every buffered record; the callbacks then have all run.
		flushErr := client.Flush(ctx)
		wg.Wait()
		commit := kgo.TryCommit
		if flushErr != nil || errs.Load() > 0 {
			commit = kgo.TryAbort
		}
		endErr := client.EndTransaction(ctx, commit)
		switch {
		case commit == kgo.TryAbort:
			m.fail(int64(end-first), firstOf(failed, flushErr))
		case endErr != nil:
			m.fail(int64(end-first), fmt.Errorf("commit: %w", endErr))
		default:
			m.latencies = append(m.latencies, float64(time.Since(began).Nanoseconds())/1e6)
		}
		if endErr != nil && commit == kgo.TryAbort {
			return m // an abort that fails leaves the producer unusable
		}
	}
	return m
}

func (m *measured) fail(records int64, err error) {
	m.errors += records
	if m.firstError == nil {
		m.firstError = err
	}
}

func firstOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("unknown failure")
}
