package broken

import (
	"math"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/half"
)

// HalfKernel is a kernel of both 16-bit forms.
type HalfKernel interface {
	embgrad.HalfKernel
	embgrad.Half16Kernel
}

// FaultyHalf returns 16-bit kernels that each break the contract in one
// way; Name says how.
func FaultyHalf() []HalfKernel {
	return []HalfKernel{
		halfLoop{name: "accumulates-in-16-bits", acc16: true},
		halfLoop{name: "truncates", truncate: true},
		halfLoop{name: "flushes-subnormals", ftz: true},
		halfLoop{name: "nan-to-inf", nanInf: true},
		halfLoop{name: "stochastic-is-nearest", srNearest: true},
		halfLoop{name: "stochastic-seed-ignored", srFixedSeed: true},
	}
}

// ReorderedHalf returns correct 16-bit kernels whose summation orders
// differ from the reference loop's.
func ReorderedHalf() []HalfKernel {
	return []HalfKernel{
		halfLoop{name: "half-loop"},
		halfLoop{name: "half-reversed-sum", reverse: true},
	}
}

// halfLoop is the reference loop of the 16-bit forms with hooks for
// breaking it. It allocates freely.
type halfLoop struct {
	name        string
	acc16       bool // a 16-bit dst row is rounded after every add
	truncate    bool // rounds toward zero instead of to nearest even
	ftz         bool // subnormal inputs and results become ±0
	nanInf      bool // NaN becomes +Inf when widened or narrowed
	srNearest   bool // Stochastic rounds to nearest even
	srFixedSeed bool // Stochastic always uses seed 0
	reverse     bool // each row summed from its last occurrence to its first
}

func (k halfLoop) Name() string { return k.name }

func (k halfLoop) widen(f embgrad.Format, x uint16) float32 {
	var w float32
	if f == embgrad.Float16 {
		w = half.Float16(x).Float32()
	} else {
		w = half.BFloat16(x).Float32()
	}
	return k.fix(f, w)
}

// fix applies the flush and NaN faults to a float32 value in format f's range.
func (k halfLoop) fix(f embgrad.Format, w float32) float32 {
	min := float32(0x1p-126)
	if f == embgrad.Float16 {
		min = 0x1p-14
	}
	switch {
	case k.nanInf && w != w:
		return float32(math.Inf(1))
	case k.ftz && w != 0 && math.Abs(float64(w)) < float64(min):
		return float32(math.Copysign(0, float64(w)))
	}
	return w
}

func (k halfLoop) round(f embgrad.Format, x float32, opt embgrad.HalfOptions, e uint64) uint16 {
	bits := uint64(0)
	sr := opt.Rounding == embgrad.Stochastic && !k.srNearest
	switch {
	case k.truncate:
		sr, bits = true, math.MaxUint64 // never rounds up: truncation
	case sr && k.srFixedSeed:
		bits = half.StochasticBits(0, e)
	case sr:
		bits = half.StochasticBits(opt.Seed, e)
	}
	var h uint16
	switch {
	case sr && f == embgrad.Float16:
		h = uint16(half.Float16Stochastic(x, bits))
	case sr:
		h = uint16(half.BFloat16Stochastic(x, bits))
	case f == embgrad.Float16:
		h = uint16(half.Float16FromFloat32(x))
	default:
		h = uint16(half.BFloat16FromFloat32(x))
	}
	if k.ftz || k.nanInf {
		var w float32
		if f == embgrad.Float16 {
			w = half.Float16(h).Float32()
		} else {
			w = half.BFloat16(h).Float32()
		}
		if w2 := k.fix(f, w); math.Float32bits(w2) != math.Float32bits(w) {
			if f == embgrad.Float16 {
				h = uint16(half.Float16FromFloat32(w2))
			} else {
				h = uint16(half.BFloat16FromFloat32(w2))
			}
		}
	}
	return h
}

