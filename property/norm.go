package property

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// NormChecks returns the properties of a gradnorm.Impl, each checked by
// gopter on random lists of dense and sparse gradients (suite.Normal
// values), every call through the guarded call:
//
//   - norm/clip-bound: clipping to max_norm below the total leaves a total
//     (reference.TotalNorm64 of the result) ≤ max_norm·(1 + 4·2⁻²⁴): the
//     coefficient's and each product's float32 rounding;
//   - norm/noop: max_norm at or above the total (up to 10⁶ times it) leaves
//     every gradient bit for bit unchanged;
//   - norm/direction: clipping preserves the direction: cos(before, after)
//     ≥ 1 − 2⁻²⁰, and no element changes sign;
//   - norm/scale-pow2: multiplying every value by 2ᵏ (|k| ≤ 20, exact in
//     float32 here) multiplies every row norm and the total, p = 2 and
//     +Inf, by exactly 2ᵏ;
//   - norm/split-join: a dense tensor split by rows into separate tensors,
//     or tensors joined into one, give the same total (within
//     reference.NormBound; +Inf exactly);
//   - norm/sparse-coalesced: a sparse gradient's norm is that of its
//     coalesced rows: an uncoalesced one is either refused (ErrInvalidInput)
//     or normed as gradnorm.Coalesce makes it, never over its raw entries;
//     its coalesced form's total equals its dense form's.
func NormChecks(k gradnorm.Impl) []NamedCheck {
	return []NamedCheck{
		normProp("norm/clip-bound", k, normClipBound),
		normProp("norm/noop", k, normNoop),
		normProp("norm/direction", k, normDirection),
		normProp("norm/scale-pow2", k, normScalePow2),
		normProp("norm/split-join", k, normSplitJoin),
		normProp("norm/sparse-coalesced", k, normSparseCoalesced),
	}
}

// TestNorm runs NormChecks(k) as subtests of t.
func TestNorm(t *testing.T, k gradnorm.Impl) {
	t.Helper()
	suite.Test(t, NormChecks(k))
}

// CheckNorm runs NormChecks(k) with cfg and returns every failure joined.
func CheckNorm(k gradnorm.Impl, cfg Config) error { return suite.Join(RunNorm(k, cfg)) }

// RunNorm runs NormChecks(k) with cfg, one result per check.
func RunNorm(k gradnorm.Impl, cfg Config) []Result { return suite.Run(NormChecks(k), cfg) }

func normProp(name string, k gradnorm.Impl, f func(gradnorm.Impl, normCase) error) NamedCheck {
	return NamedCheck{Name: name, Run: func(cfg Config) error {
		n := tiedCasesFull
		if cfg.Short {
			n = tiedCasesShort
		}
		return suite.ForAll(cfg, name, k.Name(), n, normGen(), func(c normCase) error { return f(k, c) })
	}}
}

// normCase is a list of gradients made from its shape and seed, so that
// gopter shrinks the shape and the data follows.
type normCase struct {
	T, V, D int
	Seed    uint64
	Grads   []gradnorm.Grad // T tensors: dense V×D or coalesced sparse
	Frac    float64         // max_norm / total for clipping, in (0, 1)
	K       int             // power of two for scale-pow2
	P       float64         // 2 or +Inf
	Dups    gradnorm.Grad   // an uncoalesced sparse gradient of V×D
}

func normGen() gopter.Gen {
	return gopter.DeriveGen(
		func(T, V, D int, seed uint64) normCase { return newNormCase(T, V, D, seed) },
		func(c normCase) (int, int, int, uint64) { return c.T, c.V, c.D, c.Seed },
		gen.IntRange(1, 4), gen.IntRange(1, 60), gen.IntRange(1, 40), gen.UInt64(),
	).SuchThat(func(c normCase) bool { return c.T >= 1 && c.V >= 1 && c.D >= 1 })
}

