package gradcheck

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// TiedChecks returns the tied-embedding suite for k.
//
// The model checks validate the float64 tied model (reference.TiedModel)
// by central finite differences (gonum diff/fd) on its full loss: ∂L/∂E
// through both the lookup and the output projection, and ∂L/∂P for learned
// positions, per entry on a small model and along random directions on a
// larger one; with sinusoidal positions P gets no gradient. The kernel
// checks compare k with reference.TiedOracle element by element within the
// oracle's bound, on the model's own H, dZ and ∂L/∂Y and on random inputs
// with padding, scaling and a non-zero dst, and check the contract's rules:
// validation before any write, read-only inputs, NaN and ±Inf propagation,
// no writes outside dst, and bitwise determinism (for every worker count
// when k implements embgrad.TiedParallel).
func TiedChecks(k embgrad.TiedKernel) []suite.Check {
	return []suite.Check{
		{Name: "tied/model-fd-entries", Run: tiedFDEntries},
		{Name: "tied/model-fd-directions", Run: tiedFDDirections},
		{Name: "tied/model-gradient", Run: func(c suite.Config) error { return tiedModelGradient(k, c) }},
		{Name: "tied/oracle", Run: func(c suite.Config) error { return tiedOracleCases(k, c) }},
		{Name: "tied/nonfinite", Run: func(c suite.Config) error { return tiedNonFinite(k, c) }},
		{Name: "tied/invalid-input", Run: func(c suite.Config) error { return tiedInvalid(k, c) }},
		{Name: "tied/deterministic", Run: func(c suite.Config) error { return tiedDeterministic(k, c) }},
	}
}

// TestTied runs TiedChecks(k) as subtests of t.
func TestTied(t *testing.T, k embgrad.TiedKernel) {
	t.Helper()
	suite.Test(t, TiedChecks(k))
}

// CheckTied runs TiedChecks(k) with cfg and returns every failure joined.
func CheckTied(k embgrad.TiedKernel, cfg suite.Config) error {
	return suite.Join(suite.Run(TiedChecks(k), cfg))
}

// tiedFDTol bounds |fd − analytic| relative to 1 + |analytic|. Central
// differences with step 6e-6 on this smooth float64 loss are good to about
// 1e-11 (as measured); a wrong or missing path is off by 1e-3 or more.
// torch's gradcheck ceiling would be 1e-5 + 1e-3·|analytic|.
const tiedFDTol = 1e-8

// tiedRand is the check's generator: the suite's seed, and a stream per check.
func tiedRand(cfg suite.Config, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(cfg.Seed, 0x71ed<<8|stream))
}

// tiedModel builds a model, its tables and a batch.
type tiedModel struct {
	V, D, MaxPos, N int
	Sinusoidal      bool
}

func (s tiedModel) String() string {
	return fmt.Sprintf("V=%d D=%d MaxPos=%d N=%d sinusoidal=%v", s.V, s.D, s.MaxPos, s.N, s.Sinusoidal)
}

func (s tiedModel) build(rng *rand.Rand) (reference.TiedModel, []float64, []float64, reference.TiedBatch) {
	m, E, P := reference.NewTiedModel(rng, s.V, s.D, s.MaxPos, s.Sinusoidal)
	return m, E, P, reference.NewTiedBatch(rng, s.V, s.MaxPos, s.N)
}

// tiedParam names entry k of the concatenation E ‖ P.
func tiedParam(k, V, D int) string {
	if k < V*D {
		return fmt.Sprintf("dE[%d,%d]", k/D, k%D)
	}
	k -= V * D
	return fmt.Sprintf("dP[%d,%d]", k/D, k%D)
}

// fdProblem builds s and returns its loss as a function of E ‖ P (of E
// alone for sinusoidal positions), that starting point, and the analytic
// gradient there, which must give sinusoidal positions nothing.
func (s tiedModel) fdProblem(rng *rand.Rand) (f func([]float64) float64, x, grad []float64, err error) {
	m, E, P, b := s.build(rng)
	dE, dP := m.Grad(E, P, b)
	if err := tiedNoPositionGrad(m, dP); err != nil {
		return nil, nil, nil, fmt.Errorf("%v: %w", s, err)
	}
	grad = slices.Concat(dE, dP)
	if m.Sinusoidal {
		return func(x []float64) float64 { return m.Loss(x, P, b) }, slices.Clone(E), grad, nil
	}
	n := len(E)
	return func(x []float64) float64 { return m.Loss(x[:n], x[n:], b) }, slices.Concat(E, P), grad, nil
}

