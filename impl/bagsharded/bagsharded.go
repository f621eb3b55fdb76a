// Package bagsharded is the parallel embgrad.BagKernel. Its result, for
// every worker count, is bit for bit the reference loop's (impl/bagloop):
// each element of dst receives its terms in position order, and each term
// is formed exactly as the loop forms it.
//
// How: the rows of dst are dealt to the workers by a multiplicative hash of
// the row (Fibonacci hashing, so runs of neighbouring ids, and a Zipf
// stream's head, spread over all workers). Every worker walks all bags in
// order and adds only the positions whose row it owns, so no element has
// two writers (no atomics, no locks), and an element's terms arrive in the
// same order whatever the number of workers. Walking the ids costs a few
// nanoseconds a position per worker; the adds (a D-wide row read and
// written at a scattered address) cost far more, and the row a worker will
// add a few positions ahead is prefetched (impl/internal/vec.Prefetch),
// since the hardware prefetchers cannot follow scattered rows. Row adds use
// vec.Add / vec.AddScaled (AVX2 or AVX-512, bit for bit the pure-Go loop;
// products rounded before the add, never fused).
//
// The weight gradient of a position, one dot product summed in column
// order as the loop does, is computed by the worker that owns its row,
// where that row of E is read anyway. Max mode deals the (bag, column)
// entries by the hash of their max index the same way.
//
// What the hash cannot balance is one hot row: all of its positions go to
// one worker. On Zipf (s ≈ 1.1) ids the hottest row is a few per cent of a
// batch, so 2 workers stay near even; an all-same batch runs on one.
//
// BagBackwardScratch clears dst in parallel, in contiguous chunks, then
// accumulates as BagBackward does.
package bagsharded

import (
	"runtime"

	"github.com/embgrad/embgrad"
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

// ahead is how many owned positions ahead a worker prefetches.
const ahead = 4

func (k Kernel) goroutines(work int) int {
	n := k.workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(min(n, work/minWork), 1)
}

// BagBackward implements embgrad.BagKernel.
func (k Kernel) BagBackward(dst, dw []float32, a embgrad.BagArgs) error {
	if err := embgrad.ValidateBag(dst, dw, a); err != nil {
		return err
	}
	if a.D == 0 {
		clear(dw)
		return nil
	}
	t := team.Start(k.goroutines(len(a.IDs) * a.D))
	defer t.Stop()
	k.accumulate(t, dst, dw, a)
	return nil
}

// BagBackwardScratch implements embgrad.BagScratchKernel.
func (k Kernel) BagBackwardScratch(dst, dw []float32, a embgrad.BagArgs) error {
	if err := embgrad.ValidateBag(dst, dw, a); err != nil {
		return err
	}
	if a.D == 0 {
		clear(dw)
		return nil
	}
	t := team.Start(k.goroutines(max(len(dst), len(a.IDs)*a.D)))
	defer t.Stop()
	parts := 1
	if c := k.goroutines(len(dst)); c > 1 {
		parts = 4 * c
	}
	t.Run(parts, func(p int) { clear(dst[len(dst)*p/parts : len(dst)*(p+1)/parts]) })
	k.accumulate(t, dst, dw, a)
	return nil
}

// owner is the worker, of w, that owns row id.
func owner(id int32, w int) int {
	return int(uint64(uint32(id)*0x9E3779B1) * uint64(w) >> 32)
}

func (k Kernel) accumulate(t *team.Team, dst, dw []float32, a embgrad.BagArgs) {
	D := a.D
	w := k.goroutines(len(a.IDs) * D)
	if a.Opt.Mode == embgrad.BagMax {
		t.Run(w, func(p int) { maxPart(dst, a, p, w) })
		return
	}
	var counts *rowcount.Counts
	if a.Opt.ScaleGradByFreq {
		counts = rowcount.Acquire(a.V, a.IDs, a.Opt.Options)
		defer counts.Release()
	}
	t.Run(w, func(p int) { part(dst, dw, a, counts, p, w) })
}

// part adds the positions whose rows worker p of w owns, in position order,
// and writes their weight gradients (the E row is read where the dst row is
// written, so both are fetched once).
func part(dst, dw []float32, a embgrad.BagArgs, counts *rowcount.Counts, p, w int) {
	D := a.D
	ids := a.IDs
	mean := a.Opt.Mode == embgrad.BagMean
	plain := counts == nil && !mean && a.Weights == nil
	// next is the position of the ahead-th owned position after the one
	// being added, for prefetching; it runs ahead through the ids.
	next := 0
	advance := func() {
		for next++; next < len(ids); next++ {
			if id := ids[next]; !a.Opt.Skips(id) && owner(id, w) == p {
				vec.Prefetch(dst[int(id)*D : int(id+1)*D])
				if a.Weights != nil {
					vec.Prefetch(a.E[int(id)*D : int(id+1)*D])
				}
				return
			}
		}
	}
	next = -1
	for range ahead {
		advance()
	}
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		g := a.GradOut[b*D : (b+1)*D]
		n := 0
		if mean {
			for _, id := range ids[lo:hi] {
				if !a.Opt.Skips(id) {
					n++
				}
			}
		}
		for i := lo; i < hi; i++ {
			id := ids[i]
			if owner(id, w) != p {
				continue
			}
			if a.Opt.Skips(id) {
				if a.Weights != nil {
					dw[i] = 0
				}
				continue
			}
			advance()
			row := dst[int(id)*D : int(id+1)*D]
			if plain {
				vec.Add(row, g)
				continue
			}
			// The loop's factors, in the loop's order (see impl/bagloop).
			s := float32(1)
			if counts != nil {
				s = counts.Scale(id)
			}
			if mean {
				s = float32(s * (1 / float32(n)))
			}
			if a.Weights != nil {
				s = float32(s * a.Weights[i])
				e := a.E[int(id)*D : int(id+1)*D]
				var dot float32
				for j, x := range g {
					dot += float32(x * e[j]) // product rounded once: never fused
				}
				dw[i] = dot
			}
			vec.AddScaled(row, g, s)
		}
	}
}

// maxPart adds the max-mode entries whose max index worker p of w owns, in
// bag order.
func maxPart(dst []float32, a embgrad.BagArgs, p, w int) {
	D := a.D
	for b := range a.Bags() {
		mi := a.MaxIndices[b*D : (b+1)*D]
		g := a.GradOut[b*D : (b+1)*D]
		for j, m := range mi {
			if m >= 0 && owner(m, w) == p {
				dst[int(m)*D+j] += g[j]
			}
		}
	}
}
