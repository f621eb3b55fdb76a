// Package bagsharded is the parallel embgrad.BagKernel. Its result, for
// every worker count, is bit for bit the reference loop's (impl/bagloop):
// each element of dst receives its terms in position order, and each term
// is formed exactly as the loop forms it.
//
// How (sum and mean): a counting pass over the ids, serial and O(len(ids)),
// finds the distinct rows named and lists each row's positions, in position
// order (a counting sort by row). A unit of work is one distinct row: its
// terms, the bag's gradient row scaled as the loop scales it, are added into
// the dst row one after another, so that row is read from memory and
// written back once per call, however often the batch names it — the
// compulsory traffic bench.BagBytes counts. The rows are cut into many
// contiguous parts of about equal cost (more parts than workers), which the
// team claims one at a time, the caller included, so a descheduled helper
// holds up at most one small part. No element has two writers (no atomics,
// no locks), and neither the units nor the order within one depend on the
// worker count or the parts. A part prefetches the dst rows (and E rows,
// with weights) of the units a few ahead (vec.Prefetch), since they are
// scattered where the hardware prefetchers cannot follow. Row adds use
// vec.Add / vec.AddScaled (AVX2 or AVX-512, bit for bit the pure-Go loop;
// products rounded before the add, never fused).
//
// The weight gradient of a position, one dot product summed in column
// order as the loop does, is computed in its row's unit, where that row of
// E is read once for all its positions.
//
// A hot row is one unit, summed in order as the loop does (regrouping it,
// as impl/sharded does, would change the bits): on Zipf ids (s ≈ 1.1) the
// hottest row is a few per cent of a batch, so the parts still balance; a
// batch naming one row only runs on one worker.
//
// Max mode: the (bag, column) entries are dealt by blocks of 16 columns
// (one cache line of a row), a fixed set of units whatever the worker
// count; each block walks the bags in order, so every element receives its
// terms in the loop's order.
//
// BagBackwardScratch (sum and mean) is one parallel pass over the table,
// in fixed chunks of rows claimed like parts: each run of untouched rows is
// cleared with non-temporal stores (vec.ClearStream: they write around the
// caches, where a plain store would first read the line), and each touched
// row is set from +0 plus its terms in order — the operations BagBackward
// performs on a cleared dst, so the bits are the same, but the touched rows
// are never read back from memory and the table is written once. Max mode
// clears in chunks, then accumulates.
package bagsharded

import (
	"math"
	"runtime"
	"sync"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/bagloop"
	"github.com/embgrad/embgrad/impl/internal/rowcount"
	"github.com/embgrad/embgrad/impl/internal/team"
	"github.com/embgrad/embgrad/impl/internal/vec"
)

// Kernel is the parallel bag kernel. The zero value uses GOMAXPROCS
// workers.
type Kernel struct {
	workers int // 0: runtime.GOMAXPROCS(0) at each call
}

var (
	_ embgrad.BagKernel        = Kernel{}
	_ embgrad.BagScratchKernel = Kernel{}
	_ embgrad.BagParallel      = Kernel{}
)

// Name returns "bagsharded".
func (Kernel) Name() string { return "bagsharded" }

// WithBagWorkers returns the kernel with n workers (n < 1 counts as 1).
func (k Kernel) WithBagWorkers(n int) embgrad.BagKernel {
	k.workers = max(n, 1)
	return k
}

// minWork is the least work (float32 adds) worth a worker: below it the
// wake-up costs more than the adds.
var minWork = 1 << 14 // a variable only for the tests, which force many workers on small cases

const (
	// ahead is how many units ahead a part prefetches rows.
	ahead = 2
	// partsPerWorker: each worker's share is cut this fine, so that a
	// descheduled helper holds up the call by at most one small part.
	// Cutting costs one pass over the distinct rows, whatever the count.
	partsPerWorker = 16
	// chunk is the size, in floats, of the table chunks the from-scratch
	// pass and the clears are claimed by (512 KiB), fixed whatever the
	// worker count.
	chunk = 1 << 17
	// colBlock is the columns of a max-mode unit: one 64-byte line.
	colBlock = 16
	// maxLen is the longest batch whose positions fit int32; longer ones
	// (8 GiB of ids) go to the loop kernel.
	maxLen = math.MaxInt32
)

func (k Kernel) goroutines(work int) int {
	n := k.workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(min(n, work/minWork), 1)
}

