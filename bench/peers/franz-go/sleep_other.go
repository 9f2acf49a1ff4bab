//go:build !linux

package main

import "time"

// sleepUntil returns at t or after; only Linux has the finer sleep of sleep_linux.go.
func sleepUntil(t time.Time) {
	if wait := time.Until(t); wait > 0 {
		time.Sleep(wait)
	}
}
