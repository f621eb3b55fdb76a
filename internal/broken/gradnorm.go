package broken

import (
	"fmt"
	"math"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
)

// FaultyNorms returns implementations of gradnorm.Impl that each break its
// contract in one way; Name says how.
func FaultyNorms() []gradnorm.Impl {
	return []gradnorm.Impl{
		normLoop{name: "no-clamp", noClamp: true},
		normLoop{name: "nan-only-check", nanOnly: true},
		normLoop{name: "uncoalesced-norm", uncoalesced: true},
		normLoop{name: "float32-sum", float32Sum: true},
		normLoop{name: "scales-before-check", scaleFirst: true},
	}
}

// ReorderedNorms returns correct implementations whose summation orders
// differ from gradnorm's: torch's norm of per-tensor norms, rows summed
// last to first.
func ReorderedNorms() []gradnorm.Impl {
	return []gradnorm.Impl{normLoop{name: "norm-of-norms-reversed"}}
}

// normLoop computes norms as torch does (the 2-norm of per-tensor norms,
// each tensor's squares summed from its last element to its first) with
// hooks for breaking it.
type normLoop struct {
	name        string
	noClamp     bool // coefficient max_norm/(total+eps) not clamped to 1: small gradients scaled up
	nanOnly     bool // error_if_nonfinite catches NaN but not ±Inf
	uncoalesced bool // accepts duplicated sparse rows and takes the norm of the raw entries
	float32Sum  bool // sums squares in float32
	scaleFirst  bool // scales, then reports a non-finite total
}

func (k normLoop) Name() string { return k.name }

func (k normLoop) validate(grads []gradnorm.Grad) error {
	if !k.uncoalesced {
		return gradnorm.ValidateGrads(grads)
	}
	for t, g := range grads {
		n := g.V
		if g.Sparse {
			n = len(g.Rows)
		}
		if g.D < 0 || len(g.Values) != n*g.D {
			return fmt.Errorf("%w: tensor %d: bad length", embgrad.ErrInvalidInput, t)
		}
		for _, r := range g.Rows {
			if r < 0 || int(r) >= g.V {
				return fmt.Errorf("%w: tensor %d: row %d out of range", embgrad.ErrInvalidInput, t, r)
			}
		}
	}
	return nil
}

func (k normLoop) sumSquares(x []float32) float64 {
	if k.float32Sum {
		var s float32
		for i := len(x) - 1; i >= 0; i-- {
			s += x[i] * x[i]
		}
		return float64(s)
	}
	var s float64
	for i := len(x) - 1; i >= 0; i-- {
		s += float64(x[i]) * float64(x[i])
	}
	return s
}

func (k normLoop) RowNorms(dst []float64, g gradnorm.Grad) error {
	if err := k.validate([]gradnorm.Grad{g}); err != nil {
		return err
	}
	n := g.V
	if g.Sparse {
		n = len(g.Rows)
	}
	if len(dst) != n {
		return fmt.Errorf("%w: len(dst)=%d", embgrad.ErrInvalidInput, len(dst))
	}
	for r := range dst {
		dst[r] = math.Sqrt(k.sumSquares(g.Values[r*g.D : (r+1)*g.D]))
	}
	return nil
}

func (k normLoop) TotalNorm(grads []gradnorm.Grad, p float64) (float64, error) {
	if p != 2 && !math.IsInf(p, 1) {
		return 0, fmt.Errorf("%w: p=%v", embgrad.ErrInvalidInput, p)
	}
	if err := k.validate(grads); err != nil {
		return 0, err
	}
	return k.total(grads, p), nil
}

func (k normLoop) total(grads []gradnorm.Grad, p float64) float64 {
	norms := make([]float64, len(grads))
	for t, g := range grads {
		if math.IsInf(p, 1) {
			norms[t] = gradnorm.MaxAbs(g.Values)
		} else {
			norms[t] = math.Sqrt(k.sumSquares(g.Values))
		}
	}
	if math.IsInf(p, 1) {
		var m float64
		for _, n := range norms {
			if n != n {
				return n
			}
			m = math.Max(m, n)
		}
		return m
	}
	var s float64
	for _, n := range slices.Backward(norms) {
		s += n * n
	}
	return math.Sqrt(s)
}

func (k normLoop) ClipGradNorm(grads []gradnorm.Grad, maxNorm, p float64, errorIfNonfinite bool) (float64, error) {
	if math.IsNaN(maxNorm) || math.IsInf(maxNorm, 0) || maxNorm < 0 {
		return 0, fmt.Errorf("%w: max_norm=%v", embgrad.ErrInvalidInput, maxNorm)
	}
	total, err := k.TotalNorm(grads, p)
	if err != nil {
		return 0, err
	}
	coef := maxNorm / (total + gradnorm.ClipEps)
	if !k.noClamp {
		coef = gradnorm.ClipCoef(maxNorm, total)
	}
	c := float32(coef)
	bad := math.IsNaN(total) || (!k.nanOnly && math.IsInf(total, 0))
	if errorIfNonfinite && bad && !k.scaleFirst {
		return total, gradnorm.NonfiniteTotal(grads, total)
	}
	if c != 1 {
		for _, g := range grads {
			gradnorm.Scale(g.Values, c)
		}
	}
	if errorIfNonfinite && bad {
		return total, gradnorm.NonfiniteTotal(grads, total)
	}
	return total, nil
}
