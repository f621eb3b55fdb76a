package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// CheckOracle verifies the float64 oracle that every kernel is compared
// with, independently of any kernel: it runs OracleChecks and returns all
// failures joined, or nil.
func CheckOracle(cfg Config) error { return suite.Join(suite.Run(OracleChecks(), cfg)) }

// OracleChecks returns the checks of the oracle, reference.Loss's analytic
// gradient (the float64 backward, reference.Backward64, of ∂ℓ/∂Y) against
// central finite differences (gonum diff/fd) of the nonlinear loss
// reference.Loss, whose positions are weighted by reference.Scales so that
// padding and scaling by frequency are covered:
//
//   - fd-gradient: every entry of ∂L/∂E on small tables, by fd.Gradient;
//     entries of rows that no position contributes to (untouched, padding)
//     must be exactly zero in both;
//   - fd-direction: directional derivatives along random unit directions on
//     large tables (the idea of torch.autograd.gradcheck's fast_mode and
//     JAX's check_grads), by fd.Derivative;
//   - adjoint: ⟨gather(E), G⟩ = ⟨E, backward(G)⟩, where gather is the masked,
//     weighted lookup Y[i] = s_i·E[ids[i]] (s_i = 0 for padding, 1/count when
//     scaling) whose adjoint the backward is: within a rounding bound on real
//     data, exactly on dyadic data.
//
// Tolerances are computed per entry from the truncation and rounding errors
// of the central difference (see fdTolerance), and each must be at least a
// hundred times tighter than torch's allclose(atol=1e-5, rtol=1e-3) or the
// check fails as toothless.
func OracleChecks() []NamedCheck { return oracle{reference.Loss.Grad, reference.Backward64}.checks() }

// oracle is what the checks verify; tests swap in wrong gradients to see
// them caught.
type oracle struct {
	grad     func(l reference.Loss, E []float64, V, D int, ids []int32, opt embgrad.Options) []float64
	backward func(dst []float64, V, D int, ids []int32, g []float64, opt embgrad.Options)
}

func (o oracle) checks() []NamedCheck {
	return []NamedCheck{
		suite.NewCheck("fd-gradient", "oracle", o.checkGradient),
		suite.NewCheck("fd-direction", "oracle", o.checkDirection),
		suite.NewCheck("adjoint", "oracle", o.checkAdjoint),
	}
}

// fdCase is a loss at a point: ids and options from build, E ~ U[-1.5, 1.5]
// (where tanh is far from linear), coefficients from reference.NewLoss.
type fdCase struct {
	fdShape
	E    []float64
	loss reference.Loss
	w    []float64 // reference.Scales
}

// fdShape names a case of the oracle checks: no dst is involved.
type fdShape struct{ *tcase }

func (c fdShape) String() string { return c.shape() }

func newFDCase(rng *rand.Rand, s spec) (*fdCase, bool) {
	t, ok := build(rng, s)
	if !ok {
		return nil, false
	}
	c := &fdCase{fdShape: fdShape{t}, E: make([]float64, s.V*s.D), loss: reference.NewLoss(rng, s.N, s.D), w: reference.Scales(s.V, t.ids, t.opt)}
	for k := range c.E {
		c.E[k] = 3*rng.Float64() - 1.5
	}
	return c, true
}

// value is L at E + t·d (d nil: at E).
func (c *fdCase) value(t float64, d []float64) float64 {
	E := c.E
	if d != nil {
		E = make([]float64, len(c.E))
		for k := range E {
			E[k] = c.E[k] + t*d[k]
		}
	}
	return c.loss.Value(E, c.V, c.D, c.ids, c.opt)
}

// Rounding model for one evaluation of Loss.Value in float64 (u = 2⁻⁵³).
// Each term w_i·(A·tanh(y) + ½B·y²) carries a few roundings (tanh, the
// products, the add): at most 8u of its magnitude. Summing the n = N·(D+1)
// terms costs at most γ(n) of their absolute sum in the worst case; for
// large n we use Higham & Mary's probabilistic bound λ√n·u (2019, "A new
// approach to probabilistic rounding error analysis"), which holds with
// probability ≥ 1 − 2n·exp(−λ²/2) under independent rounding errors — with
// λ = 8 that is beyond 1 − 10⁻⁹ for our sizes. So
//
//	δ = (8 + min(n, λ√n))·u·Σ_i w_i Σ_j (|A_ij·tanh(y_ij)| + ½|B_ij|·y_ij²).
const (
	u53    = 0x1p-53
	lambda = 8
)

func (c *fdCase) evalError() float64 {
	Y := reference.Gather(c.E, c.D, c.ids)
	var mag float64
	for i := range c.ids {
		for j := range c.D {
			k := i*c.D + j
			mag += c.w[i] * (math.Abs(c.loss.A[k]*math.Tanh(Y[k])) + 0.5*math.Abs(c.loss.B[k])*Y[k]*Y[k])
		}
	}
	n := float64(c.N * (c.D + 1))
	return (8 + min(n, lambda*math.Sqrt(n))) * u53 * mag
}

