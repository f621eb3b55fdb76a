// Package sparsesharded is the parallel embgrad.SparseKernel. Its result, for
// every worker count, is
//
//	sort the non-padding (id, position) pairs by id, positions ascending
//	K := max(256, ⌈len(ids)/64⌉)
//	for each distinct id v, ascending, named c times (s = 1, or 1/c with ScaleGradByFreq):
//		if c ≤ K: // one unit: the reference loop's order
//			values[u] = 0; for each position i of v, in order: values[u] += s·gradOut[i]
//		else:     // a hot row: one unit per K consecutive occurrences
//			p_q = 0; for each position i of group q, in order: p_q += s·gradOut[i]
//			values[u] = p_0 + p_1 + … in group order
//
// The units, contiguous in row order, are cut into parts of about equal
// cost (the gradient rows a unit reads, plus one for the row it writes),
// which the workers of impl/internal/team claim one at a time. The units and
// the order of every sum depend on the batch alone, never on the worker or
// part count, and no element has two writers, so the result is bitwise the
// same for every worker count (TestWorkerCounts) without locks or atomics.
// A hot row cut into groups keeps a head row of a Zipf batch from holding
// one worker while the others idle, as impl/sharded does for the dense form.
//
// The sort is a least-significant-digit radix sort on the id bits of
// id<<32 | position keys, at most 11 bits a pass, so two passes up to V =
// 2²² and three up to 2³¹: stable, so positions stay ascending within an id,
// and O(len(ids)) per pass whatever V is — no V-sized table, so a 10⁶-row
// vocabulary costs what a 10⁴-row one does. Short batches (below
// radixMin pairs) use a comparison sort, which gives the same order since the
// keys are distinct. With one worker (the zero value on one CPU, or a call
// below minWork float operations) no team is started and nothing is
// allocated once the pooled workspace is warm: this is the serial radix path,
// faster than impl/sparse's comparison sort on the benchmark batches
// (BenchmarkSparse, results/sparse).
package sparsesharded

import (
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/internal/team"
	"github.com/embgrad/embgrad/impl/internal/vec"
	"github.com/embgrad/embgrad/impl/sparse"
)

// Kernel is the parallel sparse kernel. The zero value uses GOMAXPROCS
// workers; WithSparseWorkers sets another count.
type Kernel struct {
	workers int // 0: runtime.GOMAXPROCS(0) at each call
	// parts, if > 0, replaces workers×partsPerWorker as the number of
	// parts; only the package's tests set it, to show that results do not
	// depend on it.
	parts int
}

var (
	_ embgrad.SparseKernel   = Kernel{}
	_ embgrad.SparseParallel = Kernel{}
)

// Name returns "sparse-sharded".
func (Kernel) Name() string { return "sparse-sharded" }

// WithSparseWorkers returns the kernel with n workers (n < 1 counts as 1).
func (k Kernel) WithSparseWorkers(n int) embgrad.SparseKernel {
	k.workers = max(n, 1)
	return k
}

const (
	// minWork is the number of float32 adds below which a call runs on the
	// calling goroutine alone (impl/sharded's threshold).
	minWork = 1 << 15
	// partsPerWorker is how many parts each worker's share is cut into, so
	// that a descheduled worker holds the others up by at most one part.
	partsPerWorker = 2
	// minGroup is the least K, the count above which a row is summed in
	// groups; maxGroups bounds the groups of a batch.
	minGroup, maxGroups = 256, 64
	// radixMin is the batch below which a comparison sort beats the radix
	// passes' histogram clears.
	radixMin = 256
	// digitBits is the widest radix digit: a 2048-entry histogram, 8 KiB,
	// stays in L1.
	digitBits = 11
	// prefetchAhead is how many positions ahead a unit prefetches its
	// gradient rows, which the sort has scattered.
	prefetchAhead = 2
)

// unit is one piece of the reduction: sorted pairs [lo, hi) summed into
// values row u (slot < 0) or into partial row slot (a hot row's later
// groups).
type unit struct {
	lo, hi int32
	u      int32
	slot   int32
	s      float32
}

// hotRow is an output row summed in groups: units first … first+n−1, the
// first one written into the row itself.
type hotRow struct {
	u, first, n int32
}

// work is one call's workspace, pooled.
type work struct {
	keys, tmp []uint64
	units     []unit
	hot       []hotRow
	cuts      []int
	partial   []float32
}

var pool = sync.Pool{New: func() any { return new(work) }}

// Sparse implements embgrad.SparseKernel.
func (k Kernel) Sparse(rows []int32, values []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) (int, error) {
	if uint64(len(ids)) > math.MaxUint32 {
		// Positions would not fit the keys' low half (a 16 GiB batch).
		return sparse.Kernel{}.Sparse(rows, values, V, D, ids, gradOut, opt)
	}
	if err := embgrad.ValidateSparse(rows, values, V, D, ids, gradOut, opt); err != nil {
		return 0, err
	}
	var t *team.Team
	if n := k.goroutines(len(ids) * D); n > 1 {
		// Started before the sort, so that a sleeping helper wakes
		// meanwhile (see impl/internal/team).
		t = team.Start(n)
		defer t.Stop()
	}
	w := pool.Get().(*work)
	defer pool.Put(w)
	keys := w.sort(ids, opt)
	U, slots := w.plan(rows, keys, len(ids), opt)
	if cap(w.partial) < slots*D {
		w.partial = make([]float32, slots*D)
	}
	partial := w.partial[:slots*D]
	if t == nil {
		w.run(w.units, keys, values, partial, D, gradOut)
	} else {
		parts := min(min(k.goroutines(len(ids)*D), t.Size())*partsPerWorker, len(w.units)) // t is the caller alone in a serial spell
		if k.parts > 0 {
			parts = min(k.parts, len(w.units))
		}
		w.cut(parts)
		t.Run(parts, func(p int) {
			w.run(w.units[w.cuts[p]:w.cuts[p+1]], keys, values, partial, D, gradOut)
		})
	}
	for _, h := range w.hot {
		out := values[int(h.u)*D : int(h.u+1)*D]
		for _, un := range w.units[h.first+1 : h.first+h.n] {
			vec.Add(out, partial[int(un.slot)*D:int(un.slot+1)*D])
		}
	}
	return U, nil
}