func newNormCase(T, V, D int, seed uint64) normCase {
	c := normCase{T: T, V: V, D: D, Seed: seed}
	if T < 1 || V < 1 || D < 1 {
		return c
	}
	rng := rand.New(rand.NewPCG(seed, 0x9047))
	for range T {
		if rng.IntN(3) == 0 {
			rows := []int32{}
			for r := range V {
				if rng.IntN(2) == 0 {
					rows = append(rows, int32(r))
				}
			}
			c.Grads = append(c.Grads, gradnorm.SparseGrad(rows, suite.Fill(rng, len(rows)*D, suite.Normal), V, D))
		} else {
			c.Grads = append(c.Grads, gradnorm.Dense(suite.Fill(rng, V*D, suite.Normal), V, D))
		}
	}
	c.Frac = 0.01 + 0.98*rng.Float64()
	c.K = rng.IntN(41) - 20
	c.P = 2
	if rng.IntN(3) == 0 {
		c.P = math.Inf(1)
	}
	// Each entry names a row among few, so rows repeat.
	n := 2 + rng.IntN(2*V+2)
	rows := make([]int32, n)
	for i := range rows {
		rows[i] = int32(rng.IntN(min(V, 3)))
	}
	c.Dups = gradnorm.SparseGrad(rows, suite.Fill(rng, n*D, suite.Normal), V, D)
	return c
}

func (c normCase) String() string { return c.Size() }

func (c normCase) Size() string {
	return fmt.Sprintf("T=%d V=%d D=%d p=%v seed=%#x", c.T, c.V, c.D, c.P, c.Seed)
}

func normElems(gs []gradnorm.Grad) int {
	n := 0
	for _, g := range gs {
		n += len(g.Values)
	}
	return n
}

func normClipBound(k gradnorm.Impl, c normCase) error {
	ref := reference.TotalNorm64(c.Grads, c.P)
	maxNorm := c.Frac * ref
	after, _, err := suite.Clip(k, c.Grads, maxNorm, c.P, true)
	if err != nil {
		return suite.Accepted(err)
	}
	if got := reference.TotalNorm64(after, c.P); got > maxNorm*(1+4*0x1p-24) {
		return fmt.Errorf("clipped total %v > max_norm %v (total before %v)", got, maxNorm, ref)
	}
	return nil
}

func normNoop(k gradnorm.Impl, c normCase) error {
	ref := reference.TotalNorm64(c.Grads, c.P)
	for _, maxNorm := range []float64{ref * (1 + 1e-9) * (1 + c.Frac), ref*1e6 + 1} {
		after, _, err := suite.Clip(k, c.Grads, maxNorm, c.P, true)
		if err != nil {
			return suite.Accepted(err)
		}
		for t := range after {
			if e := suite.FirstDiff(after[t].Values, c.Grads[t].Values); e >= 0 {
				return fmt.Errorf("max_norm %v ≥ total %v: tensor %d element %d changed from %v to %v",
					maxNorm, ref, t, e, c.Grads[t].Values[e], after[t].Values[e])
			}
		}
	}
	return nil
}

func normDirection(k gradnorm.Impl, c normCase) error {
	ref := reference.TotalNorm64(c.Grads, c.P)
	after, _, err := suite.Clip(k, c.Grads, c.Frac*ref, c.P, true)
	if err != nil {
		return suite.Accepted(err)
	}
	var dot, aa, bb float64
	for t := range after {
		for e, x := range c.Grads[t].Values {
			y := after[t].Values[e]
			if x > 0 && y < 0 || x < 0 && y > 0 {
				return fmt.Errorf("tensor %d element %d changed sign: %v to %v", t, e, x, y)
			}
			dot += float64(x) * float64(y)
			aa += float64(x) * float64(x)
			bb += float64(y) * float64(y)
		}
	}
	if aa > 0 {
		if cos := dot / math.Sqrt(aa*bb); !(cos >= 1-0x1p-20) {
			return fmt.Errorf("cos(before, after) = %v, want ≥ 1 − 2⁻²⁰", cos)
		}
	}
	return nil
}

