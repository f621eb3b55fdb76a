package reference

import (
	"fmt"
	"math"

	"github.com/embgrad/embgrad"
)

// U is the unit roundoff of float32, 2⁻²⁴.
const U = 0x1p-24

// Gamma is Higham's γ(k) = k·u/(1−k·u) for float32: the relative error bound
// of any order of summing k+1 terms (k roundings).
func Gamma(k int) float64 {
	ku := float64(k) * U
	return ku / (1 - ku)
}

// Result is the oracle's answer for one Backward call, with what the
// per-element tolerance needs.
type Result struct {
	V, D   int
	Scaled bool      // ScaleGradByFreq was set
	Base   []float32 // dst before the call (V×D)
	Want   []float64 // Base + Σ s·g in float64 (V×D)
	Count  []int     // contributing occurrences per row (V)
	AbsSum []float64 // Σ|s·g| per element over finite terms (V×D)
}

// Oracle runs the float64 backward on a float32 call's inputs. It validates
// them with embgrad.Validate and returns that error for invalid input.
func Oracle(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) (*Result, error) {
	if err := embgrad.Validate(dst, V, D, ids, gradOut, opt); err != nil {
		return nil, err
	}
	r := &Result{
		V: V, D: D, Scaled: opt.ScaleGradByFreq,
		Base:   append([]float32(nil), dst...),
		Want:   make([]float64, V*D),
		Count:  Counts(V, ids, opt),
		AbsSum: make([]float64, V*D),
	}
	for k, x := range dst {
		r.Want[k] = float64(x)
	}
	s := Scales(V, ids, opt)
	for i, id := range ids {
		if s[i] == 0 {
			continue
		}
		base := int(id) * D
		for j := 0; j < D; j++ {
			t := s[i] * float64(gradOut[i*D+j])
			r.Want[base+j] += t
			if !math.IsInf(t, 0) && !math.IsNaN(t) {
				r.AbsSum[base+j] += math.Abs(t)
			}
		}
	}
	return r, nil
}

// Bound is the largest |got − want| a correct float32 kernel may show at
// element k = row·D + col (for finite inputs without overflow).
//
// Row v has c contributing occurrences and S = Σ|s·g| over them. Summing
// c terms in any order costs γ(c−1)·S (Higham); adding into a non-zero dst
// makes dst one more term, so γ(c)·(|dst|+S). Scaling by a rounded 1/c and
// rounding the product costs γ(2)·S more, and a product that underflows adds
// at most 2⁻¹⁴⁹ each. A slack of n·2⁻⁵² covers the float64 oracle's own
// rounding. A single unscaled occurrence into a zero dst has bound 0: it must
// be bit-exact.
func (r *Result) Bound(k int) float64 {
	c := r.Count[k/r.D]
	if c == 0 {
		return 0
	}
	n := c - 1
	base := math.Abs(float64(r.Base[k]))
	if base != 0 {
		n = c
	}
	mag := base + r.AbsSum[k]
	b := Gamma(n)*mag + float64(n)*0x1p-52*mag
	if r.Scaled {
		b += Gamma(2)*r.AbsSum[k] + float64(c)*0x1p-149
	}
	return b
}

// Mismatch describes the first element of a kernel's output outside the
// tolerance, and how many elements were.
type Mismatch struct {
	Row, Col int
	Got      float32
	Want     float64
	Bound    float64 // allowed |got − want|; 0 means bitwise
	Count    int     // occurrences of Row
	Bitwise  bool    // the row must be bit-for-bit unchanged (untouched or padding)
	Total    int     // number of offending elements
}

func (m *Mismatch) Error() string {
	if m.Bitwise {
		return fmt.Sprintf("row %d col %d: got %v (bits %#08x), want unchanged %v (bits %#08x): row has no contributing occurrence; %d element(s) off",
			m.Row, m.Col, m.Got, math.Float32bits(m.Got), float32(m.Want), math.Float32bits(float32(m.Want)), m.Total)
	}
	return fmt.Sprintf("row %d col %d: got %v, want %v, |diff| %.3g > bound %.3g (row occurs %d times); %d element(s) off",
		m.Row, m.Col, m.Got, m.Want, math.Abs(float64(m.Got)-m.Want), m.Bound, m.Count, m.Total)
}

// Check compares a kernel's output with the oracle: rows with no
// contributing occurrence (untouched or padding) must be bit-for-bit
// unchanged, every other element within Bound. It returns nil or a
// *Mismatch for the first offending element in row-major order.
func (r *Result) Check(got []float32) error {
	return check(got, len(r.Want), r.ok, func(k int, g float32) *Mismatch {
		row := k / r.D
		return &Mismatch{Row: row, Col: k % r.D, Got: g, Want: r.Want[k], Bound: r.Bound(k),
			Count: r.Count[row], Bitwise: r.Count[row] == 0}
	})
}

// check returns nil if ok accepts every element of got, which must have n,
// else the *Mismatch that at makes for the first one ok rejects, counting
// them all.
func check(got []float32, n int, ok func(k int, g float32) bool, at func(k int, g float32) *Mismatch) error {
	if len(got) != n {
		return fmt.Errorf("output has %d elements, want %d", len(got), n)
	}
	var first *Mismatch
	for k, g := range got {
		if ok(k, g) {
			continue
		}
		if first == nil {
			first = at(k, g)
		}
		first.Total++
	}
	if first == nil {
		return nil
	}
	return first
}

func (r *Result) ok(k int, got float32) bool {
	if r.Count[k/r.D] == 0 {
		return math.Float32bits(got) == math.Float32bits(r.Base[k])
	}
	return withinBound(got, r.Want[k], r.Bound(k), math.Abs(float64(r.Base[k]))+r.AbsSum[k])
}

// withinBound reports whether got is want within bound, where mag bounds
// the magnitude of every partial sum: beyond MaxFloat32 some orders overflow
// and others do not, so a non-finite result is then as correct as a finite
// one. Otherwise NaN and ±Inf must match a non-finite want.
func withinBound(got float32, want, bound, mag float64) bool {
	g := float64(got)
	if math.IsNaN(g) || math.IsInf(g, 0) {
		if mag > math.MaxFloat32 {
			return true
		}
		if math.IsNaN(want) {
			return math.IsNaN(g)
		}
		return g == want
	}
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return false // an Inf or NaN input was lost
	}
	return math.Abs(g-want) <= bound
}
