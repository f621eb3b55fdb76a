package property

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// TiedChecks returns the tied-embedding properties of k. Each is checked by
// gopter on random cases; a failure is shrunk to a small case, printed
// compactly (its data too when small). Each call but the sinusoidal one
// (which lays dst before the table on purpose) runs as the untied checks'
// do, between guard bands and on copies of ids, gradOut, H and dZ, so a
// stray write, a changed input or a panic fails the property.
//
//   - tied/sum-of-parts: one call equals the input part alone (T = 0)
//     followed by the output part alone (no ids), bitwise on dyadic data,
//     where every float32 sum is exact in any order.
//   - tied/output-part: with no ids and dst = 0 the result is dZᵀ·H, within
//     the oracle's bound of the float64 product.
//   - tied/output-column-sums: for cross-entropy, dZ[t,·] = (softmax −
//     onehot)/T sums to 0 over the vocabulary for every t, so every column of
//     the output part sums to 0 over the vocabulary:
//     Σ_v (dZᵀH)[v,j] = Σ_t H[t,j]·Σ_v dZ[t,v] = 0. In float32 dZ's row sums
//     r_t are only ≈ 0, so |Σ_v got[v,j]| ≤ Σ_v bound(v,j) + Σ_t |H[t,j]·r_t|.
//   - tied/zero-dZ-is-untied: with dZ = 0 the result is the untied backward
//     (reference.Oracle's check, bitwise on rows no id names), and bitwise
//     k's own Backward when k is also an embgrad.Kernel.
//   - tied/sinusoidal-table-unchanged: SGD steps on reference.TiedModel with
//     sinusoidal positions, k computing ∂L/∂E into a buffer laid right
//     before the position table, never change the table.
func TiedChecks(k embgrad.TiedKernel) []NamedCheck {
	return []NamedCheck{
		tiedProp("tied/sum-of-parts", k, tiedGen(true), tiedSumOfParts),
		tiedProp("tied/output-part", k, tiedGen(false), tiedOutputPart),
		tiedProp("tied/output-column-sums", k, tiedGen(false), tiedColumnSums),
		tiedProp("tied/zero-dZ-is-untied", k, tiedGen(false), tiedZeroDZ),
		// Its stray write lands in this process's table: across a process
		// boundary there is no table next to the kernel's dst.
		suite.Needs(tiedProp("tied/sinusoidal-table-unchanged", k, tiedModelGen(), tiedSinusoidal), k, suite.StrayWrite),
	}
}

// TestTied runs TiedChecks(k) as subtests of t.
func TestTied(t *testing.T, k embgrad.TiedKernel) {
	t.Helper()
	suite.Test(t, TiedChecks(k))
}

// CheckTied runs TiedChecks(k) with cfg and returns every failure joined.
func CheckTied(k embgrad.TiedKernel, cfg Config) error { return suite.Join(RunTied(k, cfg)) }

// RunTied runs TiedChecks(k) with cfg, one result per check; a failure
// names the kernel, the shrunk tied case, what went wrong and the seed with
// its reproduce hint, as an untied *Failure does.
func RunTied(k embgrad.TiedKernel, cfg Config) []Result { return suite.Run(TiedChecks(k), cfg) }

// Cases per tied property: the full run, and under Config.Short.
const (
	tiedCasesFull  = 100
	tiedCasesShort = 30
)

// tiedProp is a check of a property of generated tied cases: f returns ""
// when it holds, else what went wrong. It runs on the engine's ForAll, as
// the untied properties do: its own stream, shrinking to the same failure,
// the same report.
func tiedProp[C suite.Case](name string, k embgrad.TiedKernel, gen gopter.Gen, f func(embgrad.TiedKernel, C) string) NamedCheck {
	return NamedCheck{Name: name, Run: func(cfg Config) error {
		n := tiedCasesFull
		if cfg.Short {
			n = tiedCasesShort
		}
		return suite.ForAll(cfg, name, k.Name(), n, gen, func(c C) error {
			if msg := f(k, c); msg != "" {
				return errors.New(msg)
			}
			return nil
		})
	}}
}

// tiedCase is one tied call, made from its shape and seed so that gopter
// shrinks the shape and the data follows.
type tiedCase struct {
	V, D, N, T int
	Seed       uint64
	Dyadic     bool // suite.Dyadic values and no scaling: sums are exact
	Opt        embgrad.Options
	Dst        []float32
	IDs        []int32
	GradOut    []float32
	H, DZ      []float32
}

// Size is the case's shape.
func (c tiedCase) Size() string { return fmt.Sprintf("V=%d D=%d N=%d T=%d", c.V, c.D, c.N, c.T) }

func tiedGen(dyadic bool) gopter.Gen {
	return gopter.DeriveGen(
		func(V, D, N, T int, seed uint64) tiedCase { return newTiedCase(V, D, N, T, seed, dyadic) },
		func(c tiedCase) (int, int, int, int, uint64) { return c.V, c.D, c.N, c.T, c.Seed },
		gen.IntRange(1, 150), gen.IntRange(1, 40), gen.IntRange(0, 40), gen.IntRange(0, 24), gen.UInt64(),
	)
}

