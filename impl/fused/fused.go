// Package fused is the optimizer step fused into the embedding backward
// (optim.Fused), serial or parallel: no gradient buffer is made, each
// touched row's contributions are reduced into one row of scratch and the
// row and its state are updated at once.
//
// The plan, the same for every worker count: sort (id, position) pairs of
// the non-padding positions; each id's run is one unit, summed in position
// order exactly as impl/sparse sums it (cleared row, then += s·g per
// position, the product rounded once), then updated by optim's
// Rule.Update (run by impl/internal/rowstep's vector loops, which give its
// bits). So the result is bit for bit that of impl/sparse followed by
// impl/step, for every worker count. The parallel kernel cuts the runs into
// 8 contiguous parts per worker of about equal cost (occurrences + one for
// the update, times D) and the workers claim them in turn through
// impl/internal/team; a row belongs to one part, so no element has two
// writers. Within a part, rowstep.Group runs are reduced, each into its
// own scratch row, then updated together (rowstep.Rule.UpdateGroup).
//
// Why not split a hot row's run across workers as impl/sharded does: the
// update needs the whole row's gradient, so a split run needs a second
// pass and partial rows; on bench/'s Zipf stream the hottest row is 14 %
// of a batch (1116 of 8192 positions at Llama-3's V), which one part
// absorbs while the other worker takes the rest.
//
// Buffers (the pairs, the run starts and rowstep.Group scratch rows per part) are
// pooled, so a warm call allocates nothing.
package fused

import (
	"runtime"
	"slices"
	"sync"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/rowstep"
	"github.com/embgrad/embgrad/impl/internal/team"
	"github.com/embgrad/embgrad/impl/internal/vec"
	"github.com/embgrad/embgrad/optim"
)

// Kernel is the fused step. The zero value uses GOMAXPROCS workers;
// WithWorkers(1) is the serial kernel.
type Kernel struct {
	workers int
	// always, set only by the package's tests, makes the kernel go
	// parallel whatever the size, so the suites' small cases exercise the
	// parallel path.
	always bool
}

var (
	_ optim.Fused         = Kernel{}
	_ optim.ParallelFused = Kernel{}
)

// Name returns "fused".
func (Kernel) Name() string { return "fused" }

// WithWorkers returns the kernel with n workers (n < 1 counts as 1).
func (k Kernel) WithWorkers(n int) optim.Fused {
	k.workers = max(n, 1)
	return k
}

const (
	minWork        = 1 << 15 // float32 operations below which one goroutine runs the step
	partsPerWorker = 8       // small parts claimed in turn: a worker that loses its CPU delays the step by one
)

type scratch struct {
	keys   []uint64  // id<<32 | position, sorted
	starts []int32   // run starts in keys, and len(keys) last
	cuts   []int32   // part p is runs [cuts[p], cuts[p+1])
	rows   []float32 // rowstep.Group D-rows of scratch per part
}

var pool = sync.Pool{New: func() any { return new(scratch) }}

// Fused implements optim.Fused.
func (k Kernel) Fused(w []float32, st *optim.State, V, D int, ids []int32, gradOut []float32, opt embgrad.Options, o optim.Optimizer) error {
	if err := optim.ValidateFused(w, st, V, D, ids, gradOut, opt, o); err != nil {
		return err
	}
	n := k.workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if len(ids)*D < k.minWork() {
		n = 1
	}
	var t *team.Team
	if n > 1 {
		t = team.Start(n) // before the sort, so a sleeping helper wakes meanwhile
	}
	s := pool.Get().(*scratch)
	defer pool.Put(s)
	s.keys = s.keys[:0]
	for i, id := range ids {
		if !opt.Skips(id) {
			s.keys = append(s.keys, uint64(id)<<32|uint64(i)) // ids ≥ 0 after validation
		}
	}
	slices.Sort(s.keys)
	s.starts = s.starts[:0]
	for i, key := range s.keys {
		if i == 0 || key>>32 != s.keys[i-1]>>32 {
			s.starts = append(s.starts, int32(i))
		}
	}
	runs := len(s.starts)
	s.starts = append(s.starts, int32(len(s.keys)))
	r := rowstep.New(o.Rule(st.Step + 1))
	if D > 0 && runs > 0 {
		if t == nil || runs < 2 {
			s.rows = grow(s.rows, rowstep.Group*D)
			s.part(&r, w, st, D, gradOut, opt, 0, runs, s.rows)
		} else {
			s.parallel(t, r, n, w, st, D, gradOut, opt)
		}
	}
	if t != nil {
		t.Stop()
	}
	st.Step++
	return nil
}

