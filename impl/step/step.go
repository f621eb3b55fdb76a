// Package step is the optimizer step from a coalesced sparse gradient
// (optim.Stepper), serial or parallel. Each row's update is optim's
// Rule.Update on that row alone (run by impl/internal/rowstep's vector
// loops, which give Update's bits), so rows are independent: the parallel
// kernel cuts rows[:U] into contiguous parts, each updated by one worker,
// and gives the serial kernel's bits for every worker count.
package step

import (
	"runtime"

	"github.com/embgrad/embgrad/impl/internal/rowstep"
	"github.com/embgrad/embgrad/impl/internal/team"
	"github.com/embgrad/embgrad/optim"
)

// Kernel is the sparse-gradient step. The zero value uses GOMAXPROCS
// workers; WithWorkers(1) is the serial kernel.
type Kernel struct {
	workers int
	// always, set only by the package's tests, makes the kernel go
	// parallel whatever the size, so the suites' small cases exercise the
	// parallel path.
	always bool // 0: GOMAXPROCS at each call
}

var (
	_ optim.Stepper         = Kernel{}
	_ optim.ParallelStepper = Kernel{}
)

// Name returns "step".
func (Kernel) Name() string { return "step" }

// WithWorkers returns the kernel with n workers (n < 1 counts as 1).
func (k Kernel) WithWorkers(n int) optim.Stepper {
	k.workers = max(n, 1)
	return k
}

// minWork is the number of row elements below which a step runs on the
// calling goroutine alone. partsPerWorker: many small parts, claimed in
// turn through team.Run, so that a worker that loses its CPU on a shared
// machine delays the step by one small part, not by a half.
const (
	minWork        = 1 << 15
	partsPerWorker = 8
)

// Step implements optim.Stepper.
func (k Kernel) Step(w []float32, st *optim.State, V, D int, rows []int32, values []float32, U int, o optim.Optimizer) error {
	if err := optim.ValidateStep(w, st, V, D, rows, values, U, o); err != nil {
		return err
	}
	r := rowstep.New(o.Rule(st.Step + 1))
	n := k.workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if n == 1 || U*D < k.minWork() || U < 2 {
		update(&r, w, st, D, rows[:U], values)
	} else {
		parallel(r, n, w, st, D, rows[:U], values)
	}
	st.Step++
	return nil
}

// parallel is update on contiguous parts of rows, one worker each. It is
// a function of its own so that the closure's captures (and the rule) are
// heap-allocated only on this path, not by every serial call.
func parallel(r rowstep.Rule, n int, w []float32, st *optim.State, D int, rows []int32, values []float32) {
	U := len(rows)
	t := team.Start(n)
	parts := min(n*partsPerWorker, U)
	t.Run(parts, func(p int) {
		lo, hi := p*U/parts, (p+1)*U/parts
		update(&r, w, st, D, rows[lo:hi], values[lo*D:])
	})
	t.Stop()
}

// update applies r to rows, whose gradients are values' consecutive rows,
// rowstep.Group rows at a time (Adagrad's sums of squares interleaved).
// The rows of w (and Adam's moments) are scattered over the table, which
// the hardware prefetchers cannot follow: each group's rows are requested
// one group ahead, while the current group is updated. (values is read in
// order and needs no hint.)
func update(r *rowstep.Rule, w []float32, st *optim.State, D int, rows []int32, values []float32) {
	var b rowstep.Rows
	for lo := 0; lo < len(rows); lo += rowstep.Group {
		hi := min(lo+rowstep.Group, len(rows))
		for _, v := range rows[hi:min(hi+rowstep.Group, len(rows))] {
			j := int(v)
			r.Prefetch(w[j*D:(j+1)*D], st.Row1(j, D), st.Row2(j, D))
		}
		b.N = hi - lo
		for u := lo; u < hi; u++ {
			i, k := int(rows[u]), u-lo
			b.W[k], b.M1[k], b.M2[k], b.G[k] = w[i*D:(i+1)*D], st.Row1(i, D), st.Row2(i, D), values[u*D:(u+1)*D]
		}
		r.UpdateGroup(&b)
	}
}

func (k Kernel) minWork() int {
	if k.always {
		return 0
	}
	return minWork
}
