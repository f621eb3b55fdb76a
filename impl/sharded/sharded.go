// Package sharded is the parallel kernel. Its result, for every worker
// count, is
//
//	K := max(256, ⌈len(ids)/64⌉)
//	for each row v named c times (padding skipped):
//		s := float32(1) // 1/c with ScaleGradByFreq
//		if c ≤ K:       // one unit of work: the reference loop's order
//			for each position i of v, in order: dst[v*D+j] += s * gradOut[i*D+j]
//		else:           // a hot row: one unit per K consecutive occurrences
//			for each group q of K positions of v: p_q[j] = Σ s * gradOut[i*D+j], in order
//			for each q in order: dst[v*D+j] += p_q[j]
//
// The units are cut into contiguous parts of about equal cost, and one pass
// over ids hands each position to the part that holds its unit. The workers
// claim parts one at a time and add each part's positions, in order, into
// dst or into a group's partial row; once all parts are done, each hot row
// adds its partial rows.
//
// Why this way:
//
//   - Skew costs nothing. A unit reads at most K gradient rows, so the head
//     of a Zipf or all-same stream is cut into pieces as even as a uniform
//     one's. (PyTorch's CPU kernel, where every thread rescans all ids for
//     the rows it owns, leaves a hot row to one thread.)
//   - Deterministic for free. The units, and the order of the sums within
//     them, depend on the batch alone, never on the worker count, and no
//     element has two writers: no atomics or locks on the hot path.
//   - Every worker reads whole rows in position order, so one worker is the
//     serial loop. Column blocks (each worker a slice of every row) are as
//     deterministic, but a worker reading part of every row pays for nearly
//     all of it (BenchmarkColumnPasses).
//
// Rows named at most K times (all rows, unless the batch repeats one more
// than 256 times) are summed in position order, bit for bit like the
// reference loop. A hot row's sum is grouped; its partial rows start at −0,
// the identity of float addition, so a sum of zeros keeps the loop's sign.
//
// The workers are impl/internal/team's helpers, started before the planning
// so that a sleeping one wakes meanwhile, and each part prefetches its rows
// a few positions ahead (vec.Prefetch), since its positions are scattered
// where the hardware prefetchers cannot follow. What still keeps 2 workers
// from 2× on Zipf ids — mostly the cost of cutting the batch into parts —
// is measured in results/sharded/SCALING.md, beside its commands.
//
// Counting rows uses a table of min(V, 2³¹) entries (ids are int32), pooled
// and reset where touched, so a call costs O(len(ids)) besides the adds, not
// O(V); with D = 0 there is nothing to add and nothing is counted.
//
// BackwardScratch writes the table once, in one parallel pass over its rows
// (scratch.go): untouched rows cleared, touched rows set from their sums in
// Backward's order, so the bits are those of Backward on a cleared dst.
package sharded

import (
	"math"
	"runtime"
	"sync"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/rowcount"
	"github.com/embgrad/embgrad/impl/internal/team"
	"github.com/embgrad/embgrad/impl/internal/vec"
	"github.com/embgrad/embgrad/impl/scatter"
)

// Kernel is the parallel kernel. The zero value uses GOMAXPROCS workers;
// WithWorkers sets another count.
type Kernel struct {
	workers int // 0: runtime.GOMAXPROCS(0) at each call
	// parts, if > 0, replaces workers×partsPerWorker as the number of
	// parts; only the package's tests and benchmarks set it, to show that
	// results do not depend on it and what splitting costs.
	parts int
}

var (
	_ embgrad.Kernel        = Kernel{}
	_ embgrad.Parallel      = Kernel{}
	_ embgrad.ScratchKernel = Kernel{}
)

// Name returns "sharded".
func (Kernel) Name() string { return "sharded" }

// WithWorkers returns the kernel with n workers (n < 1 counts as 1).
func (k Kernel) WithWorkers(n int) embgrad.Kernel {
	k.workers = max(n, 1)
	return k
}

const (
	// minWork is the number of float32 operations (adds, or clears) below
	// which a job runs on the calling goroutine alone.
	minWork = 1 << 15
	// partsPerWorker is how many parts each worker's share of a job is cut
	// into, so that a worker the OS deschedules, or a helper that wakes
	// late, holds up the others by at most one part. More parts balance
	// better but cost more to cut (BenchmarkSplit; results/sharded).
	partsPerWorker = 2
	// minGroup is the least K, the number of occurrences above which a row
	// is summed in groups; maxGroups bounds the number of groups.
	minGroup, maxGroups = 256, 64
	// maxLen is the longest batch whose counts fit the int32 table; longer
	// ones (8 GiB of ids) go to the scatter kernel.
	maxLen = math.MaxInt32
)

