package gradcheck

import (
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
func TiedChecks(k embgrad.TiedKernel) []NamedCheck {
	tied := func(name string, f func(embgrad.TiedKernel, Config, *report)) NamedCheck {
		return suite.NewCheck(name, k.Name(), func(cfg Config, r *report) { f(k, cfg, r) })
	}
	return []NamedCheck{
		suite.NewCheck("tied/model-fd-entries", "tied model", tiedFDEntries),
		suite.NewCheck("tied/model-fd-directions", "tied model", tiedFDDirections),
		tied("tied/model-gradient", tiedModelGradient),
		tied("tied/oracle", tiedOracleCases),
		tied("tied/nonfinite", tiedNonFinite),
		tied("tied/invalid-input", tiedInvalid),
		suite.Needs(tied("tied/invalid-overlap", tiedOverlap), k, suite.Aliasing),
		tied("tied/deterministic", tiedDeterministic),
	}
}

// TestTied runs TiedChecks(k) as subtests of t.
func TestTied(t *testing.T, k embgrad.TiedKernel) {
	t.Helper()
	suite.Test(t, TiedChecks(k))
}

// CheckTied runs TiedChecks(k) with cfg and returns every failure joined.
func CheckTied(k embgrad.TiedKernel, cfg Config) error { return suite.Join(RunTied(k, cfg)) }

// RunTied runs TiedChecks(k) with cfg, one result per check.
func RunTied(k embgrad.TiedKernel, cfg Config) []Result { return suite.Run(TiedChecks(k), cfg) }

// tiedFDTol bounds |fd − analytic| relative to 1 + |analytic|. Central
// differences with step 6e-6 on this smooth float64 loss are good to about
// 1e-11 (as measured); a wrong or missing path is off by 1e-3 or more.
// torch's gradcheck ceiling would be 1e-5 + 1e-3·|analytic|.
const tiedFDTol = 1e-8

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
		return nil, nil, nil, err
	}
	grad = slices.Concat(dE, dP)
	if m.Sinusoidal {
		return func(x []float64) float64 { return m.Loss(x, P, b) }, slices.Clone(E), grad, nil
	}
	n := len(E)
	return func(x []float64) float64 { return m.Loss(x[:n], x[n:], b) }, slices.Concat(E, P), grad, nil
}

func tiedFDEntries(cfg Config, r *report) {
	for i, s := range []tiedModel{{5, 3, 4, 7, false}, {5, 3, 4, 7, true}, {3, 2, 2, 4, false}} {
		r.Fail(s, tiedFDEntriesOf(s, cfg.Stream("tied/model-fd-entries", i)))
	}
}

