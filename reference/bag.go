package reference

import (
	"fmt"
	"math"

	"github.com/embgrad/embgrad"
)

// BagFactors returns each position's factor in the pooled sum (sum and
// mean modes): 0 for padding, else the product of its weight (when
// weighted), 1/count of its id over the whole batch (when scaling by
// frequency) and 1/n for the n non-padding ids of its bag (mean). It also
// returns each position's bag. The offsets must be valid.
func BagFactors(a embgrad.BagArgs) (s []float64, bag []int) {
	c := Counts(a.V, a.IDs, a.Opt.Options)
	s = make([]float64, len(a.IDs))
	bag = make([]int, len(a.IDs))
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		n := 0
		for _, id := range a.IDs[lo:hi] {
			if !a.Opt.Skips(id) {
				n++
			}
		}
		for i := lo; i < hi; i++ {
			bag[i] = b
			id := a.IDs[i]
			if a.Opt.Skips(id) {
				continue
			}
			f := 1.0
			if a.Weights != nil {
				f = float64(a.Weights[i])
			}
			if a.Opt.ScaleGradByFreq {
				f /= float64(c[id])
			}
			if a.Opt.Mode == embgrad.BagMean {
				f /= float64(n)
			}
			s[i] = f
		}
	}
	return s, bag
}

// Pool64 is the pooled forward in float64 (B×D) with the factors s of
// BagFactors (weights given as float64, for finite differences in them):
// Y[b] = Σ_{i in bag b} s_i·E[ids[i]] in sum and mean modes; in max mode
// the per-column maximum over the bag's non-padding rows (the first
// occurrence of a tie), 0 for a bag without one, and the argmax ids (-1
// there). Inputs must be valid.
func Pool64(E []float64, a embgrad.BagArgs, s []float64) (Y []float64, argmax []int32) {
	D := a.D
	B := a.Bags()
	Y = make([]float64, B*D)
	if a.Opt.Mode == embgrad.BagMax {
		argmax = make([]int32, B*D)
		for k := range argmax {
			argmax[k] = -1
		}
	}
	for b := range B {
		lo, hi := a.Bag(b)
		y := Y[b*D : (b+1)*D]
		for i := lo; i < hi; i++ {
			id := a.IDs[i]
			if a.Opt.Skips(id) {
				continue
			}
			row := E[int(id)*D : int(id+1)*D]
			for j, x := range row {
				if a.Opt.Mode != embgrad.BagMax {
					y[j] += s[i] * x
				} else if m := &argmax[b*D+j]; *m < 0 || x > y[j] {
					y[j], *m = x, id
				}
			}
		}
	}
	return Y, argmax
}

// BagBackward64 is the bag backward in float64, the loop of the
// embgrad.BagKernel doc with exact factors: dst[ids[i]] += s_i·g[bag(i)]
// (sum, mean), dst[argmax[b,j]][j] += g[b,j] (max, argmax from Pool64 or
// a.MaxIndices); and, when dw is not nil, dw[i] = ⟨g[bag(i)], E[ids[i]]⟩
// (0 for padding). Inputs must be valid.
func BagBackward64(dst, dw []float64, a embgrad.BagArgs, s []float64, argmax []int32, g, E []float64) {
	D := a.D
	if a.Opt.Mode == embgrad.BagMax {
		for k, m := range argmax {
			if m >= 0 {
				dst[int(m)*D+k%D] += g[k]
			}
		}
		return
	}
	_, bag := BagFactors(a)
	for i, id := range a.IDs {
		if a.Opt.Skips(id) {
			if dw != nil {
				dw[i] = 0
			}
			continue
		}
		gb := g[bag[i]*D : (bag[i]+1)*D]
		row := dst[int(id)*D : int(id+1)*D]
		var dot float64
		for j := range row {
			row[j] += s[i] * gb[j]
			if dw != nil {
				dot += gb[j] * E[int(id)*D+j]
			}
		}
		if dw != nil {
			dw[i] = dot
		}
	}
}

