package rowstep

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/optim"
)

// special values a row may hold: NaN, infinities, signed zeros, subnormals.
var special = []float32{
	float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
	0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -0x1p-130, 0x1p-126,
	math.MaxFloat32, -math.MaxFloat32, 1, -1, 0x1p-24,
}

func row(rng *rand.Rand, n int, nonNeg bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		if rng.IntN(16) == 0 {
			v[i] = special[rng.IntN(len(special))]
		} else {
			v[i] = float32(rng.NormFloat64() * math.Ldexp(1, rng.IntN(21)-10))
		}
		if nonNeg {
			v[i] = float32(math.Abs(float64(v[i])))
		}
	}
	return v
}

// optimizers are the suite's settings and a few more: zero learning rate,
// large decay, Adam late in a run.
func optimizers() []optim.Optimizer {
	return append(suite.Optimizers(),
		optim.SGD{LR: 0},
		optim.SGD{LR: 1e-3, WeightDecay: 3},
		optim.Adagrad{LR: 0, Eps: 1e-10},
		optim.Adagrad{LR: 0.01, Eps: 1e-10, WeightDecay: 1e-2},
		optim.Adam{LR: 1e-3, Beta1: 0, Beta2: 0, Eps: 1e-12},
	)
}

// TestSameBitsAsRuleUpdate is the package's claim: Update gives optim's
// Rule.Update bits (a NaN where Update has a NaN: payloads are Go's
// choice), on every path this build runs, for every length 0..70 and
// several step numbers.
func TestSameBitsAsRuleUpdate(t *testing.T) {
	if err := diffUpdate(func(r *Rule, w, m1, m2, g []float32) { r.Update(w, m1, m2, g) }); err != nil {
		t.Fatal(err)
	}
}

// TestDiffUpdateCatchesBroken is the self-test of diffUpdate: plausible
// mistakes in a vector update must be reported.
func TestDiffUpdateCatchesBroken(t *testing.T) {
	for name, f := range map[string]func(r *Rule, w, m1, m2, g []float32){
		// SGD with a fused multiply-add (one rounding instead of two)
		"sgd-fma": func(r *Rule, w, m1, m2, g []float32) {
			if r.kind != sgd || r.p.WeightDecay != 0 {
				r.Update(w, m1, m2, g)
				return
			}
			for j := range w {
				w[j] = float32(math.FMA(float64(-r.p.LR), float64(g[j]), float64(w[j])))
			}
		},
		// Adagrad's squares summed in two interleaved halves (a vector
		// reduction's order), not in ascending j
		"adagrad-reordered-sum": func(r *Rule, w, m1, m2, g []float32) {
			if r.kind != adagrad || len(w) < 2 || r.p.WeightDecay != 0 {
				r.Update(w, m1, m2, g)
				return
			}
			var a, b float32
			for j, x := range g[:len(w)] {
				if j%2 == 0 {
					a += float32(x * x)
				} else {
					b += float32(x * x)
				}
			}
			r.adagradFinish(w, m1, g, a+b)
		},
		// Adam's bias-corrected step computed as ss·mj/(…) instead of
		// ss·(mj/(…))
		"adam-reassociated": func(r *Rule, w, m1, m2, g []float32) {
			if r.kind != adam {
				r.Update(w, m1, m2, g)
				return
			}
			p := &r.p
			for j, x := range g[:len(w)] {
				mj := m1[j] + float32((x-m1[j])*p.OneMinusBeta1)
				vj := m2[j] + float32((float32(x*x)-m2[j])*p.OneMinusBeta2)
				m1[j], m2[j] = mj, vj
				w[j] = w[j] + float32(float32(p.StepSize*mj)/(float32(math.Sqrt(float64(vj)))+p.Eps))
			}
		},
	} {
		if err := diffUpdate(f); err == nil {
			t.Errorf("%s: not caught", name)
		}
	}
}

