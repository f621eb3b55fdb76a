// Package bagsharded is the parallel embgrad.BagKernel. Its result, for
// every worker count, is bit for bit the reference loop's (impl/bagloop):
// each element of dst receives its terms in position order, and each term
// is formed exactly as the loop forms it.
//
// How (sum and mean): the non-padding positions are sorted by row, as keys
// id<<32 | position (a serial pass deals them into buckets by the high bits
// of the id, and each bucket is sorted), so each row's
// positions are consecutive and in position order. A unit of work is one
// distinct row: its terms, the bag's gradient row scaled as the loop scales
// it, are added into the dst row one after another, so that row is read
// from memory and written back once per call however often the batch names
// it — the compulsory traffic bench.BagBytes counts (a kernel adding
// position by position, as this one did before, fetches a row again
// whenever it left the caches between two of its positions). The sorted
// keys are cut into many more parts than workers, at row boundaries, which
// the team claims one at a time, the caller included, so a descheduled
// helper holds up at most one small part. No element has two writers (no
// atomics, no locks), and neither the units nor the order within one depend
// on the worker count or the parts. Rows come in increasing order; a part
// prefetches the dst rows (and E rows, with weights) a few rows ahead
// (vec.Prefetch), since they are scattered where the hardware prefetchers
// cannot follow. Row adds use vec.Add / vec.AddScaled (AVX2 or AVX-512, bit
// for bit the pure-Go loop; products rounded before the add, never fused).
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
// Validation and the plan (deal and bucket sorts, O(len(ids))) run on the
// caller; the adds are parallel. The plan can run on the team too
// (parallelPlan), which measured slower on this project's 2-vCPU machine.
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
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/bagloop"
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
	// ahead is how many distinct rows ahead a part prefetches (0 measured
	// clearly slower than 2 or 4 on the recommender shape; 2, 4 and 8 were
	// within this shared machine's noise).
	ahead = 4
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
	n := k.goroutines(len(a.IDs) * a.D)
	t := team.Start(n)
	defer t.Stop()
	if a.Opt.Mode == embgrad.BagMax {
		maxAdd(t, dst, a)
		return nil
	}
	pl := plans.Get().(*plan)
	defer plans.Put(pl)
	pl.build(planTeam(t), planWorkers(n), dw, a)
	parts := 1
	if n > 1 && t.Size() > 1 { // t is the caller alone in a serial spell
		parts = n * partsPerWorker
	}
	pl.cut(parts)
	t.Run(parts, func(p int) {
		pl.run(dst, dw, a, pl.cuts[p], pl.cuts[p+1], -1, -1)
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
	pl.build(planTeam(t), planWorkers(k.goroutines(len(a.IDs)*D)), dw, a)
	keys := pl.keys
	t.Run(chunks, func(p int) {
		v0, v1 := p*rowsPer, min((p+1)*rowsPer, a.V)
		k0, _ := slices.BinarySearch(keys, uint64(v0)<<32)
		k1, _ := slices.BinarySearch(keys, uint64(v1)<<32)
		pl.run(dst, dw, a, k0, k1, v0, v1)
		vec.Fence()
	})
	return nil
}

// plan is one call's sort of the positions by row: keys holds
// id<<32 | position for every non-padding position, in increasing order,
// so each row's positions are consecutive and in position order.
type plan struct {
	keys   []uint64
	tmp    []uint64
	bstart []int32   // bucket b's keys are keys[bstart[b]:bstart[b+1]]
	bagOf  []int32   // the bag of each position
	inv    []float32 // mean: 1/n of each bag, as the loop rounds it
	cuts   []int     // part p is keys[cuts[p]:cuts[p+1]], cut at rows
	bparts []int     // the sort's parts: buckets [bparts[p], bparts[p+1])
	// The deal's chunks: bags [chunkBag[c], chunkBag[c+1]); hist[c*nb+b]
	// counts chunk c's keys in bucket b, then is its cursor there.
	chunkBag []int
	hist     []int32
}

var plans = sync.Pool{New: func() any { return new(plan) }}

// bucketBits bounds the buckets of the sort's first pass (by the high bits
// of the id) to 2¹¹, whose counters stay in L1.
const bucketBits = 11

// parallelPlan runs the plan's deal and bucket sort on the team. It is off:
// on this project's 2-vCPU machine the two extra parallel loops cost more
// than they saved (results/bag/BAG.md, runs 2 and 3: bagsharded at 2
// workers, accumulating, was slower than at 1 with them). The keys are the
// same either way; TestManyWorkers runs both.
var parallelPlan = false

func planTeam(t *team.Team) *team.Team {
	if parallelPlan {
		return t
	}
	return &team.Team{} // no helpers: Run runs every part on the caller
}

func planWorkers(n int) int {
	if parallelPlan {
		return n
	}
	return 1
}

// dealChunks is the number of chunks the deal runs in with more than one
// worker (the keys do not depend on it).
const dealChunks = 8

// build sorts the positions by row, and sets the weight gradient of every
// padding position to 0. A most-significant-digit pass, sequential,
// deals the keys into buckets by the high bits of the id, in
// position order (in chunks of bags, run on t); the buckets, row ranges,
// are then sorted on t.
// A sort's result does not depend on how it was computed, so the keys are
// the same for every worker count. (A V-sized counting table, as
// impl/sharded uses, costs a cache miss per distinct row on V = 10⁶ and
// lists the rows in first-occurrence order, scattered over the table.)
func (pl *plan) build(t *team.Team, workers int, dw []float32, a embgrad.BagArgs) {
	ids := a.IDs
	low := max(0, bits.Len(uint(a.V-1))-bucketBits) // a.V ≥ 1 here
	nb := (a.V-1)>>low + 1
	mean := a.Opt.Mode == embgrad.BagMean
	B := a.Bags()
	pl.bagOf = grow(pl.bagOf, len(ids))
	if mean {
		if cap(pl.inv) < B {
			pl.inv = make([]float32, B)
		}
		pl.inv = pl.inv[:B]
	}
	// The deal runs in C chunks of whole bags, in parallel: each counts its
	// keys per bucket, and then deals them from its own cursor in each
	// bucket, after the earlier chunks' keys — the serial deal's layout.
	C := 1
	if workers > 1 {
		C = min(dealChunks, B)
	}
	pl.chunkBag = pl.chunkBag[:0]
	for c := range C {
		at := len(ids) * c / C
		pl.chunkBag = append(pl.chunkBag, sort.Search(B, func(b int) bool { lo, _ := a.Bag(b); return lo >= at }))
	}
	pl.chunkBag = append(pl.chunkBag, B)
	pl.hist = grow(pl.hist, C*nb)
	t.Run(C, func(c int) {
		hist := pl.hist[c*nb : (c+1)*nb]
		clear(hist)
		for b := pl.chunkBag[c]; b < pl.chunkBag[c+1]; b++ {
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
				hist[int(id)>>low]++
			}
			if mean && n > 0 {
				pl.inv[b] = 1 / float32(n)
			}
		}
	})
	// Bucket starts, and each chunk's cursor in each bucket (in pl.hist).
	pl.bstart = grow(pl.bstart, nb+1)
	off := int32(0)
	for b := range nb {
		pl.bstart[b] = off
		for c := range C {
			h := &pl.hist[c*nb+b]
			off, *h = off+*h, off
		}
	}
	pl.bstart[nb] = off
	N := int(off)
	pl.keys = grow64(pl.keys, N)
	pl.tmp = grow64(pl.tmp, N)
	t.Run(C, func(c int) {
		cur := pl.hist[c*nb : (c+1)*nb]
		// Every position is in a bag: without IncludeLastOffset the last
		// bag runs to the end, and with it validation rejects trailing ids.
		start := func(b int) int {
			if b == B {
				return len(ids)
			}
			lo, _ := a.Bag(b)
			return lo
		}
		for i := start(pl.chunkBag[c]); i < start(pl.chunkBag[c+1]); i++ {
			id := ids[i]
			if a.Opt.Skips(id) {
				continue
			}
			b := int(id) >> low
			pl.tmp[cur[b]] = uint64(uint32(id))<<32 | uint64(i)
			cur[b]++
		}
	})
	// The sort's parts: contiguous buckets of about equal keys.
	parts := min(nb, 64)
	pl.bparts = append(pl.bparts[:0], 0)
	for b := 1; b < nb && len(pl.bparts) < parts; b++ {
		if int(pl.bstart[b])*parts >= N*len(pl.bparts) {
			pl.bparts = append(pl.bparts, b)
		}
	}
	pl.bparts = append(pl.bparts, nb)
	t.Run(len(pl.bparts)-1, func(p int) {
		for b := pl.bparts[p]; b < pl.bparts[p+1]; b++ {
			lo, hi := pl.bstart[b], pl.bstart[b+1]
			sortBucket(pl.keys[lo:hi], pl.tmp[lo:hi], low)
		}
	})
}

