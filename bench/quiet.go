package bench

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// Helpers that make benchmark samples quieter (results/noise/NOISE.md has
// the study behind them): a warm-up before timing, and benchmark buffers
// backed by transparent huge pages.

// WarmUp calls f, untimed, until it has run at least minCalls times and for
// at least minTime, and returns how many calls it made. A benchmark calls it
// before its b.Loop: b.Loop times every call from the first, so without a
// warm-up the first call of each sample (a helper thread that has to be
// woken, a vCPU leaving its idle state, cold caches and branch predictors)
// is part of the sample. It stops at f's first error.
func WarmUp(minCalls int, minTime time.Duration, f func() error) (int, error) {
	start := time.Now()
	n := 0
	for n < minCalls || time.Since(start) < minTime {
		if err := f(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// hugePage is the size of an x86-64 transparent huge page.
const hugePage = 2 << 20

// errNoHuge is mmapHuge's error where the system has no transparent huge
// pages to ask for.
var errNoHuge = errors.New("transparent huge pages are not available on this system")

// Big returns a zeroed slice of n elements for a benchmark buffer, and the
// function that releases it (the slice must not be used after). With huge
// false it is an ordinary Go allocation, which on Linux gets 4 KB pages
// unless transparent huge pages are "always" (Go's runtime does not ask
// for huge pages). With huge true it is mapped outside the Go heap at a
// 2 MB boundary and advised MADV_HUGEPAGE before any page is touched, so
// that the kernel backs it with 2 MB pages where it can ("madvise" or
// "always" in /sys/kernel/mm/transparent_hugepage/enabled): fewer TLB
// misses and page walks for random rows of a large table. That changes
// what a benchmark measures — faster random access than a Go program that
// does not do the same gets — so results say which they used (the
// "hugepages:" config line). T must hold no pointers.
func Big[T float32 | uint64 | int32 | byte](n int, huge bool) ([]T, func(), error) {
	if n < 0 {
		return nil, nil, fmt.Errorf("bench.Big: n = %d", n)
	}
	if !huge || n == 0 {
		return make([]T, n), func() {}, nil
	}
	var zero T
	size := n * int(unsafe.Sizeof(zero))
	p, free, err := mmapHuge(size)
	if err != nil {
		return nil, nil, err
	}
	return unsafe.Slice((*T)(p), n), free, nil
}