// diffUpdate compares update with Rule.Update on random and special rows
// for every optimizer setting, and returns the first difference.
func diffUpdate(update func(r *Rule, w, m1, m2, g []float32)) error {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, o := range optimizers() {
		for _, step := range []int64{1, 2, 17, 1000} {
			r := o.Rule(step)
			vr := New(r)
			for D := 0; D <= 70; D++ {
				for rep := range 6 {
					clean := rep < 3 // rows without special values too, so most elements stay finite
					w0, g := row(rng, D, false), row(rng, D, false)
					if clean {
						for i := range g {
							g[i] = float32(rng.NormFloat64())
							w0[i] = float32(rng.NormFloat64())
						}
					}
					st0 := o.NewState(1, D)
					for i := range st0.Momentum1 {
						st0.Momentum1[i] = float32(math.Abs(rng.NormFloat64()))
					}
					if len(st0.Momentum2) > 0 {
						copy(st0.Momentum1, row(rng, D, false))
						copy(st0.Momentum2, row(rng, D, true))
					}
					w, st := slices.Clone(w0), suite.CloneState(st0)
					ww, ws := slices.Clone(w0), suite.CloneState(st0)
					r.Update(ww, ws.Row1(0, D), ws.Row2(0, D), g)
					update(&vr, w, st.Row1(0, D), st.Row2(0, D), g)
					what := fmt.Sprintf("%s step %d D=%d rep %d", suite.OptimizerString(o), step, D, rep)
					if err := suite.SameBitsAnyNaN(w, ww, max(D, 1), "(Rule.Update)"); err != nil {
						return fmt.Errorf("%s: weights: %v", what, err)
					}
					if err := suite.SameBitsAnyNaN(st.Momentum1, ws.Momentum1, max(D, 1), "(Rule.Update)"); err != nil {
						return fmt.Errorf("%s: Momentum1: %v", what, err)
					}
					if err := suite.SameBitsAnyNaN(st.Momentum2, ws.Momentum2, max(D, 1), "(Rule.Update)"); err != nil {
						return fmt.Errorf("%s: Momentum2: %v", what, err)
					}
					if clean {
						// no NaN input: the bits must be equal outright
						if err := suite.SameBits(w, ww, max(D, 1), "(Rule.Update)"); err != nil {
							return fmt.Errorf("%s: weights: %v", what, err)
						}
					}
				}
			}
		}
	}
	return nil
}

// TestParams checks Params round-trips: New of every rule is accepted.
func TestParams(t *testing.T) {
	for _, o := range optimizers() {
		r := o.Rule(1)
		if p := r.Params(); p.Name != o.Name() {
			t.Errorf("%s: Params().Name = %q", o.Name(), p.Name)
		}
		_ = New(r)
	}
}

func TestSerialUpdateDoesNotAllocate(t *testing.T) {
	w, m1, m2, g := make([]float32, 64), make([]float32, 64), make([]float32, 64), make([]float32, 64)
	for _, o := range optimizers() {
		r := New(o.Rule(3))
		a, b := m1[:0], m2[:0]
		switch o.Name() {
		case "adagrad":
			a = m1[:1]
		case "adam":
			a, b = m1, m2
		}
		if n := testing.AllocsPerRun(10, func() { r.Update(w, a, b, g) }); n != 0 {
			t.Errorf("%s: %v allocs", o.Name(), n)
		}
	}
}

// TestGroupSameBitsAsRuleUpdate checks UpdateGroup against Rule.Update row
// by row, for groups of 1..Group rows of every length 0..40.
func TestGroupSameBitsAsRuleUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, o := range optimizers() {
		r := o.Rule(5)
		vr := New(r)
		for D := 0; D <= 40; D++ {
			for n := 1; n <= Group; n++ {
				const V = Group
				w0, g := row(rng, V*D, false), row(rng, V*D, false)
				st0 := o.NewState(V, D)
				for i := range st0.Momentum1 {
					st0.Momentum1[i] = float32(math.Abs(rng.NormFloat64()))
				}
				if len(st0.Momentum2) > 0 {
					copy(st0.Momentum1, row(rng, V*D, false))
					copy(st0.Momentum2, row(rng, V*D, true))
				}
				w, st := slices.Clone(w0), suite.CloneState(st0)
				ww, ws := slices.Clone(w0), suite.CloneState(st0)
				var b Rows
				b.N = n
				for i := range n {
					v := (i * 3) % V // rows in another order than 0, 1, 2, ...
					r.Update(ww[v*D:(v+1)*D], ws.Row1(v, D), ws.Row2(v, D), g[i*D:(i+1)*D])
					b.W[i], b.M1[i], b.M2[i], b.G[i] = w[v*D:(v+1)*D], st.Row1(v, D), st.Row2(v, D), g[i*D:(i+1)*D]
				}
				vr.UpdateGroup(&b)
				what := fmt.Sprintf("%s D=%d n=%d", suite.OptimizerString(o), D, n)
				if err := suite.SameBitsAnyNaN(w, ww, max(D, 1), "(Rule.Update)"); err != nil {
					t.Fatalf("%s: weights: %v", what, err)
				}
				if err := suite.SameBitsAnyNaN(st.Momentum1, ws.Momentum1, max(D, 1), "(Rule.Update)"); err != nil {
					t.Fatalf("%s: Momentum1: %v", what, err)
				}
				if err := suite.SameBitsAnyNaN(st.Momentum2, ws.Momentum2, max(D, 1), "(Rule.Update)"); err != nil {
					t.Fatalf("%s: Momentum2: %v", what, err)
				}
			}
		}
	}
}