// BagResult is the oracle's answer for one BagKernel call, with what the
// per-element bounds need.
type BagResult struct {
	V, D   int
	Base   []float32 // dst before the call
	Want   []float64 // Base + the float64 backward (V×D)
	Count  []int     // contributing terms per element (V×D)
	AbsSum []float64 // Σ|s·g| per element over finite terms
	// Rounds is how many roundings a float32 kernel may make in forming one
	// term s·g: 2 for each computed factor (1/count, 1/n: the reciprocal
	// and its product), 1 for the weight's product; 0 for a plain sum or
	// max, whose terms are exact.
	Rounds int
	DW     []float64 // the weight gradient, nil without weights
	DWAbs  []float64 // Σ_j |g_j·E_j| per position
	Pad    []bool    // the position is padding: dw must be exactly 0
}

// BagOracle runs the float64 bag backward on a float32 call's inputs
// (dst is the output's starting value; dw's length is only validated). It
// validates them with embgrad.ValidateBag and returns that error for
// invalid input.
func BagOracle(dst, dw []float32, a embgrad.BagArgs) (*BagResult, error) {
	if err := embgrad.ValidateBag(dst, dw, a); err != nil {
		return nil, err
	}
	V, D := a.V, a.D
	r := &BagResult{V: V, D: D, Base: append([]float32(nil), dst...), Want: make([]float64, V*D),
		Count: make([]int, V*D), AbsSum: make([]float64, V*D)}
	for k, x := range dst {
		r.Want[k] = float64(x)
	}
	if a.Opt.ScaleGradByFreq {
		r.Rounds += 2
	}
	if a.Opt.Mode == embgrad.BagMean {
		r.Rounds += 2
	}
	if a.Weights != nil {
		r.Rounds++
	}
	add := func(e int, t float64) {
		r.Want[e] += t
		r.Count[e]++
		if !math.IsInf(t, 0) && !math.IsNaN(t) {
			r.AbsSum[e] += math.Abs(t)
		}
	}
	if a.Opt.Mode == embgrad.BagMax {
		for k, m := range a.MaxIndices {
			if m >= 0 {
				add(int(m)*D+k%D, float64(a.GradOut[k]))
			}
		}
		return r, nil
	}
	s, bag := BagFactors(a)
	if a.Weights != nil {
		r.DW, r.DWAbs, r.Pad = make([]float64, len(a.IDs)), make([]float64, len(a.IDs)), make([]bool, len(a.IDs))
	}
	for i, id := range a.IDs {
		if a.Opt.Skips(id) {
			if r.Pad != nil {
				r.Pad[i] = true
			}
			continue
		}
		g := a.GradOut[bag[i]*D : (bag[i]+1)*D]
		for j := range D {
			add(int(id)*D+j, s[i]*float64(g[j]))
			if r.DW != nil {
				p := float64(g[j]) * float64(a.E[int(id)*D+j])
				r.DW[i] += p
				if !math.IsInf(p, 0) && !math.IsNaN(p) {
					r.DWAbs[i] += math.Abs(p)
				}
			}
		}
	}
	return r, nil
}

// Bound is the largest |got − want| a correct float32 kernel may show at
// element k of dst: the dense bound (Result.Bound) on the element's c terms,
// γ(c−1)·S summing (γ(c)·(|dst|+S) into a non-zero dst), plus γ(Rounds)·S
// and c·Rounds·2⁻¹⁴⁹ (underflow) for forming the terms, plus the float64
// oracle's own rounding. A single plain term into a zero dst must be exact.
func (r *BagResult) Bound(k int) float64 {
	c := r.Count[k]
	if c == 0 {
		return 0
	}
	n := c - 1
	base := math.Abs(float64(r.Base[k]))
	if base != 0 {
		n = c
	}
	mag := base + r.AbsSum[k]
	b := Gamma(n)*mag + float64(n+r.Rounds)*0x1p-52*mag
	if r.Rounds > 0 {
		b += Gamma(r.Rounds)*r.AbsSum[k] + float64(c*r.Rounds)*0x1p-149
	}
	return b
}