// BagBackward implements embgrad.BagKernel.
func (k Kernel) BagBackward(dst, dw []float32, a embgrad.BagArgs) error {
	if len(a.IDs) > maxLen {
		return bagloop.Kernel{}.BagBackward(dst, dw, a)
	}
	if err := embgrad.ValidateBag(dst, dw, a); err != nil {
		return err
	}
	if a.D == 0 {
		clear(dw)
		return nil
	}
	// The helpers start now, so that a sleeping one wakes while the caller
	// plans (see impl/internal/team).
	t := team.Start(k.goroutines(len(a.IDs) * a.D))
	defer t.Stop()
	if a.Opt.Mode == embgrad.BagMax {
		maxAdd(t, dst, a)
		return nil
	}
	pl := plans.Get().(*plan)
	defer plans.Put(pl)
	pl.build(dw, a)
	defer pl.reset()
	n := k.goroutines(len(pl.pos) * a.D)
	parts := 1
	if n > 1 {
		parts = min(n*partsPerWorker, len(pl.rows))
	}
	pl.cut(parts)
	t.Run(parts, func(p int) {
		f0, f1 := pl.cuts[p], pl.cuts[p+1]
		for f := f0; f < f1; f++ {
			if g := f + ahead; g < f1 {
				pl.prefetch(dst, a, g)
			}
			v := int(pl.rows[f])
			pl.addTerms(dst[v*a.D:(v+1)*a.D], dw, a, f)
		}
	})
	return nil
}

// BagBackwardScratch implements embgrad.BagScratchKernel.
func (k Kernel) BagBackwardScratch(dst, dw []float32, a embgrad.BagArgs) error {
	if len(a.IDs) > maxLen {
		return embgrad.BagScratch(bagloop.Kernel{}, dst, dw, a)
	}
	if err := embgrad.ValidateBag(dst, dw, a); err != nil {
		return err
	}
	if a.D == 0 {
		clear(dw)
		return nil
	}
	D := a.D
	t := team.Start(k.goroutines(max(len(dst), len(a.IDs)*D)))
	defer t.Stop()
	rowsPer := max(1, chunk/D)
	chunks := (a.V + rowsPer - 1) / rowsPer
	if a.Opt.Mode == embgrad.BagMax {
		t.Run(chunks, func(p int) {
			vec.ClearStream(dst[p*rowsPer*D : min((p+1)*rowsPer, a.V)*D])
			vec.Fence()
		})
		maxAdd(t, dst, a)
		return nil
	}
	pl := plans.Get().(*plan)
	defer plans.Put(pl)
	pl.build(dw, a)
	defer pl.reset()
	table := len(pl.unit) // rows past it are never named
	t.Run(chunks, func(p int) {
		v0, v1 := p*rowsPer, min((p+1)*rowsPer, a.V)
		run := v0 // first row of the current run of untouched rows
		for v := v0; v < v1; v++ {
			if v >= table || pl.unit[v] == 0 {
				continue
			}
			vec.ClearStream(dst[run*D : v*D])
			run = v + 1
			row := dst[v*D : v*D+D]
			clear(row)
			pl.addTerms(row, dw, a, int(pl.unit[v])-1)
		}
		vec.ClearStream(dst[run*D : v1*D])
		vec.Fence()
	})
	return nil
}

// plan is one call's counting sort of the positions by row.
type plan struct {
	// unit[v] is 1 + the index in rows of row v; all zero between calls.
	// While the plan is built it holds counts.
	unit  []int32
	rows  []int32 // the rows named, in order of first occurrence
	start []int32 // row f's positions are pos[start[f]:start[f+1]]
	fill  []int32
	pos   []int32
	bagOf []int32   // the bag of each position
	inv   []float32 // mean: 1/n of each bag, as the loop rounds it
	cuts  []int     // part p is rows [cuts[p], cuts[p+1])
}

var plans = sync.Pool{New: func() any { return new(plan) }}

