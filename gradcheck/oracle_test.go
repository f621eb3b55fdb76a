package gradcheck

import (
	"math"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

func TestOracle(t *testing.T) { suite.Test(t, OracleChecks()) }

func TestCheckOracle(t *testing.T) {
	if err := CheckOracle(Config{Short: true}); err != nil {
		t.Fatal(err)
	}
}

type gradFunc = func(l reference.Loss, E []float64, V, D int, ids []int32, opt embgrad.Options) []float64

// The checks must catch gradients that are wrong in the ways a backward goes
// wrong, including an error far below what torch's allclose would notice.
func TestOracleChecksCatchWrongGradients(t *testing.T) {
	good, back := reference.Loss.Grad, reference.Backward64
	withOpt := func(f func(embgrad.Options) embgrad.Options) gradFunc {
		return func(l reference.Loss, E []float64, V, D int, ids []int32, opt embgrad.Options) []float64 {
			return good(l, E, V, D, ids, f(opt))
		}
	}
	scaled := func(f float64) gradFunc {
		return func(l reference.Loss, E []float64, V, D int, ids []int32, opt embgrad.Options) []float64 {
			g := good(l, E, V, D, ids, opt)
			for k := range g {
				g[k] *= f
			}
			return g
		}
	}
	noScale := func(o embgrad.Options) embgrad.Options { o.ScaleGradByFreq = false; return o }
	noPad := func(o embgrad.Options) embgrad.Options { o.HasPadding = false; return o }
	skipLast := func(dst []float64, V, D int, ids []int32, g []float64, opt embgrad.Options) {
		if len(ids) > 0 {
			ids, g = ids[:len(ids)-1], g[:len(g)-D]
		}
		back(dst, V, D, ids, g, opt)
	}
	for _, tc := range []struct {
		name string
		o    oracle
		want []string // checks that must fail
	}{
		{"ignores scaling", oracle{withOpt(noScale), back}, []string{"fd-gradient", "fd-direction"}},
		{"ignores padding", oracle{withOpt(noPad), back}, []string{"fd-gradient", "fd-direction"}},
		// A relative error of 1e-5 is inside allclose(atol=1e-5, rtol=1e-3).
		{"off by 1e-5 relative", oracle{scaled(1 + 1e-5), back}, []string{"fd-gradient", "fd-direction"}},
		{"backward skips last position", oracle{good, skipLast}, []string{"adjoint"}},
		{"backward ignores padding", oracle{good, func(dst []float64, V, D int, ids []int32, g []float64, opt embgrad.Options) {
			back(dst, V, D, ids, g, noPad(opt))
		}}, []string{"adjoint"}},
	} {
		for _, c := range tc.o.checks() {
			if slices.Contains(tc.want, c.Name) && c.Run(Config{Seed: 1, Short: true}) == nil {
				t.Errorf("%s: %s passed", tc.name, c.Name)
			}
		}
	}
}

// The tolerance model must be consistent with what it bounds: on a plain
// case the step balances the two error terms, and the achieved error of the
// central difference is within the tolerance but not absurdly far below it
// (which would mean the model is so pessimistic that it tests little).
func TestFDToleranceIsTightButSound(t *testing.T) {
	c, _ := newFDCase(Config{Seed: 1}.Stream("test", 0), spec{V: 4, D: 5, N: 12, dist: uniform, pad: padHit, scale: true})
	grad := reference.Loss.Grad(c.loss, c.E, c.V, c.D, c.ids, c.opt)
	var worst float64 // largest error/tolerance ratio
	for k := range c.E {
		row, col := k/c.D, k%c.D
		m3 := c.third(func(v, j int) float64 {
			if v == row && j == col {
				return 1
			}
			return 0
		})
		if m3 == 0 {
			continue
		}
		delta := c.evalError()
		h := fdStep(delta, m3)
		if trunc, round := h*h/6*m3, 2*delta/h; math.Abs(trunc/round-0.5) > 1e-9 {
			t.Errorf("step %g does not balance truncation %g against rounding %g", h, trunc, round)
		}
		tol := fdTolerance(h, m3, delta, math.Abs(grad[k])*u53*(math.Abs(c.E[k])+h))
		f := func(x float64) float64 {
			E := slices.Clone(c.E)
			E[k] = x
			return c.loss.Value(E, c.V, c.D, c.ids, c.opt)
		}
		fd := (f(c.E[k]+h) - f(c.E[k]-h)) / (2 * h)
		worst = max(worst, math.Abs(fd-grad[k])/tol)
	}
	t.Logf("largest error/tolerance ratio %.3g", worst)
	if !(worst <= 1) || worst < 1e-2 {
		t.Errorf("largest error/tolerance ratio %g: want in [1e-2, 1]", worst)
	}
}
