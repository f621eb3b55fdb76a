package gradcheck_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// tiedLoop is the reference loop of embgrad.TiedKernel with hooks for
// breaking it the way tied kernels break.
type tiedLoop struct {
	name         string
	validateLate bool                                          // writes the output part before validating
	product      func(a embgrad.TiedArgs, t, v, j int) float32 // dZ[t,v]·H[t,j] unless set
	skip         func(a embgrad.TiedArgs, t, v, j int) bool    // terms left out
	after        func(a embgrad.TiedArgs)                      // runs last
	reorder      bool                                          // output part first, t and v descending
}

func (k tiedLoop) Name() string { return k.name }

func (k tiedLoop) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	if k.validateLate {
		k.output(dst, a)
	}
	if err := embgrad.ValidateTied(dst, a); err != nil {
		return err
	}
	if k.reorder {
		k.output(dst, a)
		k.input(dst, a)
	} else {
		k.input(dst, a)
		if !k.validateLate {
			k.output(dst, a)
		}
	}
	if k.after != nil {
		k.after(a)
	}
	return nil
}

func (k tiedLoop) input(dst []float32, a embgrad.TiedArgs) {
	count := make(map[int32]int)
	for _, id := range a.IDs {
		count[id]++
	}
	for i, id := range a.IDs {
		if a.Opt.Skips(id) {
			continue
		}
		s := float32(1)
		if a.Opt.ScaleGradByFreq {
			s = 1 / float32(count[id]) // padding never scales: it is skipped
		}
		for j := range a.D {
			dst[int(id)*a.D+j] += s * a.GradOut[i*a.D+j]
		}
	}
}

func (k tiedLoop) output(dst []float32, a embgrad.TiedArgs) {
	V, D, T := a.V, a.D, a.T
	if len(dst) < V*D || len(a.DZ) < T*V || len(a.H) < T*D {
		return // late validation: only what fits
	}
	for tt := range T {
		for vv := range V {
			t, v := tt, vv
			if k.reorder {
				t, v = T-1-tt, V-1-vv
			}
			for j := range D {
				if k.skip != nil && k.skip(a, t, v, j) {
					continue
				}
				p := a.DZ[t*V+v] * a.H[t*D+j]
				if k.product != nil {
					p = k.product(a, t, v, j)
				}
				dst[v*D+j] += p
			}
		}
	}
}

// tiedF64 is correct: each element summed in float64, rounded once.
type tiedF64 struct{}

func (tiedF64) Name() string { return "float64-accumulation" }

func (tiedF64) BackwardTied(dst []float32, a embgrad.TiedArgs) error {
	if err := embgrad.ValidateTied(dst, a); err != nil {
		return err
	}
	acc := make([]float64, len(dst))
	for k, x := range dst {
		acc[k] = float64(x)
	}
	g := make([]float64, len(a.GradOut))
	for k, x := range a.GradOut {
		g[k] = float64(x)
	}
	reference.Backward64(acc, a.V, a.D, a.IDs, g, a.Opt)
	for t := range a.T {
		for v := range a.V {
			for j := range a.D {
				acc[v*a.D+j] += float64(a.DZ[t*a.V+v]) * float64(a.H[t*a.D+j])
			}
		}
	}
	for k, x := range acc {
		dst[k] = float32(x)
	}
	return nil
}

func tiedFaulty() []embgrad.TiedKernel {
	return []embgrad.TiedKernel{
		tiedLoop{name: "drops-output-part", skip: func(embgrad.TiedArgs, int, int, int) bool { return true }},
		tiedLoop{name: "skips-last-t", skip: func(a embgrad.TiedArgs, t, _, _ int) bool { return t == a.T-1 }},
		tiedLoop{name: "transposes-dZ", product: func(a embgrad.TiedArgs, t, v, j int) float32 { return a.DZ[v*a.T+t] * a.H[t*a.D+j] }},
		tiedLoop{name: "skips-column-tail", skip: func(a embgrad.TiedArgs, _, _, j int) bool { return j >= a.D&^7 }},
		tiedLoop{name: "skips-zero-dZ", skip: func(a embgrad.TiedArgs, t, v, _ int) bool { return a.DZ[t*a.V+v] == 0 }},
		tiedLoop{name: "writes-before-validating", validateLate: true},
		tiedLoop{name: "mutates-dZ", after: func(a embgrad.TiedArgs) {
			if len(a.DZ) > 0 {
				a.DZ[0] = -a.DZ[0]
			}
		}},
	}
}

func TestTiedSuiteCatchesFaultyKernels(t *testing.T) {
	for _, k := range tiedFaulty() {
		t.Run(k.Name(), func(t *testing.T) {
			err := gradcheck.CheckTied(k, suite.Config{Short: true})
			if err == nil {
				t.Fatal("the suite passed a faulty kernel")
			}
			t.Logf("caught: %.300v", err)
		})
	}
}

func TestTiedSuitePassesReorderedKernels(t *testing.T) {
	for _, k := range []embgrad.TiedKernel{tiedLoop{name: "loop"}, tiedLoop{name: "reversed", reorder: true}, tiedF64{}} {
		t.Run(k.Name(), func(t *testing.T) {
			if err := gradcheck.CheckTied(k, suite.Config{Short: testing.Short()}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTiedFDSeesBothPaths shows the finite-difference check has the power
// to fail: dropping the output path's dZᵀ·H from ∂L/∂E is far outside its
// tolerance, as is dropping the input path.
func TestTiedFDSeesBothPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, E, P := reference.NewTiedModel(rng, 6, 3, 4, true)
	b := reference.NewTiedBatch(rng, 6, 4, 8)
	fdE := fd.Gradient(nil, func(x []float64) float64 { return m.Loss(x, P, b) }, slices.Clone(E), &fd.Settings{Formula: fd.Central})
	r := m.Pass(E, P, b)
	inputOnly := make([]float64, len(E))
	reference.Backward64(inputOnly, m.V, m.D, b.IDs, r.DY, embgrad.Options{})
	outputOnly := make([]float64, len(E))
	reference.TiedBackward64(outputOnly, m.V, m.D, nil, nil, len(b.IDs), r.H, r.DZ)
	for name, g := range map[string][]float64{"input path only": inputOnly, "output path only": outputOnly} {
		var worst float64
		for k := range g {
			worst = max(worst, math.Abs(g[k]-fdE[k])/(1+math.Abs(g[k])))
		}
		if worst < 1e-3 {
			t.Errorf("%s: within %.3g of the finite differences; the check could not tell", name, worst)
		}
	}
}