func newTiedCase(V, D, N, T int, seed uint64, dyadic bool) tiedCase {
	c := tiedCase{V: V, D: D, N: N, T: T, Seed: seed, Dyadic: dyadic}
	if V < 1 || D < 1 || N < 0 || T < 0 {
		return c // a shrink outside the ranges, which the generators' sieves drop
	}
	rng := rand.New(rand.NewPCG(seed, 0x71ed))
	kind := suite.Normal
	if dyadic {
		kind = suite.Dyadic
	}
	fill := func(n int) []float32 { return suite.Fill(rng, n, kind) }
	c.IDs, c.GradOut, c.H, c.DZ = make([]int32, N), fill(N*D), fill(T*D), fill(T*V)
	rows := V
	if rng.IntN(2) == 0 {
		rows = 1 + rng.IntN(min(V, 4)) // many duplicates
	}
	for i := range c.IDs {
		c.IDs[i] = int32(rng.IntN(rows))
	}
	if rng.IntN(3) == 0 {
		c.Opt = c.Opt.WithPadding(int32(rng.IntN(V)))
	}
	c.Opt.ScaleGradByFreq = !dyadic && rng.IntN(3) == 0
	if rng.IntN(2) == 0 {
		c.Dst = fill(V * D)
	} else {
		c.Dst = make([]float32, V*D)
	}
	return c
}

// String is the case in one line, with its data when that is short.
func (c tiedCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "V=%d D=%d N=%d T=%d", c.V, c.D, c.N, c.T)
	if c.Opt.HasPadding {
		fmt.Fprintf(&b, " pad=%d", c.Opt.PaddingIdx)
	}
	if c.Opt.ScaleGradByFreq {
		b.WriteString(" scale")
	}
	fmt.Fprintf(&b, " seed=%#x", c.Seed)
	if len(c.Dst)+len(c.GradOut)+len(c.H)+len(c.DZ) <= 48 {
		fmt.Fprintf(&b, " dst=%v ids=%v gradOut=%v H=%v dZ=%v", c.Dst, c.IDs, c.GradOut, c.H, c.DZ)
	}
	return b.String()
}

// args returns the call's arguments.
func (c tiedCase) args() embgrad.TiedArgs {
	return embgrad.TiedArgs{V: c.V, D: c.D, IDs: c.IDs, GradOut: c.GradOut, Opt: c.Opt, T: c.T, H: c.H, DZ: c.DZ}
}

// tiedCall is the suite's guarded tied call.
var tiedCall = suite.Tied

func tiedSumOfParts(k embgrad.TiedKernel, c tiedCase) string {
	whole, err := tiedCall(k, c.Dst, c.args())
	if err != nil {
		return "whole call: " + err.Error()
	}
	in := c.args()
	in.T, in.H, in.DZ = 0, nil, nil
	parts, err := tiedCall(k, c.Dst, in)
	if err != nil {
		return "input part: " + err.Error()
	}
	out := c.args()
	out.IDs, out.GradOut = nil, nil
	if parts, err = tiedCall(k, parts, out); err != nil {
		return "output part: " + err.Error()
	}
	if err := suite.SameBits(whole, parts, c.D, "(the input part, then the output part)"); err != nil {
		return "whole call: " + err.Error()
	}
	return ""
}

// tiedOutputOnly runs k on c's output part alone (no ids, dst = 0) and
// returns the result with the oracle's, or what went wrong.
func tiedOutputOnly(k embgrad.TiedKernel, c tiedCase) ([]float32, *reference.TiedResult, string) {
	a := c.args()
	a.IDs, a.GradOut = nil, nil
	zero := make([]float32, c.V*c.D)
	r, err := reference.TiedOracle(zero, a)
	if err != nil {
		return nil, nil, "oracle: " + err.Error()
	}
	got, err := tiedCall(k, zero, a)
	if err != nil {
		return nil, nil, err.Error()
	}
	return got, r, ""
}

func tiedOutputPart(k embgrad.TiedKernel, c tiedCase) string {
	got, r, fail := tiedOutputOnly(k, c)
	if fail != "" {
		return fail
	}
	if err := r.Check(got); err != nil {
		return "dZᵀ·H: " + err.Error()
	}
	return ""
}

