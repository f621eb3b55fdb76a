// Package sharded is the parallel kernel. Its workers split the columns of
// the table, not the rows or the positions: worker w owns the column block
// [c₀, c₁) of every row and runs the whole reference loop on that block,
//
//	for i, id := range ids {            // every worker, in position order
//		if opt.Skips(id) {
//			continue
//		}
//		s := float32(1) // 1/count(id) with ScaleGradByFreq
//		for j := c₀; j < c₁; j++ {   // only its own columns
//			dst[int(id)*D+j] += s * gradOut[i*D+j]
//		}
//	}
//
// Why columns:
//
//   - Skew costs nothing. Every worker does len(ids)·(c₁−c₀) adds whatever
//     the ids are, so a Zipf-skewed or all-same stream is shared as evenly as
//     a uniform one. Splitting rows (PyTorch's CPU kernel: every thread
//     rescans all ids and keeps those it owns) serialises a hot row on one
//     thread; splitting positions needs private partial tables and a merge.
//   - Determinism is free. Each element of dst receives its terms in position
//     order, one rounding per term, whatever the number of workers, so the
//     result is bitwise identical for every worker count (and to the
//     reference loop). No element has two writers, so there are no atomics
//     or locks, only the wait for the workers at the end.
//   - Each worker reads only its slice of gradOut and dst, so the memory
//     traffic is that of the serial loop, shared.
//
// The cost is that every worker walks all ids, which is cheap next to the
// D/workers columns it adds per position. Blocks are whole multiples of 16
// float32 (a 64-byte cache line), so workers do not write the same line more
// than at block edges; a table narrower than 32 columns therefore runs on one
// worker, as does a call too small to repay starting goroutines.
//
// BackwardScratch clears dst in parallel first, each worker one contiguous
// range of rows (a GPT-2 gradient is 154 MB, and the clear is most of the
// time), then accumulates by columns as Backward does.
package sharded

import (
	"runtime"
	"sync"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/rowcount"
	"github.com/embgrad/embgrad/internal/vec"
)

// Kernel is the column-sharded parallel kernel. The zero value uses
// GOMAXPROCS workers; WithWorkers sets another count.
type Kernel struct {
	workers int // 0: runtime.GOMAXPROCS(0) at each call
}

var (
	_ embgrad.Kernel        = Kernel{}
	_ embgrad.Parallel      = Kernel{}
	_ embgrad.ScratchKernel = Kernel{}
)

// Name returns "sharded".
func (Kernel) Name() string { return "sharded" }

// WithWorkers returns the kernel with n workers (n < 1 counts as 1).
func (Kernel) WithWorkers(n int) embgrad.Kernel {
	return Kernel{workers: max(n, 1)}
}

// workerCount is the number of workers a call may use.
func (k Kernel) workerCount() int {
	if k.workers > 0 {
		return k.workers
	}
	return runtime.GOMAXPROCS(0)
}

const (
	// lane is the narrowest column block: one 64-byte cache line of float32.
	lane = 16
	// minWork is the number of float32 adds (or clears) below which a call
	// runs on the calling goroutine alone.
	minWork = 1 << 15
)

// Backward implements embgrad.Kernel.
func (k Kernel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	k.accumulate(dst, V, D, ids, gradOut, opt)
	return nil
}

// BackwardScratch implements embgrad.ScratchKernel.
func (k Kernel) BackwardScratch(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	n := k.clearWorkers(len(dst))
	parallel(n, func(w int) {
		lo, hi := split(len(dst), n, w, lane)
		clear(dst[lo:hi])
	})
	k.accumulate(dst, V, D, ids, gradOut, opt)
	return nil
}

// clearWorkers is the number of row ranges dst is cleared in.
func (k Kernel) clearWorkers(size int) int {
	return max(min(k.workerCount(), size/minWork), 1)
}

// accumulate is Backward on validated input.
func (k Kernel) accumulate(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) {
	var counts *rowcount.Counts
	if opt.ScaleGradByFreq {
		counts = rowcount.Acquire(V, ids, opt)
		defer counts.Release()
	}
	n := k.columnWorkers(D, len(ids))
	parallel(n, func(w int) {
		c0, c1 := split(D, n, w, lane)
		addColumns(dst, D, c0, c1, ids, gradOut, opt, counts)
	})
}

// columnWorkers is the number of column blocks for a call: at most one per
// worker and per cache line of a row, and one for a small call.
func (k Kernel) columnWorkers(D, N int) int {
	return max(min(k.workerCount(), D/lane, N*D/minWork), 1)
}

// addColumns runs the reference loop on columns [c0, c1) of every row.
func addColumns(dst []float32, D, c0, c1 int, ids []int32, gradOut []float32, opt embgrad.Options, counts *rowcount.Counts) {
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		row := dst[int(id)*D+c0 : int(id)*D+c1]
		g := gradOut[i*D+c0 : i*D+c1]
		if counts != nil {
			vec.AddScaled(row, g, counts.Scale(id))
		} else {
			vec.Add(row, g)
		}
	}
}

// split returns the w-th of n contiguous parts of [0, size), with inner
// boundaries on multiples of align.
func split(size, n, w, align int) (lo, hi int) {
	units := (size + align - 1) / align
	lo = min(units*w/n*align, size)
	hi = min(units*(w+1)/n*align, size)
	return lo, hi
}

// parallel runs f(0), …, f(n-1) on n goroutines (the caller's among them)
// and returns when all have.
func parallel(n int, f func(w int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < n; w++ {
		wg.Go(func() { f(w) })
	}
	f(0)
	wg.Wait()
}