// parallel runs the parts on t; a function of its own so that only this
// path pays for the closure's heap-allocated captures.
func (s *scratch) parallel(t *team.Team, r rowstep.Rule, n int, w []float32, st *optim.State, D int, gradOut []float32, opt embgrad.Options) {
	parts := min(n*partsPerWorker, len(s.starts)-1)
	s.cut(parts)
	gd := rowstep.Group * D
	s.rows = grow(s.rows, parts*gd)
	t.Run(parts, func(p int) {
		s.part(&r, w, st, D, gradOut, opt, int(s.cuts[p]), int(s.cuts[p+1]), s.rows[p*gd:(p+1)*gd])
	})
}

func grow(x []float32, n int) []float32 {
	if cap(x) < n {
		return make([]float32, n)
	}
	return x[:n]
}

// cut sets cuts so that each of parts parts holds runs of about equal cost:
// a run of c occurrences costs c+1 row operations (c adds and the update).
func (s *scratch) cut(parts int) {
	runs := len(s.starts) - 1
	total := len(s.keys) + runs
	s.cuts = append(s.cuts[:0], 0)
	cost, r := 0, 0
	for p := 1; p < parts; p++ {
		target := total * p / parts
		for r < runs && cost < target {
			cost += int(s.starts[r+1]-s.starts[r]) + 1
			r++
		}
		s.cuts = append(s.cuts, int32(r))
	}
	s.cuts = append(s.cuts, int32(runs))
}

// part reduces and updates runs [lo, hi), using g (rowstep.Group×D
// elements) as scratch: rowstep.Group runs are reduced, each into its own
// D-row of g, then updated together (Adagrad's sums of squares
// interleaved; rows are distinct, so the order of updates is free).
func (s *scratch) part(r *rowstep.Rule, w []float32, st *optim.State, D int, gradOut []float32, opt embgrad.Options, lo, hi int, g []float32) {
	var b rowstep.Rows
	for q0 := lo; q0 < hi; q0 += rowstep.Group {
		b.N = min(rowstep.Group, hi-q0)
		for k := range b.N {
			run := s.keys[s.starts[q0+k]:s.starts[q0+k+1]]
			after := s.keys[s.starts[q0+k+1]:s.starts[hi]]
			v := int(run[0] >> 32)
			wv, m1, m2 := w[v*D:(v+1)*D], st.Row1(v, D), st.Row2(v, D)
			gk := g[k*D : (k+1)*D]
			// the row and its state are scattered too: their lines are
			// requested, paced, while the first gradient row is added
			pre := [3][]float32{wv}
			if len(m1) == D {
				pre[1], pre[2] = m1, m2
			}
			reduce(gk, run, after, &pre, D, gradOut, opt.ScaleGradByFreq)
			b.W[k], b.M1[k], b.M2[k], b.G[k] = wv, m1, m2, gk
		}
		r.UpdateGroup(&b)
	}
}

// reduce sums one run's gradOut rows into g, in position order exactly as
// impl/sparse: g cleared, then g[j] += float32(sc·x[j]) per position. The
// rows sit at scattered positions, so each is prefetched while the one
// before it is added, the next run's first row (after[0], if any) while
// the run's last is, and pre's rows (the weights and state the update
// will read) while the first is: paced, a chunk of each per chunk added,
// so that the prefetches do not queue up ahead of the adds' own loads.
func reduce(g []float32, run, after []uint64, pre *[3][]float32, D int, gradOut []float32, scaled bool) {
	sc := float32(1)
	if scaled {
		sc = 1 / float32(len(run))
	}
	clear(g)
	for n, key := range run {
		var next []float32
		switch {
		case n+1 < len(run):
			i := int(uint32(run[n+1]))
			next = gradOut[i*D : (i+1)*D]
		case len(after) > 0:
			i := int(uint32(after[0]))
			next = gradOut[i*D : (i+1)*D]
		}
		i := int(uint32(key))
		x := gradOut[i*D : (i+1)*D]
		for lo := 0; lo < D; lo += chunk {
			hi := min(lo+chunk, D)
			if next != nil {
				vec.Prefetch(next[lo:hi])
			}
			if n == 0 {
				for _, p := range pre {
					if p != nil {
						vec.Prefetch(p[lo:hi])
					}
				}
			}
			if scaled {
				vec.AddScaled(g[lo:hi], x[lo:hi], sc) // g[j] += float32(sc*x[j]), product rounded once, as impl/sparse
			} else {
				vec.Add(g[lo:hi], x[lo:hi]) // the same bits: float32(1*x) is x
			}
		}
	}
}

// chunk is the pacing of reduce's prefetches: 512 floats, 32 cache lines.
const chunk = 512

func (k Kernel) minWork() int {
	if k.always {
		return 0
	}
	return minWork
}