// goroutines is the number of goroutines for a call of work float32 adds.
func (k Kernel) goroutines(work int) int {
	n := k.workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(min(n, work/minWork), 1)
}

// sort returns the non-padding id<<32 | position keys of ids sorted by id,
// positions ascending within an id, in w.keys or w.tmp.
func (w *work) sort(ids []int32, opt embgrad.Options) []uint64 {
	if cap(w.keys) < len(ids) {
		w.keys, w.tmp = make([]uint64, len(ids)), make([]uint64, len(ids))
	}
	keys := w.keys[:0]
	var top int32
	for i, id := range ids {
		if !opt.Skips(id) {
			keys = append(keys, uint64(id)<<32|uint64(i)) // ids are ≥ 0 after validation
			top = max(top, id)
		}
	}
	if len(keys) < radixMin {
		slices.Sort(keys)
		return keys
	}
	tmp := w.tmp[:len(keys)]
	b := bits.Len32(uint32(top))
	passes := (b + digitBits - 1) / digitBits
	if passes == 0 {
		return keys // every id is 0
	}
	width := (b + passes - 1) / passes
	mask := uint64(1)<<width - 1
	var count [1 << digitBits]int32
	for p := range passes {
		shift := 32 + p*width
		c := count[:1<<width]
		clear(c)
		for _, key := range keys {
			c[key>>shift&mask]++
		}
		sum := int32(0)
		for d, n := range c {
			c[d] = sum
			sum += n
		}
		for _, key := range keys {
			d := key >> shift & mask
			tmp[c[d]] = key
			c[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

// plan writes the distinct ids into rows and makes the units, a row named
// more than K times cut into groups of K. It returns U and the number of
// partial rows.
func (w *work) plan(rows []int32, keys []uint64, N int, opt embgrad.Options) (U, slots int) {
	K := max(minGroup, (N+maxGroups-1)/maxGroups)
	w.units, w.hot = w.units[:0], w.hot[:0]
	for lo := 0; lo < len(keys); {
		id := keys[lo] >> 32
		hi := lo + 1
		for hi < len(keys) && keys[hi]>>32 == id {
			hi++
		}
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(hi-lo) // the rounding of the dense kernels' scale
		}
		rows[U] = int32(id)
		if hi-lo <= K {
			w.units = append(w.units, unit{lo: int32(lo), hi: int32(hi), u: int32(U), slot: -1, s: s})
		} else {
			h := hotRow{u: int32(U), first: int32(len(w.units))}
			for g := lo; g < hi; g += K {
				un := unit{lo: int32(g), hi: int32(min(g+K, hi)), u: int32(U), slot: -1, s: s}
				if g > lo {
					un.slot = int32(slots)
					slots++
				}
				w.units = append(w.units, un)
			}
			h.n = int32(len(w.units)) - h.first
			w.hot = append(w.hot, h)
		}
		U++
		lo = hi
	}
	return U, slots
}

// cut cuts w.units into parts contiguous parts of about equal cost: the
// gradient rows a unit reads, and one for the row it writes.
func (w *work) cut(parts int) {
	total := 0
	for _, un := range w.units {
		total += int(un.hi-un.lo) + 1
	}
	w.cuts = append(w.cuts[:0], 0)
	done := 0
	for i, un := range w.units {
		done += int(un.hi-un.lo) + 1
		for len(w.cuts) < parts && done*parts >= total*len(w.cuts) {
			w.cuts = append(w.cuts, i+1)
		}
	}
	for len(w.cuts) <= parts {
		w.cuts = append(w.cuts, len(w.units))
	}
}

// run sums the units' pairs into their rows, each starting from +0 as the
// contract's loop does.
func (w *work) run(units []unit, keys []uint64, values, partial []float32, D int, gradOut []float32) {
	for _, un := range units {
		var out []float32
		if un.slot < 0 {
			out = values[int(un.u)*D : int(un.u+1)*D]
		} else {
			out = partial[int(un.slot)*D : int(un.slot+1)*D]
		}
		clear(out)
		pairs := keys[un.lo:un.hi]
		for k, key := range pairs {
			if k+prefetchAhead < len(pairs) {
				f := int(uint32(pairs[k+prefetchAhead]))
				vec.Prefetch(gradOut[f*D : f*D+D])
			}
			i := int(uint32(key))
			if g := gradOut[i*D : i*D+D]; un.s == 1 {
				vec.Add(out, g)
			} else {
				vec.AddScaled(out, g, un.s)
			}
		}
	}
}
