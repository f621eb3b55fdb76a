// Package half16loop is the plainest correct 16-bit kernel, the baseline
// of the 16-bit forms (embgrad.HalfKernel and embgrad.Half16Kernel).
//
// BackwardHalf is the float32 reference loop on the exactly widened gradOut.
// BackwardHalf16 groups the positions by row (a stable sort, so each row's
// terms are added in input order), widens the row of dst into a float32
// accumulator, adds the row's terms in float32 and rounds once, by nearest
// even or stochastically (half.StochasticBits(seed, row·D+col)). All
// conversions are package half's, in pure Go.
package half16loop

import (
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/half"
	"github.com/embgrad/embgrad/impl/internal/rowcount"
)

// Kernel is the loop kernel for 16-bit gradients. The zero value is ready.
type Kernel struct{}

var (
	_ embgrad.HalfKernel   = Kernel{}
	_ embgrad.Half16Kernel = Kernel{}
)

// Name returns "half16loop".
func (Kernel) Name() string { return "half16loop" }

// widen returns 16-bit x of format f as float32, exactly.
func widen(f embgrad.Format, x uint16) float32 {
	if f == embgrad.Float16 {
		return half.Float16(x).Float32()
	}
	return half.BFloat16(x).Float32()
}

// BackwardHalf implements embgrad.HalfKernel.
func (Kernel) BackwardHalf(dst []float32, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) error {
	if err := embgrad.ValidateHalf(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil
	}
	var counts *rowcount.Counts
	if opt.ScaleGradByFreq {
		counts = rowcount.Acquire(V, ids, opt.Options)
		defer counts.Release()
	}
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		s := float32(1)
		if counts != nil {
			s = counts.Scale(id)
		}
		for j := 0; j < D; j++ {
			dst[int(id)*D+j] += float32(s * widen(opt.Format, gradOut[i*D+j])) // never fused
		}
	}
	return nil
}

// BackwardHalf16 implements embgrad.Half16Kernel.
func (Kernel) BackwardHalf16(dst []uint16, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) error {
	if err := embgrad.ValidateHalf16(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil
	}
	pos := make([]int, 0, len(ids))
	for i, id := range ids {
		if !opt.Skips(id) {
			pos = append(pos, i)
		}
	}
	slices.SortStableFunc(pos, func(a, b int) int { return int(ids[a]) - int(ids[b]) })
	acc := make([]float32, D)
	for lo := 0; lo < len(pos); {
		id := ids[pos[lo]]
		hi := lo + 1
		for hi < len(pos) && ids[pos[hi]] == id {
			hi++
		}
		row := dst[int(id)*D : int(id+1)*D]
		for j, x := range row {
			acc[j] = widen(opt.Format, x)
		}
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(hi-lo)
		}
		for _, i := range pos[lo:hi] {
			for j := range acc {
				acc[j] += float32(s * widen(opt.Format, gradOut[i*D+j])) // never fused
			}
		}
		Round(row, acc, opt, uint64(id)*uint64(D))
		lo = hi
	}
	return nil
}

// Round narrows acc into dst with opt's format and rounding; first is the
// element index (row·D + col) of dst[0], which numbers the stochastic
// stream.
func Round(dst []uint16, acc []float32, opt embgrad.HalfOptions, first uint64) {
	switch {
	case opt.Rounding == embgrad.Stochastic && opt.Format == embgrad.Float16:
		half.NarrowFloat16Stochastic(dst, acc, opt.Seed, first)
	case opt.Rounding == embgrad.Stochastic:
		half.NarrowBFloat16Stochastic(dst, acc, opt.Seed, first)
	case opt.Format == embgrad.Float16:
		half.NarrowFloat16(dst, acc)
	default:
		half.NarrowBFloat16(dst, acc)
	}
}