// build counts the rows of a.IDs and lists their positions, and sets the
// weight gradient of every padding position to 0.
func (pl *plan) build(dw []float32, a embgrad.BagArgs) {
	ids := a.IDs
	if n := min(a.V, rowcount.MaxRows); len(pl.unit) < n {
		pl.unit = make([]int32, n)
	}
	mean := a.Opt.Mode == embgrad.BagMean
	B := a.Bags()
	pl.bagOf = grow(pl.bagOf, len(ids))
	if mean {
		if cap(pl.inv) < B {
			pl.inv = make([]float32, B)
		}
		pl.inv = pl.inv[:B]
	}
	pl.rows = pl.rows[:0]
	for b := range B {
		lo, hi := a.Bag(b)
		n := 0
		for i := lo; i < hi; i++ {
			pl.bagOf[i] = int32(b)
			id := ids[i]
			if a.Opt.Skips(id) {
				if a.Weights != nil {
					dw[i] = 0
				}
				continue
			}
			n++
			if pl.unit[id] == 0 {
				pl.rows = append(pl.rows, id)
			}
			pl.unit[id]++
		}
		if mean && n > 0 {
			pl.inv[b] = 1 / float32(n)
		}
	}
	pl.start = grow(pl.start, len(pl.rows)+1)
	off := int32(0)
	for f, v := range pl.rows {
		pl.start[f] = off
		off += pl.unit[v]
		pl.unit[v] = int32(f + 1)
	}
	pl.start[len(pl.rows)] = off
	pl.pos = grow(pl.pos, int(off))
	pl.fill = grow(pl.fill, len(pl.rows))
	clear(pl.fill)
	// Every position is in a bag: without IncludeLastOffset the last bag
	// runs to the end, and with it validation rejects trailing ids.
	for b := range B {
		lo, hi := a.Bag(b)
		for i := lo; i < hi; i++ {
			id := ids[i]
			if a.Opt.Skips(id) {
				continue
			}
			f := pl.unit[id] - 1
			pl.pos[pl.start[f]+pl.fill[f]] = int32(i)
			pl.fill[f]++
		}
	}
}

// reset clears the entries of the V-sized table that build set.
func (pl *plan) reset() {
	for _, v := range pl.rows {
		pl.unit[v] = 0
	}
}

// cut cuts the rows into parts contiguous parts of about equal cost: the
// gradient rows a unit adds, and for its dst row one more read and write.
func (pl *plan) cut(parts int) {
	total := len(pl.pos) + 2*len(pl.rows)
	pl.cuts = append(pl.cuts[:0], 0)
	for f := range pl.rows {
		done := int(pl.start[f+1]) + 2*(f+1)
		for len(pl.cuts) < parts && done*parts >= total*len(pl.cuts) {
			pl.cuts = append(pl.cuts, f+1)
		}
	}
	for len(pl.cuts) <= parts {
		pl.cuts = append(pl.cuts, len(pl.rows))
	}
}

// prefetch asks for the dst row (and E row, with weights) of unit f.
func (pl *plan) prefetch(dst []float32, a embgrad.BagArgs, f int) {
	v := int(pl.rows[f])
	vec.Prefetch(dst[v*a.D : (v+1)*a.D])
	if a.Weights != nil {
		vec.Prefetch(a.E[v*a.D : (v+1)*a.D])
	}
}

// addTerms adds unit f's terms into row (its row of dst), in position
// order, each formed as the loop forms it (see impl/bagloop), and writes
// the weight gradients of its positions.
func (pl *plan) addTerms(row, dw []float32, a embgrad.BagArgs, f int) {
	D := a.D
	v := int(pl.rows[f])
	ps := pl.pos[pl.start[f]:pl.start[f+1]]
	mean := a.Opt.Mode == embgrad.BagMean
	if !mean && !a.Opt.ScaleGradByFreq && a.Weights == nil {
		for _, i := range ps {
			b := int(pl.bagOf[i])
			vec.Add(row, a.GradOut[b*D:(b+1)*D])
		}
		return
	}
	var e []float32
	if a.Weights != nil {
		e = a.E[v*D : (v+1)*D]
	}
	s0 := float32(1)
	if a.Opt.ScaleGradByFreq {
		s0 = 1 / float32(len(ps)) // rowcount.Counts.Scale's rounding
	}
	for _, i := range ps {
		b := int(pl.bagOf[i])
		g := a.GradOut[b*D : (b+1)*D]
		s := s0
		if mean {
			s = float32(s * pl.inv[b])
		}
		if a.Weights != nil {
			s = float32(s * a.Weights[i])
			var dot float32
			for j, x := range g {
				dot += float32(x * e[j]) // product rounded once: never fused
			}
			dw[i] = dot
		}
		vec.AddScaled(row, g, s)
	}
}

// maxAdd adds the max-mode entries, one unit per block of colBlock columns,
// each walking the bags in order.
func maxAdd(t *team.Team, dst []float32, a embgrad.BagArgs) {
	D := a.D
	blocks := (D + colBlock - 1) / colBlock
	B := a.Bags()
	t.Run(blocks, func(p int) {
		j0, j1 := p*colBlock, min((p+1)*colBlock, D)
		for b := range B {
			mi := a.MaxIndices[b*D+j0 : b*D+j1]
			g := a.GradOut[b*D+j0 : b*D+j1]
			for j, m := range mi {
				if m >= 0 {
					dst[int(m)*D+j0+j] += g[j]
				}
			}
		}
	})
}

// grow returns s with length n, reallocated if too short.
func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
