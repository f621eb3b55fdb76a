package gradcheck_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// Which tied check catches which faulty tied kernel of internal/broken (the
// property suite misses some of them: its table says which).
var tiedCatches = map[string]string{
	"drops-output-part":        "tied/oracle",
	"skips-last-t":             "tied/oracle",
	"transposes-dZ":            "tied/oracle",
	"skips-column-tail":        "tied/oracle",
	"skips-zero-dZ":            "tied/nonfinite",
	"writes-before-validating": "tied/invalid-input",
	"mutates-dZ":               "tied/oracle",
	"overwrites-dst":           "tied/oracle",
	"writes-past-dst":          "tied/oracle",
	"accepts-overlap":          "tied/invalid-overlap",
}

// Faulty tied kernels are caught even with Short's fewer cases.
func TestTiedSuiteCatchesFaultyKernels(t *testing.T) {
	names := map[string]bool{}
	for _, k := range broken.FaultyTied() {
		names[k.Name()] = true
		t.Run(k.Name(), func(t *testing.T) {
			want, ok := tiedCatches[k.Name()]
			if !ok {
				t.Fatalf("faulty tied kernel %q is missing from the table of which check catches it", k.Name())
			}
			failed := failing(suite.Run(gradcheck.TiedChecks(k), suite.Config{Short: true}))
			if !slices.Contains(failed, want) {
				t.Errorf("check %q passed; failing checks: %v", want, failed)
			}
		})
	}
	for name := range tiedCatches {
		if !names[name] {
			t.Errorf("table names %q, which broken.FaultyTied no longer has", name)
		}
	}
}

func TestTiedSuitePassesReorderedKernels(t *testing.T) {
	for _, k := range broken.ReorderedTied() {
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
