package reference

import (
	"math"

	"github.com/embgrad/embgrad"
)

// TiedResult is the oracle's answer for one BackwardTied call.
type TiedResult struct {
	Input  *Result   // the input part alone on dst: Base, Count, AbsSum
	T      int       // output positions
	Want   []float64 // Base + input part + Σ_t dZ[t,v]·H[t,j] in float64 (V×D)
	OutAbs []float64 // Σ_t |dZ[t,v]·H[t,j]| over finite products (V×D)
}

// TiedOracle runs the float64 tied backward on a float32 call's inputs. It
// validates them with embgrad.ValidateTied and returns that error for
// invalid input.
func TiedOracle(dst []float32, a embgrad.TiedArgs) (*TiedResult, error) {
	if err := embgrad.ValidateTied(dst, a); err != nil {
		return nil, err
	}
	in, err := Oracle(dst, a.V, a.D, a.IDs, a.GradOut, a.Opt)
	if err != nil {
		return nil, err
	}
	V, D := a.V, a.D
	r := &TiedResult{Input: in, T: a.T, Want: append([]float64(nil), in.Want...), OutAbs: make([]float64, V*D)}
	for t := range a.T {
		h := a.H[t*D : t*D+D]
		for v := range V {
			z := float64(a.DZ[t*V+v])
			want, abs := r.Want[v*D:v*D+D], r.OutAbs[v*D:v*D+D]
			for j, x := range h {
				p := z * float64(x) // exact: 24+24 bits fit in 53
				want[j] += p
				if !math.IsInf(p, 0) && !math.IsNaN(p) {
					abs[j] += math.Abs(p)
				}
			}
		}
	}
	return r, nil
}

// Bound is the largest |got − want| a correct float32 tied kernel may show
// at element k = row·D + col (for finite inputs without overflow).
//
// With T = 0 it is the input part's Result.Bound. Otherwise the element is
// a sum of m = c + T (+1 for a non-zero dst) terms: dst, the c input-part
// terms s·g (S = Σ|s·g|) and the T products dZ·H (P = Σ|dZ·H|). A kernel
// may sum them in any order, one part first or interleaved, with or
// without FMA. Summing m rounded terms costs γ(m−1)·Σ|terms| (Higham); a
// product's own rounding folds in as γ(m−1)(1+u) + u ≤ γ(m), and a scaled
// term's γ(2) as γ(m+1). So
//
//	bound = γ(m−1)·(|dst| + S) + γ(m)·P          (unscaled)
//	bound = γ(m−1)·|dst| + γ(m+1)·S + γ(m)·P     (scaled)
//
// plus 2⁻¹⁴⁹ per term that may underflow and m·2⁻⁵²·magnitude for the
// float64 oracle's own rounding.
func (r *TiedResult) Bound(k int) float64 {
	in := r.Input
	if r.T == 0 {
		return in.Bound(k)
	}
	c := in.Count[k/in.D]
	base := math.Abs(float64(in.Base[k]))
	m := c + r.T
	if base != 0 {
		m++
	}
	S, P := in.AbsSum[k], r.OutAbs[k]
	b := Gamma(m-1)*base + Gamma(m)*P + float64(r.T)*0x1p-149
	if in.Scaled {
		b += Gamma(m+1)*S + float64(c)*0x1p-149
	} else {
		b += Gamma(m-1) * S
	}
	return b + float64(m)*0x1p-52*(base+S+P)
}

// Check compares a tied kernel's output with the oracle: with T = 0 exactly
// as Result.Check, otherwise every element within Bound. It returns nil or
// a *Mismatch for the first offending element in row-major order.
func (r *TiedResult) Check(got []float32) error {
	if r.T == 0 {
		return r.Input.Check(got)
	}
	in := r.Input
	ok := func(k int, g float32) bool {
		mag := math.Abs(float64(in.Base[k])) + in.AbsSum[k] + r.OutAbs[k]
		return withinBound(g, r.Want[k], r.Bound(k), mag)
	}
	return check(got, len(r.Want), ok, func(k int, g float32) *Mismatch {
		row := k / in.D
		return &Mismatch{Row: row, Col: k % in.D, Got: g, Want: r.Want[k], Bound: r.Bound(k), Count: in.Count[row]}
	})
}