// sortBucket sorts src (keys of one bucket, positions increasing) into dst
// by the low bits of the id: insertion for a short bucket, a stable
// counting sort by the low bits (the high ones are the bucket's) where the
// counters are fewer than 4 per key, else slices.Sort (the keys are
// distinct, so every sort gives the same order).
func sortBucket(dst, src []uint64, low int) {
	copy(dst, src)
	m := 1 << low // ≤ 2²⁰: ids are int32
	switch {
	case len(dst) <= 64:
		for i := 1; i < len(dst); i++ {
			x := dst[i]
			j := i
			for ; j > 0 && dst[j-1] > x; j-- {
				dst[j] = dst[j-1]
			}
			dst[j] = x
		}
		return
	case m > 4*len(dst):
		slices.Sort(dst)
		return
	}
	cp := countPool.Get().(*[]int32)
	defer countPool.Put(cp)
	if cap(*cp) < m+1 {
		*cp = make([]int32, m+1)
	}
	c := (*cp)[:m+1]
	clear(c)
	mask := uint64(m - 1)
	for _, x := range src {
		c[(x>>32)&mask+1]++
	}
	for i := 1; i <= m; i++ {
		c[i] += c[i-1]
	}
	for _, x := range src {
		r := (x >> 32) & mask
		dst[c[r]] = x
		c[r]++
	}
}