func tiedFDEntries(cfg suite.Config) error {
	var errs []error
	for _, s := range []tiedModel{{5, 3, 4, 7, false}, {5, 3, 4, 7, true}, {3, 2, 2, 4, false}} {
		f, x, want, err := s.fdProblem(tiedRand(cfg, 1))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got := fd.Gradient(nil, f, x, &fd.Settings{Formula: fd.Central})
		bad, first := 0, ""
		for k := range got {
			if d := math.Abs(got[k] - want[k]); !(d <= tiedFDTol*(1+math.Abs(want[k]))) {
				if bad == 0 {
					first = fmt.Sprintf("%s: finite difference %.10g, analytic %.10g, |diff| %.3g", tiedParam(k, s.V, s.D), got[k], want[k], d)
				}
				bad++
			}
		}
		if bad > 0 {
			errs = append(errs, fmt.Errorf("%v: %s; %d of %d entries off", s, first, bad, len(got)))
		}
	}
	return errors.Join(errs...)
}

func tiedNoPositionGrad(m reference.TiedModel, dP []float64) error {
	if m.Sinusoidal && dP != nil {
		return errors.New("sinusoidal positions received a gradient")
	}
	if !m.Sinusoidal && len(dP) != m.MaxPos*m.D {
		return fmt.Errorf("learned positions: len(dP) = %d, want %d", len(dP), m.MaxPos*m.D)
	}
	return nil
}

func tiedFDDirections(cfg suite.Config) error {
	dirs := 6
	shapes := []tiedModel{{60, 12, 6, 20, false}, {60, 12, 6, 20, true}}
	if !cfg.Short {
		dirs = 12
		shapes = append(shapes, tiedModel{300, 24, 16, 48, false})
	}
	var errs []error
	for _, s := range shapes {
		rng := tiedRand(cfg, 2)
		f, x, grad, err := s.fdProblem(rng)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for d := range dirs {
			u := make([]float64, len(x))
			for k := range u {
				u[k] = rng.NormFloat64()
			}
			xh := make([]float64, len(x))
			got := fd.Derivative(func(h float64) float64 {
				for k := range xh {
					xh[k] = x[k] + h*u[k]
				}
				return f(xh)
			}, 0, &fd.Settings{Formula: fd.Central})
			var want, scale float64
			for k := range u {
				want += grad[k] * u[k]
				scale += math.Abs(grad[k] * u[k])
			}
			if diff := math.Abs(got - want); !(diff <= tiedFDTol*(1+scale)) {
				errs = append(errs, fmt.Errorf("%v direction %d: finite difference %.10g, analytic ⟨∇L, u⟩ %.10g, |diff| %.3g > %.3g",
					s, d, got, want, diff, tiedFDTol*(1+scale)))
			}
		}
	}
	return errors.Join(errs...)
}

func tiedF32(x []float64) []float32 {
	y := make([]float32, len(x))
	for k, v := range x {
		y[k] = float32(v)
	}
	return y
}