func tiedColumnSums(k embgrad.TiedKernel, c tiedCase) string {
	// Cross-entropy dZ for random logits and targets, as a mean over T.
	rng := rand.New(rand.NewPCG(c.Seed, 0xce))
	c.DZ = make([]float32, c.T*c.V)
	z := make([]float64, c.V)
	for t := range c.T {
		var sum float64
		for v := range z {
			z[v] = 4 * rng.NormFloat64()
			sum += math.Exp(z[v])
		}
		target := rng.IntN(c.V)
		for v := range z {
			p := math.Exp(z[v]) / sum
			if v == target {
				p--
			}
			c.DZ[t*c.V+v] = float32(p / float64(c.T))
		}
	}
	got, r, fail := tiedOutputOnly(k, c)
	if fail != "" {
		return fail
	}
	rowSum := make([]float64, c.T) // r_t = Σ_v dZ[t,v], ≈ 0 after rounding to float32
	for t := range c.T {
		for v := range c.V {
			rowSum[t] += float64(c.DZ[t*c.V+v])
		}
	}
	for j := range c.D {
		var sum, abs, tol float64
		for v := range c.V {
			sum += float64(got[v*c.D+j])
			abs += math.Abs(float64(got[v*c.D+j]))
			tol += r.Bound(v*c.D + j)
		}
		for t := range c.T {
			tol += math.Abs(float64(c.H[t*c.D+j]) * rowSum[t])
		}
		tol += float64(c.V) * 0x1p-52 * abs // this float64 sum's own rounding
		if !(math.Abs(sum) <= tol) {
			return fmt.Sprintf("column %d sums to %.6g over the vocabulary (Σ|·| %.3g), want |sum| ≤ %.3g", j, sum, abs, tol)
		}
	}
	return ""
}

func tiedZeroDZ(k embgrad.TiedKernel, c tiedCase) string {
	c.DZ = make([]float32, c.T*c.V)
	r, err := reference.Oracle(c.Dst, c.V, c.D, c.IDs, c.GradOut, c.Opt)
	if err != nil {
		return "oracle: " + err.Error()
	}
	got, err := tiedCall(k, c.Dst, c.args())
	if err != nil {
		return err.Error()
	}
	if err := r.Check(got); err != nil {
		return "vs the untied oracle: " + err.Error()
	}
	if u, ok := k.(embgrad.Kernel); ok {
		want, err := run(u.Backward, Case{V: c.V, D: c.D, IDs: c.IDs, GradOut: c.GradOut, Opt: c.Opt, Dst: c.Dst})
		if err != nil {
			return "untied Backward: " + err.Error()
		}
		if err := suite.SameBits(got, want, c.D, "(untied Backward)"); err != nil {
			return "tied with dZ = 0: " + err.Error()
		}
	}
	return ""
}

// tiedModelCase is a tied model and batch, made from shape and seed.
type tiedModelCase struct {
	V, D, MaxPos, N int
	Seed            uint64
}

// Size is the model's shape.
func (m tiedModelCase) Size() string {
	return fmt.Sprintf("V=%d D=%d MaxPos=%d N=%d", m.V, m.D, m.MaxPos, m.N)
}

func (m tiedModelCase) String() string {
	return fmt.Sprintf("V=%d D=%d MaxPos=%d N=%d seed=%#x", m.V, m.D, m.MaxPos, m.N, m.Seed)
}

func tiedModelGen() gopter.Gen {
	return gopter.DeriveGen(
		func(V, D, maxPos, N int, seed uint64) tiedModelCase { return tiedModelCase{V, D, maxPos, N, seed} },
		func(m tiedModelCase) (int, int, int, int, uint64) { return m.V, m.D, m.MaxPos, m.N, m.Seed },
		gen.IntRange(1, 40), gen.IntRange(1, 12), gen.IntRange(1, 8), gen.IntRange(1, 20), gen.UInt64(),
	)
}

// tiedSinusoidal runs three SGD steps with k computing ∂L/∂E into a buffer
// whose capacity runs on into the float32 sinusoidal table.
func tiedSinusoidal(k embgrad.TiedKernel, mc tiedModelCase) string {
	rng := rand.New(rand.NewPCG(mc.Seed, 0x5e))
	m, E, P := reference.NewTiedModel(rng, mc.V, mc.D, mc.MaxPos, true)
	b := reference.NewTiedBatch(rng, mc.V, mc.MaxPos, mc.N)
	VD := mc.V * mc.D
	buf := make([]float32, VD+len(P))
	grad, table := buf[:VD], buf[VD:]
	for i, p := range P {
		table[i] = float32(p)
	}
	want := slices.Clone(table)
	E32 := make([]float32, VD)
	for i, e := range E {
		E32[i] = float32(e)
	}
	f32 := func(x []float64) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	for step := range 3 {
		for i, e := range E32 {
			E[i] = float64(e)
		}
		for i, p := range table {
			P[i] = float64(p)
		}
		r := m.Pass(E, P, b)
		clear(grad)
		a := embgrad.TiedArgs{V: mc.V, D: mc.D, IDs: b.IDs, GradOut: f32(r.DY), T: mc.N, H: f32(r.H), DZ: f32(r.DZ)}
		if err := suite.Protect(func() error { return k.BackwardTied(grad, a) }); err != nil {
			return fmt.Sprintf("step %d: %v", step, err)
		}
		for i, g := range grad {
			E32[i] -= 0.5 * g
		}
		if err := suite.SameBits(table, want, mc.D, "(sinusoidal)"); err != nil {
			return fmt.Sprintf("step %d changed the position table: %v", step, err)
		}
	}
	return ""
}
