package reference

import (
	"math"

	"github.com/embgrad/embgrad/gradnorm"
)

// DenseRows64 is g as a dense V×D float64 table: a sparse gradient's
// entries summed per row in float64, duplicates included, so that it is the
// gradient an uncoalesced sparse tensor stands for. Rows must be in range.
func DenseRows64(g gradnorm.Grad) []float64 {
	out := make([]float64, g.V*g.D)
	for k, x := range g.Values {
		r := k / max(g.D, 1)
		if g.Sparse {
			r = int(g.Rows[r])
		}
		out[r*g.D+k%g.D] += float64(x)
	}
	return out
}

// RowNorms64 is the L2 norm of every row of the dense form of g (V of them),
// the plain float64 loop: the oracle for gradnorm's RowNorms.
func RowNorms64(g gradnorm.Grad) []float64 {
	d := DenseRows64(g)
	out := make([]float64, g.V)
	for r := range out {
		var s float64
		for _, x := range d[r*g.D : (r+1)*g.D] {
			s += x * x
		}
		out[r] = math.Sqrt(s)
	}
	return out
}

// TotalNorm64 is torch.nn.utils.get_total_norm in float64 on the dense forms
// of grads: for p = 2 the 2-norm of the per-tensor 2-norms, for p = +Inf the
// largest |x| (NaN if any is NaN).
func TotalNorm64(grads []gradnorm.Grad, p float64) float64 {
	var s float64
	for _, g := range grads {
		d := DenseRows64(g)
		if math.IsInf(p, 1) {
			for _, x := range d {
				if x != x {
					return x
				}
				s = math.Max(s, math.Abs(x))
			}
			continue
		}
		var t float64
		for _, x := range d {
			t += x * x
		}
		s += t // the square of the tensor's norm
	}
	if math.IsInf(p, 1) {
		return s
	}
	return math.Sqrt(s)
}

// NormBound is the relative error allowed between a float64 norm over n
// float32 elements and these oracles: both sum n exact, non-negative
// squares (relative error at most (n−1)·2⁻⁵³ each) and round a square root
// (2⁻⁵³), so (n+4)·2⁻⁵² covers both.
func NormBound(n int) float64 { return float64(n+4) * 0x1p-52 }

// NormClose reports whether got is within NormBound(n) of want, with NaN
// matching NaN and +Inf matching +Inf only.
func NormClose(got, want float64, n int) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return math.IsNaN(got) == math.IsNaN(want) && (math.IsNaN(got) || got == want)
	}
	return math.Abs(got-want) <= NormBound(n)*want
}