// tiedModelGradient runs k on the model's own float32 H, dZ and ∂L/∂Y:
// it must match the oracle on those inputs within the bound, and the true
// float64 gradient within torch's allclose(atol 1e-5, rtol 1e-3).
func tiedModelGradient(k embgrad.TiedKernel, cfg suite.Config) error {
	shapes := []tiedModel{{5, 3, 4, 7, false}, {70, 17, 8, 24, false}, {70, 17, 8, 24, true}}
	if !cfg.Short {
		shapes = append(shapes, tiedModel{700, 33, 16, 64, false})
	}
	var errs []error
	for _, s := range shapes {
		m, E, P, b := s.build(tiedRand(cfg, 3))
		dE, _ := m.Grad(E, P, b)
		r := m.Pass(E, P, b)
		a := embgrad.TiedArgs{V: s.V, D: s.D, IDs: b.IDs, GradOut: tiedF32(r.DY), T: s.N, H: tiedF32(r.H), DZ: tiedF32(r.DZ)}
		got := make([]float32, s.V*s.D)
		if err := tiedRun(k, got, a); err != nil {
			errs = append(errs, fmt.Errorf("%v: %w", s, err))
			continue
		}
		for i, g := range got {
			if d := math.Abs(float64(g) - dE[i]); !(d <= 1e-5+1e-3*math.Abs(dE[i])) {
				errs = append(errs, fmt.Errorf("%v: %s: got %v, float64 model %.8g: not allclose(atol 1e-5, rtol 1e-3)", s, tiedParam(i, s.V, s.D), g, dE[i]))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// tiedCase is one kernel call on random inputs.
type tiedCase struct {
	V, D, N, T int
	Opt        embgrad.Options
	Base       bool // dst starts non-zero
	Dups       int  // ids drawn from this many distinct rows (0: all of V)
}

func (c tiedCase) String() string {
	return fmt.Sprintf("V=%d D=%d N=%d T=%d opt=%+v base=%v dups=%d", c.V, c.D, c.N, c.T, c.Opt, c.Base, c.Dups)
}

// tiedValue is uniform in ±2^e for e in [-4, 4): magnitudes that vary, so
// a dropped or doubled term is far outside any rounding bound.
func tiedValue(rng *rand.Rand) float32 {
	return float32(math.Ldexp(2*rng.Float64()-1, rng.IntN(8)-4))
}

func tiedFill(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for k := range x {
		x[k] = tiedValue(rng)
	}
	return x
}

// build returns dst and the arguments.
func (c tiedCase) build(rng *rand.Rand) ([]float32, embgrad.TiedArgs) {
	a := embgrad.TiedArgs{V: c.V, D: c.D, IDs: make([]int32, c.N), GradOut: tiedFill(rng, c.N*c.D), Opt: c.Opt,
		T: c.T, H: tiedFill(rng, c.T*c.D), DZ: tiedFill(rng, c.T*c.V)}
	rows := c.V
	if c.Dups > 0 {
		rows = min(c.Dups, c.V)
	}
	for i := range a.IDs {
		a.IDs[i] = int32(rng.IntN(rows))
	}
	dst := make([]float32, c.V*c.D)
	if c.Base {
		dst = tiedFill(rng, len(dst))
	}
	return dst, a
}

// tiedRun calls k as call does: on copies of dst and of every input, each
// between guard bands, with a panic turned into an error; a write outside
// dst or a change to an input is an error. dst then holds the result, also
// when k returned an error.
func tiedRun(k embgrad.TiedKernel, dst []float32, a embgrad.TiedArgs) error {
	dbuf, out := suite.Guarded(dst)
	ibuf, ids := guardedIDs(a.IDs)
	gbuf, g := suite.Guarded(a.GradOut)
	hbuf, h := suite.Guarded(a.H)
	zbuf, z := suite.Guarded(a.DZ)
	iwas, gwas, hwas, zwas := slices.Clone(ibuf), slices.Clone(gbuf), slices.Clone(hbuf), slices.Clone(zbuf)
	b := a
	b.IDs, b.GradOut, b.H, b.DZ = ids, g, h, z
	err := protect(func() error { return k.BackwardTied(out, b) })
	if e := cmp.Or(wroteOutside(dbuf, len(dst)), modifiedIDs(ibuf, iwas), modified("gradOut", gbuf, gwas),
		modified("H", hbuf, hwas), modified("dZ", zbuf, zwas)); e != nil {
		return e
	}
	copy(dst, out)
	return err
}

// tiedCheck runs k on one case and compares it with the oracle.
func tiedCheck(k embgrad.TiedKernel, dst []float32, a embgrad.TiedArgs) error {
	r, err := reference.TiedOracle(dst, a)
	if err != nil {
		return fmt.Errorf("oracle: %w", err)
	}
	got := slices.Clone(dst)
	if err := tiedRun(k, got, a); err != nil {
		return err
	}
	return r.Check(got)
}

func tiedCases(short bool) []tiedCase {
	pad, scale := embgrad.Options{}.WithPadding(1), embgrad.Options{ScaleGradByFreq: true}
	both := scale.WithPadding(0)
	cs := []tiedCase{
		{V: 1, D: 1, N: 0, T: 0}, {V: 1, D: 1, N: 1, T: 1}, {V: 0, D: 3, N: 0, T: 2}, {V: 4, D: 0, N: 3, T: 2},
		{V: 3, D: 2, N: 0, T: 4}, {V: 5, D: 3, N: 6, T: 0, Base: true}, {V: 7, D: 5, N: 9, T: 3, Base: true},
		{V: 64, D: 16, N: 40, T: 8}, {V: 65, D: 17, N: 70, T: 9, Base: true, Dups: 5},
		{V: 130, D: 33, N: 50, T: 17, Opt: pad, Dups: 4}, {V: 130, D: 33, N: 50, T: 17, Opt: scale, Base: true, Dups: 4},
		{V: 129, D: 7, N: 30, T: 1, Opt: both, Base: true, Dups: 3},
		{V: 61, D: 70, N: 20, T: 260, Base: true}, // long T: kernels block t too
	}
	if !short {
		cs = append(cs, tiedCase{V: 1000, D: 40, N: 300, T: 33, Base: true, Dups: 50},
			tiedCase{V: 2051, D: 97, N: 64, T: 70, Opt: both, Base: true})
	}
	return cs
}

func tiedOracleCases(k embgrad.TiedKernel, cfg suite.Config) error {
	rng := tiedRand(cfg, 4)
	var errs []error
	for _, c := range tiedCases(cfg.Short) {
		dst, a := c.build(rng)
		if err := tiedCheck(k, dst, a); err != nil {
			errs = append(errs, fmt.Errorf("%v: %w", c, err))
		}
	}
	return errors.Join(errs...)
}

// tiedNonFinite puts NaN and ±Inf into each input in turn: they must
// propagate as in the float64 oracle.
func tiedNonFinite(k embgrad.TiedKernel, cfg suite.Config) error {
	rng := tiedRand(cfg, 5)
	c := tiedCase{V: 37, D: 19, N: 12, T: 11, Base: true, Dups: 6}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	var errs []error
	for _, m := range []struct {
		name string
		set  func(dst []float32, a embgrad.TiedArgs)
	}{
		{"H[3,5]=+Inf", func(_ []float32, a embgrad.TiedArgs) { a.H[3*c.D+5] = inf }},
		{"H[0,18]=NaN", func(_ []float32, a embgrad.TiedArgs) { a.H[18] = nan }},
		{"dZ[10,36]=-Inf", func(_ []float32, a embgrad.TiedArgs) { a.DZ[10*c.V+36] = -inf }},
		{"dZ[2,0]=NaN and H[2,*]=0", func(_ []float32, a embgrad.TiedArgs) { a.DZ[2*c.V] = nan; clear(a.H[2*c.D : 3*c.D]) }},
		{"dZ[4,*]=0 and H[4,1]=Inf", func(_ []float32, a embgrad.TiedArgs) { clear(a.DZ[4*c.V : 5*c.V]); a.H[4*c.D+1] = inf }},
		{"gradOut[11,0]=NaN", func(_ []float32, a embgrad.TiedArgs) { a.GradOut[11*c.D] = nan }},
		{"dst[5,5]=-Inf", func(dst []float32, _ embgrad.TiedArgs) { dst[5*c.D+5] = -inf }},
	} {
		dst, a := c.build(rng)
		m.set(dst, a)
		if err := tiedCheck(k, dst, a); err != nil {
			errs = append(errs, fmt.Errorf("%v with %s: %w", c, m.name, err))
		}
	}
	return errors.Join(errs...)
}

// tiedInvalid checks that every invalid call fails with ErrInvalidInput
// and leaves dst bit-for-bit unchanged, without panicking.
func tiedInvalid(k embgrad.TiedKernel, cfg suite.Config) error {
	rng := tiedRand(cfg, 6)
	c := tiedCase{V: 9, D: 4, N: 6, T: 5, Base: true}
	var errs []error
	for _, m := range []struct {
		name   string
		mutate func(dst *[]float32, a *embgrad.TiedArgs)
	}{
		{"ids[5] = V", func(_ *[]float32, a *embgrad.TiedArgs) { a.IDs[5] = int32(a.V) }},
		{"ids[0] = -1", func(_ *[]float32, a *embgrad.TiedArgs) { a.IDs[0] = -1 }},
		{"short dst", func(dst *[]float32, _ *embgrad.TiedArgs) { *dst = (*dst)[:len(*dst)-1] }},
		{"short gradOut", func(_ *[]float32, a *embgrad.TiedArgs) { a.GradOut = a.GradOut[1:] }},
		{"padding = V", func(_ *[]float32, a *embgrad.TiedArgs) { a.Opt = a.Opt.WithPadding(int32(a.V)) }},
		{"short H", func(_ *[]float32, a *embgrad.TiedArgs) { a.H = a.H[:len(a.H)-1] }},
		{"long dZ", func(_ *[]float32, a *embgrad.TiedArgs) { a.DZ = append(a.DZ, 1) }},
		{"dZ sized V×V", func(_ *[]float32, a *embgrad.TiedArgs) { a.DZ = make([]float32, a.V*a.V) }},
		{"T one too large", func(_ *[]float32, a *embgrad.TiedArgs) { a.T++ }},
		{"negative T", func(_ *[]float32, a *embgrad.TiedArgs) { a.T = -1 }},
		{"T*V overflows", func(dst *[]float32, a *embgrad.TiedArgs) {
			*dst, a.D, a.T, a.GradOut, a.H = nil, 0, math.MaxInt/2, nil, nil
		}},
	} {
		dst, a := c.build(rng)
		m.mutate(&dst, &a)
		before := slices.Clone(dst)
		err := tiedRun(k, dst, a)
		switch {
		case err == nil:
			errs = append(errs, fmt.Errorf("%v with %s: no error", c, m.name))
		case !errors.Is(err, embgrad.ErrInvalidInput):
			errs = append(errs, fmt.Errorf("%v with %s: error %q does not wrap ErrInvalidInput", c, m.name, err))
		default:
			if d := suite.SameBits(dst, before, c.D, "(dst before the call)"); d != nil {
				errs = append(errs, fmt.Errorf("%v with %s: dst changed on error: %w", c, m.name, d))
			}
		}
	}
	return errors.Join(errs...)
}

// tiedDeterministic checks bitwise-identical results run to run and, for a
// TiedParallel kernel, for 1, 2, 3 and 8 workers.
func tiedDeterministic(k embgrad.TiedKernel, cfg suite.Config) error {
	if nd, ok := k.(embgrad.Nondeterministic); ok && nd.Nondeterministic() {
		return nil
	}
	c := tiedCase{V: 700, D: 45, N: 200, T: 21, Base: true, Dups: 20, Opt: embgrad.Options{ScaleGradByFreq: true}}
	if !cfg.Short {
		c = tiedCase{V: 5003, D: 67, N: 600, T: 37, Base: true, Dups: 40}
	}
	dst, a := c.build(tiedRand(cfg, 7))
	run := func(k embgrad.TiedKernel) ([]float32, error) {
		out := slices.Clone(dst)
		return out, tiedRun(k, out, a)
	}
	want, err := run(k)
	if err != nil {
		return fmt.Errorf("%v: %w", c, err)
	}
	kernels := []embgrad.TiedKernel{k}
	names := []string{"second run"}
	if p, ok := k.(embgrad.TiedParallel); ok {
		for _, n := range []int{1, 2, 3, 8} {
			kernels = append(kernels, p.WithTiedWorkers(n))
			names = append(names, fmt.Sprintf("%d workers", n))
		}
	}
	for i, k := range kernels {
		got, err := run(k)
		if err != nil {
			return fmt.Errorf("%v, %s: %w", c, names[i], err)
		}
		if err := suite.SameBits(got, want, c.D, "(the first run)"); err != nil {
			return fmt.Errorf("%v, %s: %w", c, names[i], err)
		}
	}
	return nil
}
