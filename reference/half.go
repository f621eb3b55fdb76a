package reference

import (
	"fmt"
	"math"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/half"
)

// Widen returns the 16-bit values x of format f as float32, exactly.
func Widen(f embgrad.Format, x []uint16) []float32 {
	w := make([]float32, len(x))
	if f == embgrad.Float16 {
		half.WidenFloat16(w, x)
	} else {
		half.WidenBFloat16(w, x)
	}
	return w
}

// Widen1 returns one 16-bit value of format f as float32, exactly.
func Widen1(f embgrad.Format, x uint16) float32 {
	if f == embgrad.Float16 {
		return half.Float16(x).Float32()
	}
	return half.BFloat16(x).Float32()
}

// HalfOracle is Oracle for a HalfKernel call: the float64 backward of the
// exactly widened gradOut into the float32 dst. Its Bound is the float32
// one: widening costs nothing. It validates with embgrad.ValidateHalf.
func HalfOracle(dst []float32, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) (*Result, error) {
	if err := embgrad.ValidateHalf(dst, V, D, ids, gradOut, opt); err != nil {
		return nil, err
	}
	return Oracle(dst, V, D, ids, Widen(opt.Format, gradOut), opt.Options)
}

// Half16Result is the oracle's answer for a Half16Kernel call.
type Half16Result struct {
	R      *Result // the float64 backward from the widened dst and gradOut
	Format embgrad.Format
	Ulps   float64 // rounding allowance in 16-bit ulps: ½ (nearest even) or 1 (stochastic)
	Base   []uint16
}

// Half16Oracle runs the float64 backward on a Half16Kernel call's inputs,
// widened exactly. It validates with embgrad.ValidateHalf16.
func Half16Oracle(dst []uint16, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) (*Half16Result, error) {
	if err := embgrad.ValidateHalf16(dst, V, D, ids, gradOut, opt); err != nil {
		return nil, err
	}
	r, err := Oracle(Widen(opt.Format, dst), V, D, ids, Widen(opt.Format, gradOut), opt.Options)
	if err != nil {
		return nil, err
	}
	u := 0.5
	if opt.Rounding == embgrad.Stochastic {
		u = 1
	}
	return &Half16Result{R: r, Format: opt.Format, Ulps: u, Base: append([]uint16(nil), dst...)}, nil
}

// Ulp16 is the spacing of format f's values at magnitude x: the gap between
// x's binade's neighbours, the subnormal spacing below the smallest normal.
func Ulp16(f embgrad.Format, x float64) float64 {
	minExp, frac := -126, 7
	if f == embgrad.Float16 {
		minExp, frac = -14, 10
	}
	e := minExp
	if x = math.Abs(x); x != 0 && !math.IsInf(x, 0) {
		_, e2 := math.Frexp(x) // x = m·2^e2, m in [½, 1)
		e = max(e2-1, minExp)
	}
	return math.Ldexp(1, e-frac)
}

// Max16 is format f's largest finite value.
func Max16(f embgrad.Format) float64 {
	if f == embgrad.Float16 {
		return 65504
	}
	return float64(math.Float32frombits(0x7f7f0000))
}

// Bound is the largest |got − want| a correct kernel may show at element k:
// the float32 summation bound of the widened call (Result.Bound) plus one
// final rounding to 16 bits, Ulps (½ for nearest even, 1 for stochastic)
// of the 16-bit spacing at the largest magnitude the float32 sum can have.
// A single occurrence into a zero dst is exact in float32 and a 16-bit
// value, so its bound is 0.
func (h *Half16Result) Bound(k int) float64 {
	b := h.R.Bound(k)
	if h.R.Count[k/h.R.D] == 1 && h.R.Base[k] == 0 && !h.R.Scaled {
		return 0
	}
	return b + h.Ulps*Ulp16(h.Format, math.Abs(h.R.Want[k])+b)
}

// Check compares a 16-bit kernel's output with the oracle: rows with no
// contributing occurrence bit-for-bit unchanged, every other element within
// Bound, NaN where the exact answer is NaN, ±Inf where it is ±Inf or where
// the sum reaches the rounding threshold past the largest finite value. It
// returns nil or a *Mismatch (Got widened) for the first offending element.
func (h *Half16Result) Check(got []uint16) error {
	r := h.R
	if len(got) != len(r.Want) {
		return fmt.Errorf("output has %d elements, want %d", len(got), len(r.Want))
	}
	var first *Mismatch
	for k, g := range got {
		if h.ok(k, g) {
			continue
		}
		if first == nil {
			row := k / r.D
			first = &Mismatch{Row: row, Col: k % r.D, Got: Widen1(h.Format, g), Want: r.Want[k], Bound: h.Bound(k),
				Count: r.Count[row], Bitwise: r.Count[row] == 0}
		}
		first.Total++
	}
	if first == nil {
		return nil
	}
	return first
}

func (h *Half16Result) ok(k int, got uint16) bool {
	r := h.R
	if r.Count[k/r.D] == 0 {
		return got == h.Base[k]
	}
	g, want, b := float64(Widen1(h.Format, got)), r.Want[k], h.Bound(k)
	mag := math.Abs(float64(r.Base[k])) + r.AbsSum[k]
	if math.IsInf(g, 0) && !math.IsNaN(want) && !math.IsInf(want, 0) && mag <= math.MaxFloat32 {
		// A finite exact sum may round to ±Inf only from the overflow
		// threshold on: the largest finite value plus the rounding allowance.
		// The float32 sum lies within the float32 bound of want.
		lim := Max16(h.Format) + h.Ulps*Ulp16(h.Format, Max16(h.Format))
		return math.Signbit(g) == math.Signbit(want) && math.Abs(want)+r.Bound(k) >= lim
	}
	return withinBound(float32(g), want, b, mag)
}