// Backward implements embgrad.Kernel.
func (k Kernel) Backward(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if len(ids) > maxLen {
		return scatter.Kernel{}.Backward(dst, V, D, ids, gradOut, opt)
	}
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil // nothing to add; and V, unbounded when D = 0, must size no table
	}
	// The helpers start now, so that a sleeping one wakes while the caller
	// plans (see impl/internal/team).
	t := team.Start(k.goroutines(len(ids) * D))
	defer t.Stop()
	k.accumulate(t, dst, V, D, ids, gradOut, opt)
	return nil
}

// BackwardScratch implements embgrad.ScratchKernel.
func (k Kernel) BackwardScratch(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
	if len(ids) > maxLen {
		return embgrad.Scratch(scatter.Kernel{}, dst, V, D, ids, gradOut, opt)
	}
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil // nothing to add; and V, unbounded when D = 0, must size no table
	}
	t := team.Start(k.goroutines(max(len(dst), len(ids)*D)))
	defer t.Stop()
	k.scratch(t, dst, V, D, ids, gradOut, opt)
	return nil
}

// goroutines is the number of goroutines for a job of work float32
// operations.
func (k Kernel) goroutines(work int) int {
	n := k.workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(min(n, work/minWork), 1)
}

// unit is one piece of the reduction: the positions of a row named at most
// K times, summed into dst, or a group of K positions of a hot row, summed
// into partial row slot.
type unit struct {
	count int32   // positions
	hot   int32   // index in plan.hot, or −1
	slot  int32   // partial row of a group
	s     float32 // scale
}

// hotRow is a row summed in groups: units first … first+n−1.
type hotRow struct {
	row, first, n int32
}

// plan is one call's units and parts.
type plan struct {
	// unit[v] is 1 + the index of row v's first unit; all zero between
	// calls. While the plan is built it holds counts.
	unit    []int32
	rows    []int32 // the rows named, in order of first occurrence
	units   []unit
	hot     []hotRow
	cuts    []int      // part p is units [cuts[p], cuts[p+1])
	part    []int32    // the part of each unit
	lists   [][]uint64 // per part: position<<32 | unit, in position order
	seen    []int32    // per hot row: occurrences handed out so far
	partial []float32
	// From scratch (scratch.go): unit f's positions are
	// pos[start[f]:start[f+1]], in order; fill counts them as they are
	// placed.
	start, pos, fill []int32
}

// prefetchAhead is how many positions ahead of the one being added a part
// prefetches rows (0: none); BenchmarkPrefetchAhead compares distances
// (results/sharded/prefetch.benchstat). A variable only for that benchmark.
var prefetchAhead = 2

var negZero = float32(math.Copysign(0, -1))

var plans = sync.Pool{New: func() any { return new(plan) }}

// accumulate is Backward on validated input, run on t.
func (k Kernel) accumulate(t *team.Team, dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) {
	pl := plans.Get().(*plan)
	defer plans.Put(pl)
	K := max(minGroup, (len(ids)+maxGroups-1)/maxGroups)
	pl.build(V, ids, opt, K)
	defer pl.reset()

	var work int
	for _, u := range pl.units {
		work += int(u.count)
	}
	n := min(k.goroutines(work*D), t.Size()) // t is the caller alone in a serial spell
	parts := min(n*partsPerWorker, len(pl.units))
	if n == 1 {
		parts = min(1, len(pl.units))
	}
	if k.parts > 0 {
		parts = min(k.parts, len(pl.units))
	}
	pl.cut(parts)
	slots := 0
	for _, h := range pl.hot {
		slots += int(h.n)
	}
	if cap(pl.partial) < slots*D {
		pl.partial = make([]float32, slots*D)
	}
	partial := pl.partial[:slots*D]
	// −0, not +0, is the identity of float addition: a group of −0 terms
	// sums to −0 and adds into a −0 row of dst as the reference loop does.
	for i := range partial {
		partial[i] = negZero
	}
	pl.bucket(ids, K, parts)
	// target is the row that position i of unit u adds into.
	target := func(i int, u unit) []float32 {
		if u.hot < 0 {
			id := int(ids[i])
			return dst[id*D : id*D+D]
		}
		return partial[int(u.slot)*D : int(u.slot)*D+D]
	}
	t.Run(parts, func(p int) {
		list := pl.lists[p]
		for k, e := range list {
			// A part's positions are scattered over the batch, and its
			// rows over the table, so the hardware prefetchers cannot
			// see them coming: ask for the rows prefetchAhead positions
			// on while adding this one.
			if prefetchAhead > 0 && k+prefetchAhead < len(list) {
				f := list[k+prefetchAhead]
				fi := int(f >> 32)
				vec.Prefetch(gradOut[fi*D : fi*D+D])
				vec.Prefetch(target(fi, pl.units[uint32(f)]))
			}
			i, u := int(e>>32), pl.units[uint32(e)]
			if row, g := target(i, u), gradOut[i*D:i*D+D]; u.s == 1 {
				vec.Add(row, g)
			} else {
				vec.AddScaled(row, g, u.s)
			}
		}
	})
	for _, h := range pl.hot {
		row := dst[int(h.row)*D : int(h.row)*D+D]
		for _, u := range pl.units[h.first : h.first+h.n] {
			vec.Add(row, partial[int(u.slot)*D:int(u.slot)*D+D])
		}
	}
}