// DWBound is the bound on the weight gradient at position i: a dot product
// of length D, γ(D)·Σ_j|g_j·E_j| (D rounded products and D−1 adds; an
// underflowing product adds at most 2⁻¹⁴⁹ each), plus the oracle's own
// rounding.
func (r *BagResult) DWBound(i int) float64 {
	return (Gamma(r.D)+float64(r.D)*0x1p-52)*r.DWAbs[i] + float64(r.D)*0x1p-149
}

// Check compares a kernel's outputs with the oracle: elements with no
// contributing term bit-for-bit unchanged, every other within Bound; with
// weights, dw within DWBound and exactly +0 or −0 at padding positions. It
// returns nil, or a *Mismatch for the first bad element of dst, or an error
// naming the first bad dw entry.
func (r *BagResult) Check(dst, dw []float32) error {
	err := check(dst, len(r.Want), r.ok, func(k int, g float32) *Mismatch {
		return &Mismatch{Row: k / r.D, Col: k % r.D, Got: g, Want: r.Want[k], Bound: r.Bound(k),
			Count: r.Count[k], Bitwise: r.Count[k] == 0}
	})
	if err != nil {
		return err
	}
	if r.DW == nil {
		return nil
	}
	if len(dw) != len(r.DW) {
		return fmt.Errorf("dw has %d elements, want %d", len(dw), len(r.DW))
	}
	for i, g := range dw {
		if r.Pad[i] {
			if g != 0 {
				return fmt.Errorf("dw[%d] = %v at a padding position, want 0", i, g)
			}
			continue
		}
		if !withinBound(g, r.DW[i], r.DWBound(i), r.DWAbs[i]) {
			return fmt.Errorf("dw[%d] = %v, want %v, |diff| %.3g > bound %.3g (weight gradient, a dot product of length %d)",
				i, g, r.DW[i], math.Abs(float64(g)-r.DW[i]), r.DWBound(i), r.D)
		}
	}
	return nil
}

func (r *BagResult) ok(k int, got float32) bool {
	if r.Count[k] == 0 {
		return math.Float32bits(got) == math.Float32bits(r.Base[k])
	}
	return withinBound(got, r.Want[k], r.Bound(k), math.Abs(float64(r.Base[k]))+r.AbsSum[k])
}

// BagLoss is Loss on the pooled output: L(E, w) = Σ_b Σ_j (A·tanh(Y_bj) +
// ½·B·Y_bj²) with Y = Pool64(E, a, s), s from BagFactors with the weights
// w in place of a.Weights (w nil: unweighted). Its gradient in E is
// BagBackward64 of ∂ℓ/∂Y; in w, the weight gradient (factors
// other than the weight must be 1: sum mode without scaling).
type BagLoss struct{ Loss }

// NewBagLoss draws coefficients for B bags of width D.
func NewBagLoss(l Loss) BagLoss { return BagLoss{l} }

// factors returns BagFactors with weights w (float64).
func factors(a embgrad.BagArgs, w []float64) []float64 {
	a.Weights = nil
	s, _ := BagFactors(a)
	for i := range s {
		if w != nil {
			s[i] *= w[i]
		}
	}
	return s
}

// Value is L at (E, w).
func (l BagLoss) Value(E, w []float64, a embgrad.BagArgs) float64 {
	Y, _ := Pool64(E, a, factors(a, w))
	var sum float64
	for k, y := range Y {
		sum += l.A[k]*math.Tanh(y) + 0.5*l.B[k]*y*y
	}
	return sum
}

// Grad is the analytic gradient (∂L/∂E, ∂L/∂w; the latter nil when w is).
func (l BagLoss) Grad(E, w []float64, a embgrad.BagArgs) (dE, dw []float64) {
	s := factors(a, w)
	Y, argmax := Pool64(E, a, s)
	G := make([]float64, len(Y))
	for k, y := range Y {
		t := math.Tanh(y)
		G[k] = l.A[k]*(1-t*t) + l.B[k]*y
	}
	dE = make([]float64, a.V*a.D)
	if w != nil {
		dw = make([]float64, len(a.IDs))
	}
	BagBackward64(dE, dw, a, s, argmax, G, E)
	return dE, dw
}
