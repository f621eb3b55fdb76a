// Package half16simd is the fast 16-bit kernel: the row primitives of
// impl/internal/half16 (AVX-512 widening by VPMOVZXWD+VPSLLD or VCVTPH2PS,
// narrowing by VCVTPS2PH or integer rounding; pure Go elsewhere, with the
// purego tag or EMBGRAD_PUREGO=1), bit for bit the results of
// impl/half16loop.
//
// BackwardHalf adds each widened gradOut row straight into its float32 dst
// row, in input order, prefetching the table row two positions ahead.
// BackwardHalf16 groups the positions by row with a counting sort over a
// pooled V-entry slot table (input order kept within a row), then for each
// distinct row widens dst's row into a D-float accumulator that stays in
// L1, adds the row's terms (prefetching the gradOut rows, which it visits
// out of memory order) and narrows once. Both are serial (one worker); see
// results/half/BENCH.md for what was measured.
package half16simd

import (
	"sync"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/half"
	"github.com/embgrad/embgrad/impl/internal/half16"
	"github.com/embgrad/embgrad/impl/internal/rowcount"
	"github.com/embgrad/embgrad/impl/internal/vec"
)

// asFloats views a 16-bit row as the float32 words over the same bytes
// (rounded down), for vec.Prefetch, which only reads addresses.
func asFloats(x []uint16) []float32 {
	if len(x) < 2 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&x[0])), len(x)/2)
}

// Kernel is the SIMD 16-bit kernel. The zero value is ready to use.
type Kernel struct{}

var (
	_ embgrad.HalfKernel   = Kernel{}
	_ embgrad.Half16Kernel = Kernel{}
)

// Name returns "half16simd".
func (Kernel) Name() string { return "half16simd" }

func format(f embgrad.Format) int {
	if f == embgrad.Float16 {
		return half16.F16
	}
	return half16.BF16
}

// BackwardHalf implements embgrad.HalfKernel.
func (Kernel) BackwardHalf(dst []float32, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) error {
	if err := embgrad.ValidateHalf(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil
	}
	f := format(opt.Format)
	var counts *rowcount.Counts
	if opt.ScaleGradByFreq {
		counts = rowcount.Acquire(V, ids, opt.Options)
		defer counts.Release()
	}
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		if i+2 < len(ids) { // the table rows are scattered: ask for the one two positions on
			next := int(ids[i+2])
			vec.Prefetch(dst[next*D : (next+1)*D])
		}
		d, g := dst[int(id)*D:int(id+1)*D], gradOut[i*D:(i+1)*D]
		if counts != nil {
			half16.AddScaled(f, d, g, counts.Scale(id))
		} else {
			half16.Add(f, d, g)
		}
	}
	return nil
}

// scratch is the pooled work of BackwardHalf16; slot is all zero between
// calls.
type scratch struct {
	slot  []int32 // row → 1 + its index in rows, 0 if not yet seen
	rows  []int32 // distinct rows in order of first occurrence
	start []int   // start[u] .. start[u+1]: row u's positions in order
	order []int
	cur   []int
	acc   []float32
}

var pool sync.Pool

// BackwardHalf16 implements embgrad.Half16Kernel.
func (Kernel) BackwardHalf16(dst []uint16, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) error {
	if err := embgrad.ValidateHalf16(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil
	}
	s, _ := pool.Get().(*scratch)
	if s == nil {
		s = new(scratch)
	}
	defer pool.Put(s)
	if len(s.slot) < V {
		s.slot = make([]int32, V)
	}
	s.rows, s.start = s.rows[:0], s.start[:0]
	for _, id := range ids {
		if opt.Skips(id) {
			continue
		}
		if s.slot[id] == 0 {
			s.rows = append(s.rows, id)
			s.start = append(s.start, 0)
			s.slot[id] = int32(len(s.rows))
		}
		s.start[s.slot[id]-1]++
	}
	U, n := len(s.rows), 0
	for u := range U { // counts → exclusive prefix sums
		c := s.start[u]
		s.start[u] = n
		n += c
	}
	s.start = append(s.start, n)
	if cap(s.order) < n {
		s.order = make([]int, n)
	}
	s.order = s.order[:n]
	s.cur = append(s.cur[:0], s.start[:U]...) // each row's next free place in order
	cur := s.cur
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		u := s.slot[id] - 1
		s.order[cur[u]] = i
		cur[u]++
	}
	if cap(s.acc) < D {
		s.acc = make([]float32, D)
	}
	acc, f := s.acc[:D], format(opt.Format)
	// Rows of gradOut are visited in row order, not in memory order, so
	// the hardware prefetcher cannot see the next one: each add asks for
	// the gradOut row prefetchAhead positions later, and each row for the
	// next dst row.
	const prefetchAhead = 2
	o := 0
	for u, id := range s.rows {
		s.slot[id] = 0
		if u+1 < U {
			next := int(s.rows[u+1])
			vec.Prefetch(asFloats(dst[next*D : (next+1)*D]))
		}
		row := dst[int(id)*D : int(id+1)*D]
		half16.Widen(f, acc, row)
		ps := s.order[s.start[u]:s.start[u+1]]
		sc := float32(1)
		if opt.ScaleGradByFreq {
			sc = 1 / float32(len(ps)) // as rowcount.Scale
		}
		for _, i := range ps {
			if o+prefetchAhead < n {
				p := s.order[o+prefetchAhead]
				vec.Prefetch(asFloats(gradOut[p*D : (p+1)*D]))
			}
			o++
			if opt.ScaleGradByFreq {
				half16.AddScaled(f, acc, gradOut[i*D:(i+1)*D], sc)
			} else {
				half16.Add(f, acc, gradOut[i*D:(i+1)*D])
			}
		}
		first := uint64(id) * uint64(D)
		switch {
		case opt.Rounding == embgrad.Stochastic && f == half16.F16:
			half.NarrowFloat16Stochastic(row, acc, opt.Seed, first)
		case opt.Rounding == embgrad.Stochastic:
			half.NarrowBFloat16Stochastic(row, acc, opt.Seed, first)
		default:
			half16.Narrow(f, row, acc)
		}
	}
	return nil
}