// rows returns the contributing positions grouped by row, in input order
// (reversed when k.reverse), rows ascending.
func (k halfLoop) rows(ids []int32, opt embgrad.Options) [][]int {
	by := map[int32][]int{}
	for i, id := range ids {
		if !opt.Skips(id) {
			by[id] = append(by[id], i)
		}
	}
	keys := make([]int32, 0, len(by))
	for id := range by {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	out := make([][]int, len(keys))
	for n, id := range keys {
		out[n] = by[id]
		if k.reverse {
			slices.Reverse(out[n])
		}
	}
	return out
}

func (k halfLoop) BackwardHalf(dst []float32, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) error {
	if err := embgrad.ValidateHalf(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil
	}
	for _, ps := range k.rows(ids, opt.Options) {
		id := ids[ps[0]]
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(len(ps))
		}
		for _, i := range ps {
			for j := range D {
				dst[int(id)*D+j] += float32(s * k.widen(opt.Format, gradOut[i*D+j]))
			}
		}
	}
	return nil
}

func (k halfLoop) BackwardHalf16(dst []uint16, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) error {
	if err := embgrad.ValidateHalf16(dst, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if D == 0 {
		return nil
	}
	acc := make([]float32, D)
	for _, ps := range k.rows(ids, opt.Options) {
		id := ids[ps[0]]
		row := dst[int(id)*D : int(id+1)*D]
		for j, x := range row {
			acc[j] = k.widen(opt.Format, x)
		}
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(len(ps))
		}
		for _, i := range ps {
			for j := range D {
				acc[j] += float32(s * k.widen(opt.Format, gradOut[i*D+j]))
				if k.acc16 {
					acc[j] = k.widen(opt.Format, k.round(opt.Format, acc[j], embgrad.HalfOptions{}, 0))
				}
			}
		}
		for j := range row {
			row[j] = k.round(opt.Format, acc[j], opt, uint64(id)*uint64(D)+uint64(j))
		}
	}
	return nil
}

// FaultyHalfValidation returns 16-bit kernels that validate wrongly: one
// writes dst before validating, one ignores the 16-bit options, one misses
// the overlap test.
func FaultyHalfValidation() []HalfKernel {
	return []HalfKernel{
		halfLateValidation{halfLoop{name: "half-writes-before-validating"}, 0},
		halfLateValidation{halfLoop{name: "half-ignores-format"}, 1},
		halfLateValidation{halfLoop{name: "half-misses-overlap"}, 2},
	}
}

// halfLateValidation is halfLoop with a validation fault: 0 writes dst[0]
// first, 1 accepts any Format and Rounding, 2 skips the overlap checks.
type halfLateValidation struct {
	halfLoop
	fault int
}

func (k halfLateValidation) fix(opt embgrad.HalfOptions) embgrad.HalfOptions {
	if k.fault == 1 && opt.Format != embgrad.Float16 {
		opt.Format = embgrad.BFloat16
	}
	if k.fault == 1 && opt.Rounding > embgrad.Stochastic {
		opt.Rounding = embgrad.NearestEven
	}
	return opt
}

func (k halfLateValidation) BackwardHalf(dst []float32, V, D int, ids []int32, g []uint16, opt embgrad.HalfOptions) error {
	if k.fault == 0 && len(dst) > 0 {
		dst[0]++
	}
	if k.fault == 1 && opt.Rounding == embgrad.Stochastic {
		opt.Rounding = embgrad.NearestEven
	}
	if k.fault == 2 {
		return k.halfLoop.BackwardHalf(slices.Clone(dst), V, D, ids, g, opt) // validates a copy: never overlaps
	}
	return k.halfLoop.BackwardHalf(dst, V, D, ids, g, k.fix(opt))
}

func (k halfLateValidation) BackwardHalf16(dst []uint16, V, D int, ids []int32, g []uint16, opt embgrad.HalfOptions) error {
	if k.fault == 0 && len(dst) > 0 {
		dst[0]++
	}
	if k.fault == 2 {
		c := slices.Clone(dst)
		if err := k.halfLoop.BackwardHalf16(c, V, D, ids, g, opt); err != nil {
			return err
		}
		copy(dst, c)
		return nil
	}
	return k.halfLoop.BackwardHalf16(dst, V, D, ids, g, k.fix(opt))
}
