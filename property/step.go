package property

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/optim"
)

// StepChecks returns the optimizer-step properties of a Stepper (fed
// suite.Coalesce of each case), FusedChecks those of a Fused kernel; each
// is checked by gopter on random cases (every suite.Optimizers setting,
// drawn weights and state, sometimes a padding row the batch names),
// every call through the guarded call:
//
//   - step/untouched: rows the batch does not name, and the padding row,
//     keep their weights and state bit for bit;
//   - step/workers: a parallel kernel (optim.ParallelStepper or
//     ParallelFused) gives the same bits with 1, 2, 3 and 5 workers, and
//     a kernel the same bits on a repeated call;
//   - step/sparse-then-step: the result is bit for bit the coalesced
//     gradient (suite.Coalesce) followed by Rule.Update on each row: on
//     any data for a Stepper (it has no summation freedom), on dyadic
//     gradOut for a Fused kernel (its row sums are exact in any order).
func StepChecks(k optim.Stepper) []NamedCheck { return stepProps(stepKernel{name: k.Name(), step: k}) }

// FusedChecks is StepChecks for a Fused kernel.
func FusedChecks(k optim.Fused) []NamedCheck { return stepProps(stepKernel{name: k.Name(), fused: k}) }

// TestStep runs StepChecks(k) as subtests of t.
func TestStep(t *testing.T, k optim.Stepper) { t.Helper(); suite.Test(t, StepChecks(k)) }

// TestFused runs FusedChecks(k) as subtests of t.
func TestFused(t *testing.T, k optim.Fused) { t.Helper(); suite.Test(t, FusedChecks(k)) }

// RunStep runs StepChecks(k) with cfg, one result per check.
func RunStep(k optim.Stepper, cfg Config) []Result { return suite.Run(StepChecks(k), cfg) }

// RunFused runs FusedChecks(k) with cfg, one result per check.
func RunFused(k optim.Fused, cfg Config) []Result { return suite.Run(FusedChecks(k), cfg) }

// CheckStep returns every failure of RunStep joined.
func CheckStep(k optim.Stepper, cfg Config) error { return suite.Join(RunStep(k, cfg)) }

// CheckFused returns every failure of RunFused joined.
func CheckFused(k optim.Fused, cfg Config) error { return suite.Join(RunFused(k, cfg)) }

// stepKernel is a kernel of either step form.
type stepKernel struct {
	name  string
	step  optim.Stepper
	fused optim.Fused
}

// withWorkers returns the kernel with n workers, or false if it has no
// worker count.
func (k stepKernel) withWorkers(n int) (stepKernel, bool) {
	switch {
	case k.fused != nil:
		if p, ok := k.fused.(optim.ParallelFused); ok {
			k.fused = p.WithWorkers(n)
			return k, true
		}
	case k.step != nil:
		if p, ok := k.step.(optim.ParallelStepper); ok {
			k.step = p.WithWorkers(n)
			return k, true
		}
	}
	return k, false
}

func (k stepKernel) call(c stepCase) ([]float32, optim.State, error) {
	var (
		w   []float32
		st  optim.State
		err error
	)
	if k.fused != nil {
		w, st, err = suite.Fused(k.fused, c.W, c.St, c.V, c.D, c.IDs, c.GradOut, c.Opt, c.O)
	} else {
		rows, vals := suite.Coalesce(c.V, c.D, c.IDs, c.GradOut, c.Opt)
		w, st, err = suite.Step(k.step, c.W, c.St, c.V, c.D, rows, vals, len(rows), c.O)
	}
	return w, st, suite.Accepted(err)
}

// stepCase is one step call, made from its shape and seed so that gopter
// shrinks the shape and the data follows.
type stepCase struct {
	V, D, N int
	Seed    uint64
	OptIdx  int
	Dyadic  bool
	O       optim.Optimizer
	Opt     embgrad.Options
	IDs     []int32
	GradOut []float32
	W       []float32
	St      optim.State
}

func stepGen(dyadic bool) gopter.Gen {
	n := len(suite.Optimizers())
	return gopter.DeriveGen(
		func(V, D, N, o int, seed uint64) stepCase { return newStepCase(V, D, N, o, seed, dyadic) },
		func(c stepCase) (int, int, int, int, uint64) { return c.V, c.D, c.N, c.OptIdx, c.Seed },
		gen.IntRange(1, 60), gen.IntRange(1, 24), gen.IntRange(0, 80), gen.IntRange(0, n-1), gen.UInt64(),
	).SuchThat(func(c stepCase) bool { return c.V >= 1 && c.D >= 1 && c.N >= 0 && c.O != nil })
}

func newStepCase(V, D, N, o int, seed uint64, dyadic bool) stepCase {
	c := stepCase{V: V, D: D, N: N, OptIdx: o, Seed: seed, Dyadic: dyadic}
	opts := suite.Optimizers()
	if V < 1 || D < 1 || N < 0 || o < 0 || o >= len(opts) {
		return c
	}
	c.O = opts[o]
	rng := rand.New(rand.NewPCG(seed, 0x57e9))
	rows := V
	if rng.IntN(2) == 0 {
		rows = 1 + rng.IntN(min(V, 4)) // many duplicates
	}
	c.IDs = make([]int32, N)
	for i := range c.IDs {
		c.IDs[i] = int32(rng.IntN(rows))
	}
	if rng.IntN(2) == 0 {
		c.Opt = c.Opt.WithPadding(int32(rng.IntN(min(V, rows+1))))
	}
	c.Opt.ScaleGradByFreq = !dyadic && rng.IntN(3) == 0
	kind := suite.Normal
	if dyadic {
		kind = suite.Dyadic
	}
	c.GradOut = suite.Fill(rng, N*D, kind)
	c.W = suite.Fill(rng, V*D, suite.Normal)
	c.St = suite.DrawState(rng, c.O, V, D)
	return c
}