var countPool = sync.Pool{New: func() any { return new([]int32) }}

// cut cuts the keys into parts contiguous parts of about equal length,
// each moved forward to the start of a row (so a hot row may leave a part
// empty).
func (pl *plan) cut(parts int) {
	keys := pl.keys
	pl.cuts = append(pl.cuts[:0], 0)
	for p := 1; p < parts; p++ {
		c := max(len(keys)*p/parts, pl.cuts[p-1])
		for c > 0 && c < len(keys) && keys[c]>>32 == keys[c-1]>>32 {
			c++
		}
		pl.cuts = append(pl.cuts, c)
	}
	pl.cuts = append(pl.cuts, len(keys))
}

// run adds keys[k0:k1], whole rows, into dst. From scratch (v0 ≥ 0) it also
// clears the rows of [v0, v1) that no key names, with non-temporal stores,
// and sets each named row from +0 (keys[k0:k1] are the rows of [v0, v1)).
func (pl *plan) run(dst, dw []float32, a embgrad.BagArgs, k0, k1, v0, v1 int) {
	D := a.D
	keys := pl.keys
	// pf is the start of the last row prefetched; it runs ahead rows.
	pf := k0
	next := func() {
		if pf >= k1 {
			return
		}
		v := keys[pf] >> 32
		for pf < k1 && keys[pf]>>32 == v {
			pf++
		}
		if pf < k1 {
			r := int(keys[pf] >> 32)
			vec.Prefetch(dst[r*D : (r+1)*D])
			if a.Weights != nil {
				vec.Prefetch(a.E[r*D : (r+1)*D])
			}
		}
	}
	for range ahead {
		next()
	}
	run := v0 // first row of the current run of untouched rows
	for k := k0; k < k1; {
		v := int(keys[k] >> 32)
		e := k + 1
		for e < k1 && int(keys[e]>>32) == v {
			e++
		}
		row := dst[v*D : (v+1)*D]
		if v0 >= 0 {
			vec.ClearStream(dst[run*D : v*D])
			run = v + 1
			clear(row)
		}
		addTerms(row, dw, a, keys[k:e], pl.bagOf, pl.inv)
		next()
		k = e
	}
	if v0 >= 0 {
		vec.ClearStream(dst[run*D : v1*D])
	}
}

// addTerms adds the terms of one row's keys into row (its row of dst), in
// position order, each formed as the loop forms it (see impl/bagloop), and
// writes the weight gradients of its positions.
func addTerms(row, dw []float32, a embgrad.BagArgs, keys []uint64, bagOf []int32, inv []float32) {
	D := a.D
	mean := a.Opt.Mode == embgrad.BagMean
	if !mean && !a.Opt.ScaleGradByFreq && a.Weights == nil {
		for _, x := range keys {
			b := int(bagOf[uint32(x)])
			vec.Add(row, a.GradOut[b*D:(b+1)*D])
		}
		return
	}
	var e []float32
	if a.Weights != nil {
		v := int(keys[0] >> 32)
		e = a.E[v*D : (v+1)*D]
	}
	s0 := float32(1)
	if a.Opt.ScaleGradByFreq {
		s0 = 1 / float32(len(keys)) // rowcount.Counts.Scale's rounding
	}
	for _, x := range keys {
		i := int(uint32(x))
		b := int(bagOf[i])
		g := a.GradOut[b*D : (b+1)*D]
		s := s0
		if mean {
			s = float32(s * inv[b])
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

// grow64 returns s with length n, reallocated if too short.
func grow64(s []uint64, n int) []uint64 {
	if cap(s) < n {
		return make([]uint64, n)
	}
	return s[:n]
}

// grow returns s with length n, reallocated if too short.
func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
