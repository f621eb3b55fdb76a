package gradcheck

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// NormChecks returns the suite of a gradnorm.Impl (norms and clipping of
// the table's gradient), every call through the guarded call (guard bands
// on dst and on values being clipped, read-only copies otherwise):
//
//   - norm/rows-oracle: per-row norms of dense and sparse gradients within
//     reference.NormBound(D) of reference.RowNorms64; NaN rows NaN, ±Inf
//     rows +Inf;
//   - norm/total-oracle: the total p-norm (p = 2, +Inf) of several tensors
//     within reference.NormBound(n) of reference.TotalNorm64 (exact for +Inf),
//     tensors longer than gradnorm.ChunkLen included;
//   - norm/clip-oracle: clip_grad_norm_ below, at and far above the total
//     and with max_norm = 0: the returned total as above, every element
//     exactly x·float32(ClipCoef(max_norm, total)), and bit for bit
//     unchanged when that coefficient is 1;
//   - norm/nonfinite: a NaN, +Inf or −Inf element: with error_if_nonfinite a
//     *gradnorm.NonfiniteError naming that element and nothing scaled;
//     without it, torch's result (NaN total: all NaN; infinite: ×0);
//   - norm/invalid-input: uncoalesced or out-of-range sparse rows, wrong
//     lengths, a wrong dst, p ∉ {2, +Inf}, a bad max_norm and tensors sharing
//     memory give an error wrapping embgrad.ErrInvalidInput and leave every
//     buffer unchanged.
func NormChecks(k gradnorm.Impl) []NamedCheck {
	nc := func(name string, f func(gradnorm.Impl, Config, *report)) NamedCheck {
		return suite.NewCheck(name, k.Name(), func(cfg Config, r *report) { f(k, cfg, r) })
	}
	return []NamedCheck{
		nc("norm/rows-oracle", normRows),
		nc("norm/total-oracle", normTotal),
		nc("norm/clip-oracle", normClip),
		nc("norm/nonfinite", normNonfinite),
		nc("norm/invalid-input", normInvalid),
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

// normCase is a list of gradients, printed by shape (the data follows from
// the seed and the case index in the failure's reproduce hint).
type normCase struct {
	what  string
	grads []gradnorm.Grad
}

func (c normCase) String() string {
	parts := make([]string, len(c.grads))
	for t, g := range c.grads {
		if g.Sparse {
			parts[t] = fmt.Sprintf("sparse V=%d D=%d U=%d", g.V, g.D, len(g.Rows))
			if len(g.Rows) <= 8 {
				parts[t] += fmt.Sprintf(" rows=%v", g.Rows)
			}
		} else {
			parts[t] = fmt.Sprintf("dense V=%d D=%d", g.V, g.D)
		}
	}
	if len(parts) == 0 {
		return c.what
	}
	return c.what + " [" + strings.Join(parts, "; ") + "]"
}

// normGrad draws one dense or coalesced sparse gradient of width D.
func normGrad(rng *rand.Rand, V, D int, sparse bool, kind suite.ValueKind) gradnorm.Grad {
	if !sparse {
		return gradnorm.Dense(suite.Fill(rng, V*D, kind), V, D)
	}
	rows := []int32{}
	for r := range V {
		if rng.IntN(3) == 0 {
			rows = append(rows, int32(r))
		}
	}
	return gradnorm.SparseGrad(rows, suite.Fill(rng, len(rows)*D, kind), V, D)
}

// normGrads draws 1–3 tensors for case i; every fourth case has a tensor
// longer than two chunks, so chunk boundaries are crossed.
func normGrads(cfg Config, check string, i int) normCase {
	rng := cfg.Stream(check, i)
	kind := suite.Normal
	if i%3 == 2 {
		kind = suite.Wild
	}
	D := suite.Widths[i%len(suite.Widths)]
	var gs []gradnorm.Grad
	for t := range 1 + rng.IntN(3) {
		V := rng.IntN(40)
		if t == 0 && i%4 == 3 {
			V = (2*gradnorm.ChunkLen + rng.IntN(gradnorm.ChunkLen)) / D
		}
		gs = append(gs, normGrad(rng, V, D, rng.IntN(3) == 0, kind))
	}
	return normCase{what: fmt.Sprintf("case %d", i), grads: gs}
}

func normCases(cfg Config) int {
	if cfg.Short {
		return 24
	}
	return 80
}

func nelems(gs []gradnorm.Grad) int {
	n := 0
	for _, g := range gs {
		n += len(g.Values)
	}
	return n
}

// poison sets element e of tensor t to x.
func poison(gs []gradnorm.Grad, t, e int, x float32) []gradnorm.Grad {
	out := slices.Clone(gs)
	out[t].Values = slices.Clone(gs[t].Values)
	out[t].Values[e] = x
	return out
}

func normRows(k gradnorm.Impl, cfg Config, r *report) {
	for i := range normCases(cfg) {
		c := normGrads(cfg, "norm/rows-oracle", i)
		rng := cfg.Stream("norm/rows-oracle/poison", i)
		for t, g := range c.grads {
			if len(g.Values) > 0 && rng.IntN(2) == 0 {
				bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
				c.grads = poison(c.grads, t, rng.IntN(len(g.Values)), bad[rng.IntN(3)])
				g = c.grads[t]
			}
			r.Try(normCase{fmt.Sprintf("%v tensor %d", c, t), nil}, func() error {
				n := g.V
				if g.Sparse {
					n = len(g.Rows)
				}
				got, err := suite.RowNorms(k, slices.Repeat([]float64{-1}, n), g)
				if err != nil {
					return suite.Accepted(err)
				}
				want := reference.RowNorms64(g)
				for j, x := range got {
					row := j
					if g.Sparse {
						row = int(g.Rows[j])
					}
					if !reference.NormClose(x, want[row], g.D) {
						return fmt.Errorf("row %d: norm %v, want %v (bound %.3g relative)", row, x, want[row], reference.NormBound(g.D))
					}
				}
				return nil
			})
		}
	}
}

func normTotal(k gradnorm.Impl, cfg Config, r *report) {
	for i := range normCases(cfg) {
		c := normGrads(cfg, "norm/total-oracle", i)
		if rng := cfg.Stream("norm/total-oracle/poison", i); i%5 == 4 && c.grads[0].Values != nil && len(c.grads[0].Values) > 0 {
			bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
			c.grads = poison(c.grads, 0, rng.IntN(len(c.grads[0].Values)), bad[i%3])
			c.what += fmt.Sprintf(" with %v", bad[i%3])
		}
		for _, p := range []float64{2, math.Inf(1)} {
			r.Try(normCase{fmt.Sprintf("p=%v %s", p, c.what), c.grads}, func() error {
				got, err := suite.TotalNorm(k, c.grads, p)
				if err != nil {
					return suite.Accepted(err)
				}
				want := reference.TotalNorm64(c.grads, p)
				if math.IsInf(p, 1) && !(got == want || got != got && want != want) {
					return fmt.Errorf("inf-norm %v, want max|x| = %v exactly", got, want)
				}
				if !reference.NormClose(got, want, nelems(c.grads)) {
					return fmt.Errorf("total %v, want %v (bound %.3g relative)", got, want, reference.NormBound(nelems(c.grads)))
				}
				return nil
			})
		}
	}
}

// wantClipped checks after against before scaled by the coefficient of the
// returned total, bit for bit (NaN matching NaN), and unchanged when the
// coefficient is 1.
func wantClipped(before, after []gradnorm.Grad, maxNorm, total float64) error {
	c := float32(gradnorm.ClipCoef(maxNorm, total))
	for t := range before {
		for e, x := range before[t].Values {
			want := x * c
			if c == 1 {
				want = x
			}
			got := after[t].Values[e]
			if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
				return fmt.Errorf("tensor %d element %d: %v after clipping, want float32(%v·%v) = %v (coefficient of total %v, max_norm %v)",
					t, e, got, x, c, want, total, maxNorm)
			}
		}
	}
	return nil
}

func normClip(k gradnorm.Impl, cfg Config, r *report) {
	for i := range normCases(cfg) {
		c := normGrads(cfg, "norm/clip-oracle", i)
		rng := cfg.Stream("norm/clip-oracle/max", i)
		for _, p := range []float64{2, math.Inf(1)} {
			ref := reference.TotalNorm64(c.grads, p)
			for _, maxNorm := range []float64{ref * rng.Float64(), ref, ref * 1.5, ref*1e6 + 1, 0} {
				r.Try(normCase{fmt.Sprintf("p=%v max_norm=%v %s", p, maxNorm, c.what), c.grads}, func() error {
					after, total, err := suite.Clip(k, c.grads, maxNorm, p, true)
					if err != nil {
						return suite.Accepted(err)
					}
					if !reference.NormClose(total, ref, nelems(c.grads)) {
						return fmt.Errorf("returned total %v, want %v", total, ref)
					}
					return wantClipped(c.grads, after, maxNorm, total)
				})
			}
		}
	}
}

func normNonfinite(k gradnorm.Impl, cfg Config, r *report) {
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for i := range normCases(cfg) {
		c := normGrads(cfg, "norm/nonfinite", i)
		rng := cfg.Stream("norm/nonfinite/poison", i)
		t := rng.IntN(len(c.grads))
		if len(c.grads[t].Values) == 0 {
			continue
		}
		e := rng.IntN(len(c.grads[t].Values))
		x := bad[i%3]
		gs := poison(c.grads, t, e, x)
		for _, p := range []float64{2, math.Inf(1)} {
			cs := normCase{fmt.Sprintf("p=%v %v at tensor %d element %d, %s", p, x, t, e, c.what), gs}
			r.Try(cs, func() error {
				after, _, err := suite.Clip(k, gs, 1, p, true)
				var ne *gradnorm.NonfiniteError
				switch {
				case suite.IsViolation(err, suite.Panicked) || suite.IsViolation(err, suite.StrayWrite) || suite.IsViolation(err, suite.ChangedInput):
					return err
				case err == nil:
					return fmt.Errorf("error_if_nonfinite: no error")
				case !errors.As(err, &ne) || !errors.Is(err, embgrad.ErrInvalidInput):
					return fmt.Errorf("error_if_nonfinite: %v, want a *gradnorm.NonfiniteError wrapping ErrInvalidInput", err)
				}
				for u := range gs {
					if k := suite.FirstDiff(after[u].Values, gs[u].Values); k >= 0 {
						return fmt.Errorf("error_if_nonfinite: tensor %d element %d changed to %v although nothing may be scaled", u, k, after[u].Values[k])
					}
				}
				// The first non-finite element is the one poisoned unless the
				// data had one already (Wild data does not).
				if first := gradnorm.FirstNonfinite(gs); ne.Tensor != first.Tensor || ne.Row != first.Row || ne.Col != first.Col {
					return fmt.Errorf("error names tensor %d row %d col %d, want tensor %d row %d col %d", ne.Tensor, ne.Row, ne.Col, first.Tensor, first.Row, first.Col)
				}
				// Without the flag: torch's arithmetic on the non-finite total.
				after, total, err := suite.Clip(k, gs, 1, p, false)
				if err != nil {
					return suite.Accepted(err)
				}
				want := reference.TotalNorm64(gs, p)
				if math.Float64bits(total) != math.Float64bits(want) && !(total != total && want != want) {
					return fmt.Errorf("total %v, want %v", total, want)
				}
				return wantClipped(gs, after, 1, total)
			})
		}
	}
}

// normInvalid: every rejected call leaves its buffers unchanged, which the
// guarded call's copies show: the returned values equal the inputs.
func normInvalid(k gradnorm.Impl, cfg Config, r *report) {
	rng := cfg.Stream("norm/invalid-input", 0)
	ok := gradnorm.Dense(suite.Fill(rng, 12, suite.Normal), 4, 3)
	sp := func(rows []int32, V int) gradnorm.Grad {
		return gradnorm.SparseGrad(rows, suite.Fill(rng, 3*len(rows), suite.Normal), V, 3)
	}
	cases := []struct {
		what  string
		grads []gradnorm.Grad
		dst   int // len(dst) for RowNorms of grads[len-1]; -1: the right one
		p     float64
		max   float64
	}{
		{"duplicated sparse row", []gradnorm.Grad{ok, sp([]int32{1, 3, 3}, 5)}, -1, 2, 1},
		{"unsorted sparse rows", []gradnorm.Grad{ok, sp([]int32{4, 2}, 5)}, -1, 2, 1},
		{"sparse row past V", []gradnorm.Grad{sp([]int32{1, 5}, 5)}, -1, 2, 1},
		{"negative sparse row", []gradnorm.Grad{sp([]int32{-1, 2}, 5)}, -1, 2, 1},
		{"values too short", []gradnorm.Grad{ok, gradnorm.Dense(make([]float32, 5), 2, 3)}, -1, 2, 1},
		{"values too long", []gradnorm.Grad{gradnorm.SparseGrad([]int32{0}, make([]float32, 4), 2, 3)}, -1, 2, 1},
		{"negative D", []gradnorm.Grad{gradnorm.Dense(nil, 2, -1)}, -1, 2, 1},
		{"dense with rows", []gradnorm.Grad{{V: 1, D: 3, Rows: []int32{0}, Values: make([]float32, 3)}}, -1, 2, 1},
		{"dst too short", []gradnorm.Grad{ok}, 3, 2, 1},
		{"dst too long", []gradnorm.Grad{ok}, 5, 2, 1},
		{"p=1", []gradnorm.Grad{ok}, -1, 1, 1},
		{"p=NaN", []gradnorm.Grad{ok}, -1, math.NaN(), 1},
		{"p=-Inf", []gradnorm.Grad{ok}, -1, math.Inf(-1), 1},
		{"max_norm=NaN", []gradnorm.Grad{ok}, -1, 2, math.NaN()},
		{"max_norm=-1", []gradnorm.Grad{ok}, -1, 2, -1},
		{"max_norm=+Inf", []gradnorm.Grad{ok}, -1, 2, math.Inf(1)},
	}
	wantInvalid := func(what string, err error) error {
		switch {
		case err == nil:
			return fmt.Errorf("%s: accepted", what)
		case !errors.Is(err, embgrad.ErrInvalidInput):
			return fmt.Errorf("%s: %v, want an error wrapping ErrInvalidInput", what, err)
		}
		return nil
	}
	unchanged := func(what string, before, after []gradnorm.Grad) error {
		for t := range before {
			if e := suite.FirstDiff(after[t].Values, before[t].Values); e >= 0 {
				return fmt.Errorf("%s: tensor %d element %d changed on error", what, t, e)
			}
		}
		return nil
	}
	for _, c := range cases {
		r.Try(normCase{c.what, c.grads}, func() error {
			badRows := c.dst >= 0 || c.p == 2 && c.max == 1 // the gradients (or dst) are bad
			if badRows {
				g := c.grads[len(c.grads)-1]
				n := c.dst
				if n < 0 {
					n = max(g.V, 0)
					if g.Sparse {
						n = len(g.Rows)
					}
				}
				dst := slices.Repeat([]float64{-7}, n)
				got, err := suite.RowNorms(k, dst, g)
				if suite.IsViolation(err, suite.Panicked) || suite.IsViolation(err, suite.StrayWrite) || suite.IsViolation(err, suite.ChangedInput) {
					return err
				}
				if err := wantInvalid("RowNorms", err); err != nil {
					return err
				}
				if i := slices.IndexFunc(got, func(x float64) bool { return x != -7 }); i >= 0 {
					return fmt.Errorf("RowNorms wrote dst[%d] = %v on error", i, got[i])
				}
				if c.dst >= 0 {
					return nil // only RowNorms takes a dst
				}
			}
			if c.max == 1 {
				_, err := suite.TotalNorm(k, c.grads, c.p)
				if suite.IsViolation(err, suite.Panicked) || suite.IsViolation(err, suite.ChangedInput) {
					return err
				}
				if err := wantInvalid("TotalNorm", err); err != nil {
					return err
				}
			}
			for _, max := range []float64{c.max, 0} {
				after, _, err := suite.Clip(k, c.grads, max, c.p, true)
				if suite.IsViolation(err, suite.Panicked) || suite.IsViolation(err, suite.StrayWrite) {
					return err
				}
				if c.max != 1 && max == 0 {
					continue // max_norm was the fault
				}
				if err := wantInvalid(fmt.Sprintf("ClipGradNorm(max_norm=%v)", max), err); err != nil {
					return err
				}
				if err := unchanged("ClipGradNorm", c.grads, after); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// Two tensors sharing memory: clipping would scale the shared part twice.
	r.Try(normCase{"tensors sharing memory", nil}, func() error {
		a, b := suite.Fill(rng, 12, suite.Normal), suite.Fill(rng, 9, suite.Normal)
		copy(b, a[12-3:])
		o, in := suite.Overlapping("values[0]", a, "values[1]", b, 3)
		gs := []gradnorm.Grad{gradnorm.Dense(o.F32(), 4, 3), gradnorm.Dense(in.F32(), 3, 3)}
		before := slices.Clone(o.F32())
		err := suite.Call(func() error { _, err := k.ClipGradNorm(gs, 1e-3, 2, true); return err }, o, in)
		if suite.IsViolation(err, suite.Panicked) || suite.IsViolation(err, suite.StrayWrite) {
			return err
		}
		if err := wantInvalid("ClipGradNorm", err); err != nil {
			return err
		}
		if e := suite.FirstDiff(o.F32(), before); e >= 0 {
			return fmt.Errorf("tensor 0 element %d changed on error", e)
		}
		_, err = k.TotalNorm(gs, 2)
		return wantInvalid("TotalNorm", err)
	})
}