func (c stepCase) String() string {
	s := c.Size()
	if c.N <= 12 {
		s += " ids=" + ints(c.IDs)
	}
	return s
}

func (c stepCase) Size() string {
	pad := "none"
	if c.Opt.HasPadding {
		pad = fmt.Sprint(c.Opt.PaddingIdx)
	}
	o := "?"
	if c.O != nil {
		o = suite.OptimizerString(c.O)
	}
	return fmt.Sprintf("V=%d D=%d N=%d pad=%s scale=%v optim=%s seed=%#x", c.V, c.D, c.N, pad, c.Opt.ScaleGradByFreq, o, c.Seed)
}

func stepProps(k stepKernel) []NamedCheck {
	prop := func(name string, dyadic bool, f func(stepKernel, stepCase) error) NamedCheck {
		return NamedCheck{Name: name, Run: func(cfg Config) error {
			n := tiedCasesFull
			if cfg.Short {
				n = tiedCasesShort
			}
			return suite.ForAll(cfg, name, k.name, n, stepGen(dyadic), func(c stepCase) error { return f(k, c) })
		}}
	}
	return []NamedCheck{
		prop("step/untouched", false, stepUntouched),
		prop("step/workers", false, stepWorkers),
		prop("step/sparse-then-step", k.fused != nil, stepSparseThenStep),
	}
}

func stepUntouched(k stepKernel, c stepCase) error {
	w, st, err := k.call(c)
	if err != nil {
		return err
	}
	named := make([]bool, c.V)
	for _, id := range c.IDs {
		named[id] = !c.Opt.Skips(id)
	}
	D := c.D
	for v := range c.V {
		if named[v] {
			continue
		}
		what := "untouched row"
		if c.Opt.Skips(int32(v)) {
			what = "padding row"
		}
		if e := suite.SameBits(w[v*D:(v+1)*D], c.W[v*D:(v+1)*D], D, "(unchanged)"); e != nil {
			return fmt.Errorf("%s %d: weights: %v", what, v, e)
		}
		if r1, r0 := st.Row1(v, D), c.St.Row1(v, D); suite.FirstDiff(r1, r0) >= 0 {
			return fmt.Errorf("%s %d: Momentum1 changed: %v, was %v", what, v, r1, r0)
		}
		if r2, r0 := st.Row2(v, D), c.St.Row2(v, D); suite.FirstDiff(r2, r0) >= 0 {
			return fmt.Errorf("%s %d: Momentum2 changed: %v, was %v", what, v, r2, r0)
		}
	}
	return nil
}

func sameStep(a, b []float32, sa, sb optim.State, D int, what string) error {
	if e := suite.SameBits(a, b, D, what); e != nil {
		return fmt.Errorf("weights: %v", e)
	}
	if e := suite.SameBits(sa.Momentum1, sb.Momentum1, 1, what); e != nil {
		return fmt.Errorf("Momentum1: %v", e)
	}
	if e := suite.SameBits(sa.Momentum2, sb.Momentum2, D, what); e != nil {
		return fmt.Errorf("Momentum2: %v", e)
	}
	if sa.Step != sb.Step {
		return fmt.Errorf("Step = %d, want %d %s", sa.Step, sb.Step, what)
	}
	return nil
}

func stepWorkers(k stepKernel, c stepCase) error {
	w0, st0, err := k.call(c)
	if err != nil {
		return err
	}
	w1, st1, err := k.call(c)
	if err != nil {
		return err
	}
	if err := sameStep(w1, w0, st1, st0, c.D, "(the first call's)"); err != nil {
		return fmt.Errorf("a repeated call differs: %v", err)
	}
	ref, ok := k.withWorkers(1)
	if !ok {
		return nil
	}
	wr, sr, err := ref.call(c)
	if err != nil {
		return err
	}
	for _, n := range []int{2, 3, 5} {
		kn, _ := k.withWorkers(n)
		wn, sn, err := kn.call(c)
		if err != nil {
			return err
		}
		if err := sameStep(wn, wr, sn, sr, c.D, "(1 worker's)"); err != nil {
			return fmt.Errorf("%d workers: %v", n, err)
		}
	}
	return nil
}

func stepSparseThenStep(k stepKernel, c stepCase) error {
	w, st, err := k.call(c)
	if err != nil {
		return err
	}
	rows, vals := suite.Coalesce(c.V, c.D, c.IDs, c.GradOut, c.Opt)
	want, ws := slices.Clone(c.W), suite.CloneState(c.St)
	r := c.O.Rule(ws.Step + 1)
	D := c.D
	for u, row := range rows {
		v := int(row)
		r.Update(want[v*D:(v+1)*D], ws.Row1(v, D), ws.Row2(v, D), vals[u*D:(u+1)*D])
	}
	ws.Step++
	return sameStep(w, want, st, ws, D, "(coalesced gradient, then Rule.Update)")
}