// build counts the rows of ids and makes their units, rows named more than
// K times cut into groups of K.
func (pl *plan) build(V int, ids []int32, opt embgrad.Options, K int) {
	if n := min(V, rowcount.MaxRows); len(pl.unit) < n {
		pl.unit = make([]int32, n)
	}
	pl.rows, pl.units, pl.hot = pl.rows[:0], pl.units[:0], pl.hot[:0]
	for _, id := range ids {
		if opt.Skips(id) {
			continue
		}
		if pl.unit[id] == 0 {
			pl.rows = append(pl.rows, id)
		}
		pl.unit[id]++
	}
	var slots int32
	for _, v := range pl.rows {
		c := int(pl.unit[v])
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(c) // the rounding of rowcount.Counts.Scale
		}
		pl.unit[v] = int32(len(pl.units) + 1)
		if c <= K {
			pl.units = append(pl.units, unit{count: int32(c), hot: -1, s: s})
			continue
		}
		h := hotRow{row: v, first: int32(len(pl.units))}
		for g := 0; g < c; g += K {
			pl.units = append(pl.units, unit{count: int32(min(K, c-g)), hot: int32(len(pl.hot)), slot: slots, s: s})
			slots++
		}
		h.n = int32(len(pl.units)) - h.first
		pl.hot = append(pl.hot, h)
	}
}

// reset clears the entries of the V-sized table that build set.
func (pl *plan) reset() {
	for _, v := range pl.rows {
		pl.unit[v] = 0
	}
}

// cut cuts pl.units into parts contiguous parts of about equal cost,
// counting the gradient rows each unit reads, and for a row of dst one
// more read and write.
func (pl *plan) cut(parts int) {
	cost := func(u unit) int {
		if u.hot < 0 {
			return int(u.count) + 2
		}
		return int(u.count)
	}
	total := 0
	for _, u := range pl.units {
		total += cost(u)
	}
	pl.cuts = append(pl.cuts[:0], 0)
	done := 0
	for i, u := range pl.units {
		done += cost(u)
		for len(pl.cuts) < parts && done*parts >= total*len(pl.cuts) {
			pl.cuts = append(pl.cuts, i+1)
		}
	}
	for len(pl.cuts) <= parts {
		pl.cuts = append(pl.cuts, len(pl.units))
	}
}

// bucket hands each position of ids to the part that holds its unit, the
// k-th occurrence of a hot row to the unit of group k/K.
func (pl *plan) bucket(ids []int32, K, parts int) {
	pl.part = grow(pl.part, len(pl.units))
	for p := range parts {
		for f := pl.cuts[p]; f < pl.cuts[p+1]; f++ {
			pl.part[f] = int32(p)
		}
	}
	for len(pl.lists) < parts {
		pl.lists = append(pl.lists, nil)
	}
	for p := range pl.lists {
		pl.lists[p] = pl.lists[p][:0]
	}
	seen := grow(pl.seen, len(pl.hot))
	clear(seen)
	for i, id := range ids {
		f := int(pl.unit[id]) - 1 // −1 for padding
		if f < 0 {
			continue
		}
		if h := pl.units[f].hot; h >= 0 {
			f += int(seen[h]) / K
			seen[h]++
		}
		p := pl.part[f]
		pl.lists[p] = append(pl.lists[p], uint64(i)<<32|uint64(f))
	}
	pl.seen = seen
}

// grow returns s with length n, reallocated if too short.
func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
