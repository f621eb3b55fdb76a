package gradcheck

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/optim"
	"github.com/embgrad/embgrad/reference"
)

// StepChecks returns the optimizer-step suite for a Stepper (the step from
// a coalesced sparse gradient, fed suite.Coalesce of each case), and
// FusedChecks the same for a Fused kernel:
//
//   - step/reference: over the oracle matrix, each case with one of
//     suite.Optimizers and a drawn state, weights and state of touched rows
//     within reference.Step's bound, untouched rows (padding included) and
//     their state bit for bit unchanged, Step incremented; guard bands and
//     read-only inputs through the guarded call;
//   - step/lr-zero: with lr = 0 no weight changes value (−0 may become
//     +0, as w − 0·g does for g < 0), for every optimizer;
//   - step/nonfinite: NaN in gradOut propagates (as reference.Step's NaN
//     wants say: the element for SGD and Adam, the whole row for Adagrad,
//     whose mean square is NaN), padding positions swallowing theirs;
//   - step/invalid-input: bad hyper-parameters (negative, NaN or infinite
//     lr, eps ≤ 0, β outside [0, 1), negative weight decay), mismatched
//     state sizes, bad rows or ids, buffers sharing memory: an error
//     wrapping embgrad.ErrInvalidInput, and w, the state and Step unchanged.
func StepChecks(k optim.Stepper) []NamedCheck {
	return stepChecks(stepSubject{name: k.Name(), step: k})
}

// FusedChecks is StepChecks for a Fused kernel.
func FusedChecks(k optim.Fused) []NamedCheck {
	return stepChecks(stepSubject{name: k.Name(), fused: k})
}

// TestStep runs StepChecks(k) as subtests of t.
func TestStep(t *testing.T, k optim.Stepper) { t.Helper(); suite.Test(t, StepChecks(k)) }

// TestFused runs FusedChecks(k) as subtests of t.
func TestFused(t *testing.T, k optim.Fused) { t.Helper(); suite.Test(t, FusedChecks(k)) }

// RunStep and RunFused run the checks with cfg, one result per check.
func RunStep(k optim.Stepper, cfg Config) []Result { return suite.Run(StepChecks(k), cfg) }

// RunFused is RunStep for a Fused kernel.
func RunFused(k optim.Fused, cfg Config) []Result { return suite.Run(FusedChecks(k), cfg) }

// CheckStep and CheckFused return every failure joined.
func CheckStep(k optim.Stepper, cfg Config) error { return suite.Join(RunStep(k, cfg)) }

// CheckFused is CheckStep for a Fused kernel.
func CheckFused(k optim.Fused, cfg Config) error { return suite.Join(RunFused(k, cfg)) }

// stepSubject is a kernel of either step form.
type stepSubject struct {
	name  string
	step  optim.Stepper
	fused optim.Fused
}

// call runs the subject on c through the guarded call.
func (s stepSubject) call(c *tcase, st optim.State, o optim.Optimizer) ([]float32, optim.State, error) {
	if s.fused != nil {
		return suite.Fused(s.fused, c.dst, st, c.V, c.D, c.ids, c.g, c.opt, o)
	}
	rows, vals := suite.Coalesce(c.V, c.D, c.ids, c.g, c.opt)
	return suite.Step(s.step, c.dst, st, c.V, c.D, rows, vals, len(rows), o)
}

// ref is the reference step for c.
func (s stepSubject) ref(c *tcase, st optim.State, o optim.Optimizer) (*reference.StepResult, error) {
	if s.fused != nil {
		return reference.StepFused(o, c.dst, st, c.V, c.D, c.ids, c.g, c.opt)
	}
	rows, vals := suite.Coalesce(c.V, c.D, c.ids, c.g, c.opt)
	return reference.StepSparse(o, c.dst, st, c.V, c.D, rows, vals, len(rows))
}

func stepChecks(s stepSubject) []NamedCheck {
	ck := func(name string, f func(stepSubject, Config, *report)) NamedCheck {
		return suite.NewCheck(name, s.name, func(cfg Config, r *report) { f(s, cfg, r) })
	}
	return []NamedCheck{
		ck("step/reference", stepReference),
		ck("step/lr-zero", stepLRZero),
		ck("step/nonfinite", stepNonfinite),
		ck("step/invalid-input", stepInvalid),
	}
}

// stepCase is a case with its optimizer, for failure messages.
type stepCase struct {
	*tcase
	o optim.Optimizer
}

func (c stepCase) String() string { return c.tcase.String() + " optim=" + suite.OptimizerString(c.o) }

func stepReference(s stepSubject, cfg Config, r *report) {
	opts := suite.Optimizers()
	for i, sp := range matrix() {
		if cfg.Short && !inShort(i) {
			continue
		}
		sp.fill = dstRandom
		rng := cfg.Stream("step/reference", i)
		c, ok := build(rng, sp)
		if !ok {
			continue
		}
		o := opts[i%len(opts)]
		st := suite.DrawState(rng, o, c.V, c.D)
		r.Try(stepCase{c, o}, func() error {
			want, err := s.ref(c, st, o)
			if err != nil {
				return fmt.Errorf("gradcheck bug: the reference rejected the case: %v", err)
			}
			w, st2, err := s.call(c, suite.CloneState(st), o)
			if err != nil {
				return suite.Accepted(err)
			}
			return want.Check(w, st2)
		})
	}
}

