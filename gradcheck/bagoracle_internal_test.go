package gradcheck

import (
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
)

// The finite-difference check catches wrong bag gradients: mean without
// its 1/n, max's gradient to a non-maximal row, a weight gradient off by
// a factor.
func TestBagFDCatchesWrongGradients(t *testing.T) {
	for _, w := range []struct {
		name  string
		mode  embgrad.BagMode
		spoil func(dE, dw []float64)
	}{
		{"mean without 1/n", embgrad.BagMean, func(dE, dw []float64) {
			for k := range dE {
				dE[k] *= 2
			}
		}},
		{"max to another entry", embgrad.BagMax, func(dE, dw []float64) { dE[0], dE[len(dE)-1] = dE[len(dE)-1], dE[0]+1 }},
		{"weight gradient scaled", embgrad.BagSum, func(dE, dw []float64) {
			for i := range dw {
				dw[i] *= 1 + 1e-5
			}
		}},
	} {
		t.Run(w.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			s := suite.BagSpec{V: 3, D: 2, B: 2, MaxL: 4, Mode: w.mode, Kind: suite.Normal, Weights: w.mode == embgrad.BagSum}
			c := newBagFDCase(rng, s)
			for len(c.A.IDs) < 3 {
				c = newBagFDCase(rng, s)
			}
			grad := func(E, wt []float64, a embgrad.BagArgs) ([]float64, []float64) {
				dE, dw := c.loss.Grad(E, wt, a)
				w.spoil(dE, dw)
				return dE, dw
			}
			if err := bagFDOne(c, c.loss.Grad); err != nil {
				t.Fatalf("the right gradient fails: %v", err)
			}
			if err := bagFDOne(c, grad); err == nil {
				t.Error("a wrong gradient passed")
			}
		})
	}
}