// third bounds |f‴| for f(t) = L(E + t·d): only the tanh terms have a
// third derivative, |tanh‴| ≤ 2, so |f‴| ≤ 2·Σ_i w_i Σ_j |A_ij|·|d_ij|³
// with d_ij the direction's entry at (ids[i], j). dir(v, j) gives it.
func (c *fdCase) third(dir func(v, j int) float64) float64 {
	var m float64
	for i, id := range c.ids {
		for j := range c.D {
			d := math.Abs(dir(int(id), j))
			m += c.w[i] * math.Abs(c.loss.A[i*c.D+j]) * d * d * d
		}
	}
	return 2 * m
}

// fdStep balances the two error terms of fdTolerance: h = ∛(6δ/M₃), the
// minimiser of h²M₃/6 + 2δ/h, clamped to a sane range.
func fdStep(delta, m3 float64) float64 {
	if m3 == 0 {
		return 1e-3
	}
	return min(max(math.Cbrt(6*delta/m3), 1e-7), 1e-1)
}

// fdTolerance bounds |central difference − f'(x)| for step h:
//
//   - truncation: the central difference is f' + h²/12·(f‴(ξ₁) + f‴(ξ₂)),
//     so at most h²/6·M₃ (it is O(h²));
//   - rounding: each of the two evaluations is off by at most δ, and the
//     perturbed point x ± h is itself rounded, moving f by up to
//     δx = |f'|·u·(|x| + h); divided by 2h that is (δ + δx)/h (it is O(u/h)).
//     We allow twice that.
func fdTolerance(h, m3, delta, deltaX float64) float64 {
	return h*h/6*m3 + 2*(delta+deltaX)/h
}

// ceiling is the loosest tolerance a check may use for a derivative of
// magnitude g: a hundredth of torch's allclose(atol=1e-5, rtol=1e-3).
func ceiling(g float64) float64 { return 1e-2 * (1e-5 + 1e-3*math.Abs(g)) }

func (o oracle) checkGradient(cfg Config, r *report) {
	shapes := [][3]int{{1, 3, 4}, {4, 5, 12}, {6, 3, 20}, {5, 2, 0}, {3, 7, 9}}
	i := 0
	for si, sh := range shapes {
		for pad := range numPadModes {
			for _, scale := range []bool{false, true} {
				i++
				if cfg.Short && si%2 == 1 {
					continue
				}
				s := spec{V: sh[0], D: sh[1], N: sh[2], dist: dist(si % int(numDists)), pad: pad, scale: scale}
				if c, ok := newFDCase(cfg.Stream("fd-gradient", i), s); ok {
					r.Fail(c, o.gradient(c))
				}
			}
		}
	}
}

func (o oracle) gradient(c *fdCase) error {
	grad := o.grad(c.loss, c.E, c.V, c.D, c.ids, c.opt)
	delta := c.evalError()
	var m3max float64
	m3 := make([]float64, len(c.E))
	for k := range m3 {
		m3[k] = c.third(func(v, j int) float64 {
			if v*c.D+j == k {
				return 1
			}
			return 0
		})
		m3max = max(m3max, m3[k])
	}
	h := fdStep(delta, m3max)
	got := fd.Gradient(nil, func(E []float64) float64 { return c.loss.Value(E, c.V, c.D, c.ids, c.opt) }, c.E,
		&fd.Settings{Formula: fd.Central, Step: h})
	counts := reference.Counts(c.V, c.ids, c.opt)
	for k, want := range grad {
		row, col := k/c.D, k%c.D
		if counts[row] == 0 {
			if got[k] != 0 || want != 0 {
				return fmt.Errorf("entry (%d, %d): row gets no gradient (untouched or padding), but FD %g, analytic %g", row, col, got[k], want)
			}
			continue
		}
		tol := fdTolerance(h, m3[k], delta, math.Abs(want)*u53*(math.Abs(c.E[k])+h))
		if tol > ceiling(want) {
			return fmt.Errorf("entry (%d, %d): tolerance %.3g (h=%.3g) is above %.3g, too loose to mean anything", row, col, tol, h, ceiling(want))
		}
		if d := math.Abs(got[k] - want); !(d <= tol) {
			return fmt.Errorf("entry (%d, %d): analytic ∂L/∂E %.17g, finite difference %.17g, |diff| %.3g > tol %.3g (h=%.3g, row occurs %d times)", row, col, want, got[k], d, tol, h, counts[row])
		}
	}
	return nil
}

func (o oracle) checkDirection(cfg Config, r *report) {
	specs := []spec{
		{V: 1000, D: 33, N: 400, dist: zipf, pad: padHit, scale: true},
		{V: 300, D: 17, N: 1000, dist: uniform, pad: padHit, scale: false},
		{V: 2000, D: 64, N: 300, dist: boundary, pad: padNeverHit, scale: true},
		{V: 500, D: 129, N: 300, dist: same, pad: padNone, scale: true},
		{V: 800, D: 65, N: 500, dist: uniform, pad: padNone, scale: false},
	}
	dirs := 3
	if cfg.Short {
		specs, dirs = specs[:2], 2
	}
	for i, s := range specs {
		rng := cfg.Stream("fd-direction", i)
		c, ok := newFDCase(rng, s)
		if !ok {
			continue
		}
		grad := o.grad(c.loss, c.E, c.V, c.D, c.ids, c.opt)
		for n := range dirs {
			if err := o.direction(c, grad, unitDirection(rng, len(c.E))); err != nil {
				r.Fail(c, fmt.Errorf("direction %d: %w", n, err))
				break
			}
		}
	}
}

