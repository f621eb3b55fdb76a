package reference

import (
	"math"
	"math/rand/v2"

	"github.com/embgrad/embgrad"
)

// Loss is a nonlinear scalar loss through the lookup:
//
//	L(E) = Σ_i w_i Σ_j ( A_ij·tanh(Y_ij) + ½·B_ij·Y_ij² ),  Y = Gather(E, ids)
//
// where w_i is Scales' factor for position i (0 for padding, 1/count when
// scaling by frequency). A linear loss ⟨G, Y⟩ would make finite differences
// exact and so prove nothing; the tanh and square terms make the Jacobian
// depend on E. Since counts do not depend on E, ∂L/∂E is exactly the
// embedding backward of ∂ℓ/∂Y with the same options.
type Loss struct {
	A, B []float64 // len(ids)×D coefficients
}

// NewLoss draws coefficients in [-1, 1) for n positions of width D.
func NewLoss(rng *rand.Rand, n, D int) Loss {
	l := Loss{A: make([]float64, n*D), B: make([]float64, n*D)}
	for k := range l.A {
		l.A[k] = 2*rng.Float64() - 1
		l.B[k] = 2*rng.Float64() - 1
	}
	return l
}

// Value is L(E).
func (l Loss) Value(E []float64, V, D int, ids []int32, opt embgrad.Options) float64 {
	w := Scales(V, ids, opt)
	Y := Gather(E, D, ids)
	var sum float64
	for i := range ids {
		var row float64
		for j := 0; j < D; j++ {
			y := Y[i*D+j]
			row += l.A[i*D+j]*math.Tanh(y) + 0.5*l.B[i*D+j]*y*y
		}
		sum += w[i] * row
	}
	return sum
}

// GradY is ∂ℓ/∂Y per position, before the weights w_i: the upstream
// gradient gradOut that the backward pass consumes.
func (l Loss) GradY(E []float64, D int, ids []int32) []float64 {
	Y := Gather(E, D, ids)
	G := make([]float64, len(Y))
	for k, y := range Y {
		t := math.Tanh(y)
		G[k] = l.A[k]*(1-t*t) + l.B[k]*y
	}
	return G
}

// Grad is the analytic ∂L/∂E (V×D): the float64 backward of GradY.
func (l Loss) Grad(E []float64, V, D int, ids []int32, opt embgrad.Options) []float64 {
	dE := make([]float64, V*D)
	Backward64(dE, V, D, ids, l.GradY(E, D, ids), opt)
	return dE
}