func normScalePow2(k gradnorm.Impl, c normCase) error {
	s := float32(math.Ldexp(1, c.K))
	scaled := make([]gradnorm.Grad, len(c.Grads))
	for t, g := range c.Grads {
		scaled[t] = g
		scaled[t].Values = make([]float32, len(g.Values))
		for e, x := range g.Values {
			scaled[t].Values[e] = x * s
		}
	}
	for _, p := range []float64{2, math.Inf(1)} {
		a, err := suite.TotalNorm(k, c.Grads, p)
		if err != nil {
			return suite.Accepted(err)
		}
		b, err := suite.TotalNorm(k, scaled, p)
		if err != nil {
			return suite.Accepted(err)
		}
		if b != math.Ldexp(a, c.K) {
			return fmt.Errorf("p=%v: total of 2^%d·x is %v, want 2^%d·%v = %v exactly", p, c.K, b, c.K, a, math.Ldexp(a, c.K))
		}
	}
	for t, g := range c.Grads {
		n := len(g.Values) / g.D
		a, err := suite.RowNorms(k, make([]float64, n), g)
		if err != nil {
			return suite.Accepted(err)
		}
		b, err := suite.RowNorms(k, make([]float64, n), scaled[t])
		if err != nil {
			return suite.Accepted(err)
		}
		for r := range a {
			if b[r] != math.Ldexp(a[r], c.K) {
				return fmt.Errorf("tensor %d value row %d: norm of 2^%d·x is %v, want 2^%d·%v exactly", t, r, c.K, b[r], c.K, a[r])
			}
		}
	}
	return nil
}

func normSplitJoin(k gradnorm.Impl, c normCase) error {
	// Split: each dense tensor cut into row blocks, each its own tensor.
	var split []gradnorm.Grad
	var joined []float32
	rng := rand.New(rand.NewPCG(c.Seed, 0x5b117))
	for _, g := range c.Grads {
		joined = append(joined, g.Values...)
		if g.Sparse {
			split = append(split, g)
			continue
		}
		for lo := 0; lo < g.V; {
			hi := lo + 1 + rng.IntN(g.V-lo)
			split = append(split, gradnorm.Dense(slices.Clone(g.Values[lo*g.D:hi*g.D]), hi-lo, g.D))
			lo = hi
		}
	}
	whole, err := suite.TotalNorm(k, c.Grads, c.P)
	if err != nil {
		return suite.Accepted(err)
	}
	n := normElems(c.Grads)
	for _, alt := range []struct {
		what  string
		grads []gradnorm.Grad
	}{
		{"split by rows", split},
		{"joined into one", []gradnorm.Grad{gradnorm.Dense(joined, len(joined)/c.D, c.D)}},
	} {
		got, err := suite.TotalNorm(k, alt.grads, c.P)
		if err != nil {
			return suite.Accepted(err)
		}
		ok := got == whole
		if !math.IsInf(c.P, 1) {
			ok = math.Abs(got-whole) <= 2*reference.NormBound(n)*whole
		}
		if !ok {
			return fmt.Errorf("%s (%d tensors): total %v, whole %v", alt.what, len(alt.grads), got, whole)
		}
	}
	return nil
}

func normSparseCoalesced(k gradnorm.Impl, c normCase) error {
	co, err := gradnorm.Coalesce(c.Dups)
	if err != nil {
		return fmt.Errorf("property bug: %v", err)
	}
	// The coalesced form against the dense form of the same gradient.
	dense := gradnorm.Dense(make([]float32, c.V*c.D), c.V, c.D)
	for u, r := range co.Rows {
		copy(dense.Values[int(r)*c.D:], co.Values[u*c.D:(u+1)*c.D])
	}
	want, err := suite.TotalNorm(k, []gradnorm.Grad{dense}, c.P)
	if err != nil {
		return suite.Accepted(err)
	}
	got, err := suite.TotalNorm(k, []gradnorm.Grad{co}, c.P)
	if err != nil {
		return suite.Accepted(err)
	}
	n := len(co.Values)
	if !reference.NormClose(got, want, n) {
		return fmt.Errorf("coalesced sparse total %v, dense total %v", got, want)
	}
	// The uncoalesced form: refused, or normed as coalesced.
	check := func(what string, total float64, err error) error {
		switch {
		case err != nil && errors.Is(err, embgrad.ErrInvalidInput):
			return nil
		case err != nil:
			return err
		case !reference.NormClose(total, want, len(c.Dups.Values)):
			return fmt.Errorf("%s of an uncoalesced sparse gradient (rows %v): %v, want the coalesced norm %v or an error", what, c.Dups.Rows, total, want)
		}
		return nil
	}
	total, err := suite.TotalNorm(k, []gradnorm.Grad{c.Dups}, c.P)
	if err := check("TotalNorm", total, err); err != nil {
		return err
	}
	_, total, err = suite.Clip(k, []gradnorm.Grad{c.Dups}, want*c.Frac, c.P, true)
	return check("ClipGradNorm's total", total, err)
}