func unitDirection(rng *rand.Rand, n int) []float64 {
	d := make([]float64, n)
	var norm float64
	for k := range d {
		d[k] = rng.NormFloat64()
		norm += d[k] * d[k]
	}
	norm = math.Sqrt(norm)
	for k := range d {
		d[k] /= norm
	}
	return d
}

func (o oracle) direction(c *fdCase, grad, d []float64) error {
	// want = ⟨grad, d⟩, itself rounded: at most λ√n·u of Σ|grad·d| (as above).
	// Its typical size over random unit d is ‖grad‖/√n; the ceiling is taken
	// relative to that, so that a direction nearly orthogonal to grad by
	// chance does not make the check call itself toothless.
	var want, mag, norm, deltaX float64
	for k := range d {
		want += grad[k] * d[k]
		mag += math.Abs(grad[k] * d[k])
		norm += grad[k] * grad[k]
	}
	typical := max(math.Abs(want), math.Sqrt(norm/float64(len(d))))
	delta := c.evalError()
	m3 := c.third(func(v, j int) float64 { return d[v*c.D+j] })
	h := fdStep(delta, m3)
	for k := range d {
		deltaX += math.Abs(grad[k]) * u53 * (math.Abs(c.E[k]) + h*math.Abs(d[k]))
	}
	tol := fdTolerance(h, m3, delta, deltaX) + lambda*math.Sqrt(float64(len(d)))*u53*mag
	if tol > ceiling(typical) {
		return fmt.Errorf("tolerance %.3g (h=%.3g) is above %.3g, too loose to mean anything", tol, h, ceiling(typical))
	}
	got := fd.Derivative(func(t float64) float64 { return c.value(t, d) }, 0, &fd.Settings{Formula: fd.Central, Step: h})
	if diff := math.Abs(got - want); !(diff <= tol) {
		return fmt.Errorf("analytic ⟨∂L/∂E, d⟩ %.17g, finite difference %.17g, |diff| %.3g > tol %.3g (h=%.3g)", want, got, diff, tol, h)
	}
	return nil
}

func (o oracle) checkAdjoint(cfg Config, r *report) {
	per := 6
	if cfg.Short {
		per = 3
	}
	for i, D := range suite.Widths {
		for j := range per {
			sh := shapes[(i*6+j)%len(shapes)]
			s := spec{V: sh[0], D: D, N: sh[1], dist: dist((i + j) % int(numDists)), pad: padMode((i + j) % 3), scale: j%2 == 1}
			rng := cfg.Stream("adjoint", i*6+j)
			if c, ok := build(rng, s); ok {
				r.Fail(fdShape{c}, o.adjoint(rng, c, j%3 == 0))
			}
		}
	}
}

// adjoint compares ⟨gather(E), G⟩ with ⟨E, backward(G)⟩. On dyadic data
// (k/256 with |k| ≤ 64, unscaled so every product and sum is exact in
// float64) they must be equal; otherwise within the rounding of both sides,
// γ(n)·Σ_i s_i·Σ_j |E[ids[i], j]·G[i, j]| each, n the terms summed.
func (o oracle) adjoint(rng *rand.Rand, c *tcase, dyadic bool) error {
	draw := func() float64 { return 3*rng.Float64() - 1.5 }
	if dyadic {
		c.opt.ScaleGradByFreq = false
		draw = func() float64 { return float64(rng.IntN(129)-64) / 256 }
	}
	E, G := make([]float64, c.V*c.D), make([]float64, c.N*c.D)
	for k := range E {
		E[k] = draw()
	}
	for k := range G {
		G[k] = draw()
	}
	s := reference.Scales(c.V, c.ids, c.opt)
	var lhs, mag float64
	for i, id := range c.ids {
		for j := range c.D {
			e := s[i] * E[int(id)*c.D+j] // the masked, weighted gather
			lhs += e * G[i*c.D+j]
			mag += math.Abs(e * G[i*c.D+j])
		}
	}
	B := make([]float64, c.V*c.D)
	o.backward(B, c.V, c.D, c.ids, G, c.opt)
	var rhs float64
	for k := range B {
		rhs += E[k] * B[k]
	}
	n := float64(c.N*(c.D+2) + c.V*c.D)
	bound := 2 * n * u53 / (1 - n*u53) * mag
	kind := "real"
	if dyadic {
		kind, bound = "dyadic", 0
	}
	if d := math.Abs(lhs - rhs); !(d <= bound) {
		return fmt.Errorf("%s data: ⟨gather(E), G⟩ = %.17g but ⟨E, backward(G)⟩ = %.17g, |diff| %.3g > bound %.3g", kind, lhs, rhs, d, bound)
	}
	return nil
}