// withLR returns o with learning rate 0.
func withLR0(o optim.Optimizer) optim.Optimizer {
	switch o := o.(type) {
	case optim.SGD:
		o.LR = 0
		return o
	case optim.Adagrad:
		o.LR = 0
		return o
	case optim.Adam:
		o.LR = 0
		return o
	}
	return o
}

func stepLRZero(s stepSubject, cfg Config, r *report) {
	for i, o := range suite.Optimizers() {
		for n, D := range []int{1, 7, 33} {
			rng := cfg.Stream("step/lr-zero", i*3+n)
			c, _ := build(rng, spec{V: 30, D: D, N: 80, dist: zipf, pad: padHit, scale: n == 1, fill: dstRandom})
			o := withLR0(o)
			st := suite.DrawState(rng, o, c.V, c.D)
			r.Try(stepCase{c, o}, func() error {
				w, _, err := s.call(c, st, o)
				if err != nil {
					return suite.Accepted(err)
				}
				for k, x := range w {
					if x != c.dst[k] { // by value: w − 0·g turns −0 into +0 when g < 0
						return fmt.Errorf("row %d col %d: got %v, want %v unchanged (lr = 0)", k/c.D, k%c.D, x, c.dst[k])
					}
				}
				return nil
			})
		}
	}
}

func stepNonfinite(s stepSubject, cfg Config, r *report) {
	for i, o := range suite.Optimizers() {
		for n, D := range []int{1, 5, 17} {
			rng := cfg.Stream("step/nonfinite", i*3+n)
			c, _ := build(rng, spec{V: 20, D: D, N: 50, dist: zipf, pad: padHit, scale: n == 2, fill: dstRandom})
			for k := 0; k < len(c.g)/10+1; k++ {
				c.g[rng.IntN(len(c.g))] = float32(math.NaN())
			}
			st := suite.DrawState(rng, o, c.V, c.D)
			r.Try(stepCase{c, o}, func() error {
				want, err := s.ref(c, st, o)
				if err != nil {
					return fmt.Errorf("gradcheck bug: the reference rejected the case: %v", err)
				}
				w, st2, err := s.call(c, suite.CloneState(st), o)
				if err != nil {
					return suite.Accepted(err)
				}
				return want.Check(w, st2)
			})
		}
	}
}

// stepBad is an invalid step call: what to change in a valid one.
type stepBad struct {
	name string
	o    optim.Optimizer
	edit func(b *badCall)
	form string // "" both forms, "step" or "fused" only
}

func (c stepBad) String() string { return c.name }

// badCall is a step call's arguments, in memory the case may lay out
// overlapping.
type badCall struct {
	V, D      int
	w         []float32
	st        optim.State
	ids, rows []int32
	g, values []float32
	U         int
	opt       embgrad.Options
}