func tiedFDEntriesOf(s tiedModel, rng *rand.Rand) error {
	{
		f, x, want, err := s.fdProblem(rng)
		if err != nil {
			return err
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
			return fmt.Errorf("%s; %d of %d entries off", first, bad, len(got))
		}
	}
	return nil
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

func tiedFDDirections(cfg Config, r *report) {
	dirs := 6
	shapes := []tiedModel{{60, 12, 6, 20, false}, {60, 12, 6, 20, true}}
	if !cfg.Short {
		dirs = 12
		shapes = append(shapes, tiedModel{300, 24, 16, 48, false})
	}
	for i, s := range shapes {
		rng := cfg.Stream("tied/model-fd-directions", i)
		f, x, grad, err := s.fdProblem(rng)
		if err != nil {
			r.Fail(s, err)
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
				r.Fail(s, fmt.Errorf("direction %d: finite difference %.10g, analytic ⟨∇L, u⟩ %.10g, |diff| %.3g > %.3g",
					d, got, want, diff, tiedFDTol*(1+scale)))
			}
		}
	}
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
func tiedModelGradient(k embgrad.TiedKernel, cfg Config, rep *report) {
	shapes := []tiedModel{{5, 3, 4, 7, false}, {70, 17, 8, 24, false}, {70, 17, 8, 24, true}}
	if !cfg.Short {
		shapes = append(shapes, tiedModel{700, 33, 16, 64, false})
	}
	for si, s := range shapes {
		m, E, P, b := s.build(cfg.Stream("tied/model-gradient", si))
		dE, _ := m.Grad(E, P, b)
		r := m.Pass(E, P, b)
		a := embgrad.TiedArgs{V: s.V, D: s.D, IDs: b.IDs, GradOut: tiedF32(r.DY), T: s.N, H: tiedF32(r.H), DZ: tiedF32(r.DZ)}
		rep.Try(s, func() error {
			got, err := tiedCall(k, make([]float32, s.V*s.D), a)
			if err != nil {
				return suite.Accepted(err)
			}
			for i, g := range got {
				if d := math.Abs(float64(g) - dE[i]); !(d <= 1e-5+1e-3*math.Abs(dE[i])) {
					return fmt.Errorf("%s: got %v, float64 model %.8g: not allclose(atol 1e-5, rtol 1e-3)", tiedParam(i, s.V, s.D), g, dE[i])
				}
			}
			return nil
		})
	}
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

func tiedFill(rng *rand.Rand, n int) []float32 { return suite.Fill(rng, n, suite.Normal) }

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

// tiedCall is the suite's guarded tied call.
var tiedCall = suite.Tied

// tiedCheck runs k on one case and compares it with the oracle.
func tiedCheck(k embgrad.TiedKernel, dst []float32, a embgrad.TiedArgs) error {
	r, err := reference.TiedOracle(dst, a)
	if err != nil {
		return fmt.Errorf("gradcheck bug: the oracle rejected the case: %w", err)
	}
	got, err := tiedCall(k, dst, a)
	if err != nil {
		return suite.Accepted(err)
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

func tiedOracleCases(k embgrad.TiedKernel, cfg Config, r *report) {
	for i, c := range tiedCases(cfg.Short) {
		dst, a := c.build(cfg.Stream("tied/oracle", i))
		r.Try(c, func() error { return tiedCheck(k, dst, a) })
	}
}

// caseWith is a case with a change, as failures name it.
type caseWith struct {
	fmt.Stringer
	with string
}

func (c caseWith) String() string { return fmt.Sprintf("%v with %s", c.Stringer, c.with) }

// tiedNonFinite puts NaN and ±Inf into each input in turn: they must
// propagate as in the float64 oracle.
func tiedNonFinite(k embgrad.TiedKernel, cfg Config, r *report) {
	c := tiedCase{V: 37, D: 19, N: 12, T: 11, Base: true, Dups: 6}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for i, m := range []struct {
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
		dst, a := c.build(cfg.Stream("tied/nonfinite", i))
		m.set(dst, a)
		r.Try(caseWith{c, m.name}, func() error { return tiedCheck(k, dst, a) })
	}
}

// tiedInvalid checks that every invalid call fails with ErrInvalidInput
// and leaves dst bit-for-bit unchanged, without panicking.
func tiedInvalid(k embgrad.TiedKernel, cfg Config, r *report) {
	c := tiedCase{V: 9, D: 4, N: 6, T: 5, Base: true}
	for i, m := range []struct {
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
		{"D = 0 and V above embgrad.MaxV", func(dst *[]float32, a *embgrad.TiedArgs) {
			*dst, a.V, a.D, a.T, a.GradOut, a.H, a.DZ = nil, embgrad.MaxV+1, 0, 0, nil, nil, nil
		}},
	} {
		dst, a := c.build(cfg.Stream("tied/invalid-input", i))
		m.mutate(&dst, &a)
		r.Try(caseWith{c, m.name}, func() error {
			got, err := tiedCall(k, dst, a)
			return rejected(err, got, dst, c.D)
		})
	}
}

// tiedOverlap checks that dst sharing memory with H or dZ (laid out in one
// buffer by the guarded call, the input starting inside dst) is rejected as
// tiedInvalid's cases are. It is a check of its own because a kernel behind
// a process boundary never sees two buffers share memory (suite.Needs).
func tiedOverlap(k embgrad.TiedKernel, cfg Config, r *report) {
	c := tiedCase{V: 9, D: 4, N: 6, T: 5, Base: true}
	for i, in := range []string{"H", "dZ"} {
		dst, a := c.build(cfg.Stream("tied/invalid-input", 100+i))
		x := &a.H
		if in == "dZ" {
			x = &a.DZ
		}
		k0 := 1 + i*3
		copy((*x)[:k0], dst[len(dst)-k0:])
		r.Try(caseWith{c, fmt.Sprintf("dst overlapping %s by %d elements", in, k0)}, func() error {
			out, view := suite.Overlapping("dst", dst, in, *x, k0)
			ids, g := suite.InIDs("ids", a.IDs), suite.In("gradOut", a.GradOut)
			other := suite.In("dZ", a.DZ)
			if in == "dZ" {
				other = suite.In("H", a.H)
			}
			b := a
			err := suite.Call(func() error {
				b.IDs, b.GradOut = ids.I32(), g.F32()
				if in == "H" {
					b.H, b.DZ = view.F32(), other.F32()
				} else {
					b.H, b.DZ = other.F32(), view.F32()
				}
				return k.BackwardTied(out.F32(), b)
			}, out, view, ids, g, other)
			return rejected(err, out.F32(), dst, c.D)
		})
	}
}

// rejected is what an invalid call must give: an error wrapping
// embgrad.ErrInvalidInput, no violation, dst (before: its content before
// the call) bit-for-bit unchanged.
func rejected(err error, got, before []float32, D int) error {
	var v *suite.Violation
	switch {
	case errors.As(err, &v):
		return err
	case err == nil:
		return errors.New("no error")
	case !errors.Is(err, embgrad.ErrInvalidInput):
		return fmt.Errorf("error %q does not wrap ErrInvalidInput", err)
	}
	if d := suite.SameBits(got, before, D, "(dst before the call)"); d != nil {
		return fmt.Errorf("dst changed on error: %w", d)
	}
	return nil
}

// tiedDeterministic checks bitwise-identical results run to run and, for a
// TiedParallel kernel, for 1, 2, 3 and 8 workers.
func tiedDeterministic(k embgrad.TiedKernel, cfg Config, r *report) {
	if nd, ok := k.(embgrad.Nondeterministic); ok && nd.Nondeterministic() {
		return
	}
	c := tiedCase{V: 700, D: 45, N: 200, T: 21, Base: true, Dups: 20, Opt: embgrad.Options{ScaleGradByFreq: true}}
	if !cfg.Short {
		c = tiedCase{V: 5003, D: 67, N: 600, T: 37, Base: true, Dups: 40}
	}
	dst, a := c.build(cfg.Stream("tied/deterministic", 0))
	r.Try(c, func() error { return tiedSameBits(k, dst, a, c.D) })
}

func tiedSameBits(k embgrad.TiedKernel, dst []float32, a embgrad.TiedArgs, D int) error {
	run := func(k embgrad.TiedKernel) ([]float32, error) {
		out, err := tiedCall(k, dst, a)
		return out, suite.Accepted(err)
	}
	want, err := run(k)
	if err != nil {
		return err
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
			return fmt.Errorf("%s: %w", names[i], err)
		}
		if err := suite.SameBits(got, want, D, "(the first run)"); err != nil {
			return fmt.Errorf("%s: %w", names[i], err)
		}
	}
	return nil
}