func stepInvalid(s stepSubject, cfg Config, r *report) {
	sgd, ada, adam := optim.SGD{LR: 0.1}, optim.Adagrad{LR: 0.1, Eps: 1e-8}, optim.Adam{LR: 0.1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	none := func(*badCall) {}
	cases := []stepBad{
		{name: "sgd lr < 0", o: optim.SGD{LR: -1}, edit: none},
		{name: "sgd lr NaN", o: optim.SGD{LR: nan}, edit: none},
		{name: "sgd lr +Inf", o: optim.SGD{LR: inf}, edit: none},
		{name: "sgd weight decay < 0", o: optim.SGD{LR: 1, WeightDecay: -0.5}, edit: none},
		{name: "sgd with state", o: sgd, edit: func(b *badCall) { b.st.Momentum1 = make([]float32, b.V) }},
		{name: "adagrad eps = 0", o: optim.Adagrad{LR: 1}, edit: none},
		{name: "adagrad eps < 0", o: optim.Adagrad{LR: 1, Eps: -1e-8}, edit: none},
		{name: "adagrad eps NaN", o: optim.Adagrad{LR: 1, Eps: nan}, edit: none},
		{name: "adagrad lr NaN", o: optim.Adagrad{LR: nan, Eps: 1e-8}, edit: none},
		{name: "adagrad weight decay +Inf", o: optim.Adagrad{LR: 1, Eps: 1e-8, WeightDecay: inf}, edit: none},
		{name: "adagrad state len V-1", o: ada, edit: func(b *badCall) { b.st.Momentum1 = b.st.Momentum1[:b.V-1] }},
		{name: "adagrad state len V*D", o: ada, edit: func(b *badCall) { b.st.Momentum1 = make([]float32, b.V*b.D) }},
		{name: "adam beta1 = 1", o: optim.Adam{LR: 1, Beta1: 1, Beta2: 0.9, Eps: 1e-8}, edit: none},
		{name: "adam beta2 < 0", o: optim.Adam{LR: 1, Beta1: 0.9, Beta2: -0.1, Eps: 1e-8}, edit: none},
		{name: "adam beta1 NaN", o: optim.Adam{LR: 1, Beta1: nan, Beta2: 0.9, Eps: 1e-8}, edit: none},
		{name: "adam eps = 0", o: optim.Adam{LR: 1, Beta1: 0.9, Beta2: 0.9}, edit: none},
		{name: "adam lr < 0", o: optim.Adam{LR: -0.1, Beta1: 0.9, Beta2: 0.9, Eps: 1e-8}, edit: none},
		{name: "adam second moment short", o: adam, edit: func(b *badCall) { b.st.Momentum2 = b.st.Momentum2[1:] }},
		{name: "adam negative step", o: adam, edit: func(b *badCall) { b.st.Step = -1 }},
		{name: "adam moments share memory", o: adam, edit: func(b *badCall) { b.st.Momentum2 = b.st.Momentum1 }},
		{name: "w overlaps state", o: ada, edit: func(b *badCall) {
			buf := make([]float32, len(b.w)+b.V-1)
			copy(buf, b.w)
			copy(buf[len(b.w)-1:], b.st.Momentum1)
			b.w, b.st.Momentum1 = buf[:len(b.w)], buf[len(b.w)-1:]
		}},
		{name: "short w", o: sgd, edit: func(b *badCall) { b.w = b.w[1:] }},
		{name: "nil optimizer", o: nil, edit: none},
		{name: "id = V", o: ada, form: "fused", edit: func(b *badCall) { b.ids[1] = int32(b.V) }},
		{name: "padding = V", o: ada, form: "fused", edit: func(b *badCall) { b.opt = b.opt.WithPadding(int32(b.V)) }},
		{name: "short gradOut", o: adam, form: "fused", edit: func(b *badCall) { b.g = b.g[1:] }},
		{name: "w overlaps gradOut", o: sgd, form: "fused", edit: func(b *badCall) {
			buf := append(slices.Clone(b.w), b.g[1:]...)
			b.w, b.g = buf[:len(b.w)], buf[len(b.w)-1:]
		}},
		{name: "rows descending", o: ada, form: "step", edit: func(b *badCall) { b.rows[0], b.rows[1] = b.rows[1], b.rows[0] }},
		{name: "row = V", o: adam, form: "step", edit: func(b *badCall) { b.rows[b.U-1] = int32(b.V) }},
		{name: "U > len(rows)", o: sgd, form: "step", edit: func(b *badCall) { b.U = len(b.rows) + 1 }},
		{name: "values too short", o: sgd, form: "step", edit: func(b *badCall) { b.values = b.values[:len(b.values)-1] }},
		{name: "w overlaps values", o: sgd, form: "step", edit: func(b *badCall) {
			buf := append(slices.Clone(b.w), b.values[1:]...)
			b.w, b.values = buf[:len(b.w)], buf[len(b.w)-1:]
		}},
	}
	for i, bc := range cases {
		form := "step"
		if s.fused != nil {
			form = "fused"
		}
		if bc.form != "" && bc.form != form {
			continue
		}
		r.Try(bc, func() error { return stepInvalidOne(s, bc, cfg, i) })
	}
}

func stepInvalidOne(s stepSubject, bc stepBad, cfg Config, i int) error {
	rng := cfg.Stream("step/invalid-input", i)
	c, _ := build(rng, spec{V: 12, D: 5, N: 20, dist: uniform, fill: dstRandom})
	o := bc.o
	if o == nil {
		o = optim.SGD{}
	}
	b := &badCall{V: c.V, D: c.D, w: c.dst, st: suite.DrawState(rng, o, c.V, c.D), ids: c.ids, g: c.g, opt: c.opt}
	b.rows, b.values = suite.Coalesce(c.V, c.D, c.ids, c.g, c.opt)
	b.U = len(b.rows)
	bc.edit(b)
	w0, st0 := slices.Clone(b.w), suite.CloneState(b.st)
	st := b.st
	err := suite.Protect(func() error {
		if s.fused != nil {
			return s.fused.Fused(b.w, &st, b.V, b.D, b.ids, b.g, b.opt, bc.o)
		}
		return s.step.Step(b.w, &st, b.V, b.D, b.rows, b.values, b.U, bc.o)
	})
	switch {
	case suite.IsViolation(err, suite.Panicked):
		return err
	case err == nil:
		return errors.New("accepted invalid input")
	case !errors.Is(err, embgrad.ErrInvalidInput):
		return fmt.Errorf("error %q does not wrap ErrInvalidInput", err)
	}
	if st.Step != st0.Step {
		return fmt.Errorf("rejected the input (%v) but changed Step from %d to %d", err, st0.Step, st.Step)
	}
	for _, x := range []struct {
		name      string
		got, want []float32
	}{{"w", b.w, w0}, {"Momentum1", st.Momentum1, st0.Momentum1}, {"Momentum2", st.Momentum2, st0.Momentum2}} {
		if e := suite.SameBits(x.got, x.want, 1, "(unchanged)"); e != nil {
			return fmt.Errorf("rejected the input (%v) but changed %s: %v", err, x.name, e)
		}
	}
	return nil
}
