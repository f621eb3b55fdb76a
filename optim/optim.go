// Package optim is the optimizer step for an embedding table: SGD, exact
// row-wise Adagrad (as FBGEMM defines it) and lazy Adam (as
// torch.optim.SparseAdam), applied to the rows a batch touches and to no
// other row.
//
// # The contract
//
// A step reads a V×D float32 table w, the optimizer's State and a gradient,
// and updates in place the touched rows of w and their state. It comes in
// two forms:
//
//   - Stepper: from a coalesced sparse gradient (rows[:U] strictly
//     ascending, values[:U*D]), as an embgrad.SparseKernel writes it;
//   - Fused: from ids and gradOut directly, each touched row's
//     contributions reduced and the row updated at once, with no gradient
//     buffer. Padding and ScaleGradByFreq follow embgrad.Options as in the
//     SparseKernel loop.
//
// Both implement exactly this loop (g the row's gradient, for Fused the
// SparseKernel sum of the row's scaled gradOut rows, in any order):
//
//	r := o.Rule(st.Step + 1)           // per-step scalars: Adam's step size
//	for u := 0; u < U; u++ {           // Fused: each distinct non-padding id
//		v := rows[u]
//		r.Update(w[v*D:(v+1)*D], st.Row1(v, D), st.Row2(v, D), g_v)
//	}
//	st.Step++
//
// and Rule.Update is the one definition of each optimizer's arithmetic
// (see SGD, Adagrad, Adam). Rows not in rows (Fused: not named, or
// padding) and their state are bit-for-bit unchanged, whatever the
// optimizer: the step is lazy, as torch's SparseAdam and FBGEMM's
// row-wise Adagrad are (a dense Adam would decay every row's moments).
//
// The rules of embgrad's kernels hold: validation before the first write
// (ValidateStep, ValidateFused: hyper-parameters finite and in range,
// state sized for the optimizer, rows or ids valid, no buffer sharing
// memory with another), and on error w, the state and Step are unchanged;
// inputs are read-only; NaN and ±Inf in a gradient propagate; a kernel is
// deterministic, bitwise identical for every worker count. A Stepper has no
// summation freedom, so every correct one gives Update's bits; a Fused
// kernel may sum a row's contributions in any order, and one that sums in
// position order (as impl/sparse) gives the bits of that sparse kernel
// followed by a Stepper.
//
// The float64 reference step and its error bound are reference.Step; the
// checks are gradcheck.TestStep/TestFused and property.TestStep/TestFused;
// the kernels are impl/step (the sparse-gradient form) and impl/fused,
// both serial and parallel: they live under impl/ because parallel kernels
// use impl/internal/team, which Go's internal rule keeps from this package.
package optim

import (
	"fmt"
	"math"

	"github.com/embgrad/embgrad"
)

// State is an optimizer's state for one table. Which fields an optimizer
// uses, and their lengths, is its own (ValidateStep checks them):
//
//   - SGD: none (both slices empty, Step ignored);
//   - Adagrad: Momentum1, one float32 per row (len V): Σ of the row's mean
//     squared gradients;
//   - Adam: Momentum1 and Momentum2, V×D each (the first and second
//     moments), and Step, the global step count used for bias correction.
type State struct {
	Momentum1 []float32
	Momentum2 []float32
	Step      int64 // steps taken; a step uses Step+1 and then increments it
}

// Row1 is row v's part of Momentum1 (empty when unused): D elements for
// Adam, one for Adagrad.
func (s *State) Row1(v, D int) []float32 {
	switch {
	case len(s.Momentum1) == 0:
		return nil
	case len(s.Momentum2) == 0: // Adagrad: one per row
		return s.Momentum1[v : v+1]
	}
	return s.Momentum1[v*D : (v+1)*D]
}

// Row2 is row v's part of Momentum2 (empty when unused).
func (s *State) Row2(v, D int) []float32 {
	if len(s.Momentum2) == 0 {
		return nil
	}
	return s.Momentum2[v*D : (v+1)*D]
}

// Optimizer is one of SGD, Adagrad, Adam with its hyper-parameters.
type Optimizer interface {
	// Name is "sgd", "adagrad" or "adam", as in benchmark names.
	Name() string
	// Check validates the hyper-parameters and the state's sizes for a
	// V×D table, and returns an error wrapping embgrad.ErrInvalidInput.
	Check(st *State, V, D int) error
	// Rule returns the step's arithmetic for step number t (≥ 1).
	Rule(t int64) Rule
	// NewState returns a zero state for a V×D table.
	NewState(V, D int) State
}

// Stepper applies an optimizer step from a coalesced sparse gradient.
type Stepper interface {
	Name() string
	// Step updates w's rows rows[:U] and their state with the gradient
	// values[:U*D], and increments st.Step. On error nothing changes.
	Step(w []float32, st *State, V, D int, rows []int32, values []float32, U int, o Optimizer) error
}

// Fused applies an optimizer step from ids and gradOut, reducing each
// touched row's contributions and updating it at once.
type Fused interface {
	Name() string
	// Fused updates the rows ids name (padding skipped) and their state
	// with the gradient of gradOut (len(ids)×D), and increments st.Step.
	// On error nothing changes.
	Fused(w []float32, st *State, V, D int, ids []int32, gradOut []float32, opt embgrad.Options, o Optimizer) error
}

// ParallelStepper and ParallelFused are kernels with a configurable number
// of workers (n ≥ 1); the suites check every count gives the same bits.
type (
	ParallelStepper interface{ WithWorkers(n int) Stepper }
	ParallelFused   interface{ WithWorkers(n int) Fused }
)

// SGD is w −= lr·(g + wd·w), per element of a touched row:
//
//	d := g[j]; if WeightDecay != 0 { d = g[j] + float32(wd*w[j]) }
//	w[j] = w[j] - float32(lr*d)
//
// torch.optim.SGD's update without momentum, the weight decay applied to
// touched rows only (torch's SGD refuses weight decay on a sparse gradient).
type SGD struct {
	LR          float32 // ≥ 0, finite
	WeightDecay float32 // ≥ 0, finite; 0 = none
}

// Adagrad is exact row-wise Adagrad as FBGEMM defines it (its
// rowwise_adagrad optimizer, weight_decay_mode 0, 1 = L2, 2 = decoupled):
// one float32 state G per row, and for a touched row
//
//	s := float32(0)
//	for j { x := g[j]; if L2 { x = g[j] + float32(wd*w[j]) }; s += float32(x*x) }
//	G += s / float32(D)                    // the mean, j ascending
//	m := lr / (sqrt(G) + eps)              // float32 ops, sqrt correctly rounded
//	c := 1; L2: c = 1 - float32(m*wd); decoupled: c = 1 - float32(lr*wd)
//	w[j] = float32(c*w[j]) - float32(g[j]*m)
//
// With D = 0 a row has no elements and nothing changes.
type Adagrad struct {
	LR          float32 // ≥ 0, finite
	Eps         float32 // > 0, finite
	WeightDecay float32 // ≥ 0, finite; 0 = none
	Decoupled   bool    // weight decay decoupled (FBGEMM mode 2) rather than L2 (mode 1)
}

// Adam is lazy Adam with torch.optim.SparseAdam's arithmetic (float32
// tensor ops, step size in float64): for step t and a touched row,
//
//	ss := float32(-(lr·sqrt(1−β2^t)/(1−β1^t)))   // float64, then rounded
//	a, b := float32(1−float64(β1)), float32(1−float64(β2))
//	mu := float32((g[j]-m[j])*a);  m[j] += mu
//	vu := float32((float32(g[j]*g[j])-v[j])*b);  v[j] += vu
//	w[j] += float32(ss * (m[j] / (sqrt(v[j]) + eps)))
//
// Moments of untouched rows are not decayed, and t is the global step
// count (State.Step+1), not a per-row one, as in SparseAdam.
type Adam struct {
	LR           float32 // ≥ 0, finite
	Beta1, Beta2 float32 // in [0, 1)
	Eps          float32 // > 0, finite
}

func (SGD) Name() string     { return "sgd" }
func (Adagrad) Name() string { return "adagrad" }
func (Adam) Name() string    { return "adam" }

func (SGD) NewState(V, D int) State { return State{} }
func (Adagrad) NewState(V, D int) State {
	return State{Momentum1: make([]float32, V)}
}
func (Adam) NewState(V, D int) State {
	return State{Momentum1: make([]float32, V*D), Momentum2: make([]float32, V*D)}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: optim: "+format, append([]any{embgrad.ErrInvalidInput}, args...)...)
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// nonNeg checks x ≥ 0 and finite (NaN fails, as do ±Inf).
func nonNeg(opt, name string, x float32) error {
	if !finite(x) || x < 0 {
		return invalid("%s: %s = %v, want a finite value ≥ 0", opt, name, x)
	}
	return nil
}

func positive(opt, name string, x float32) error {
	if !finite(x) || x <= 0 {
		return invalid("%s: %s = %v, want a finite value > 0", opt, name, x)
	}
	return nil
}

func beta(name string, x float32) error {
	if !(x >= 0 && x < 1) {
		return invalid("adam: %s = %v, want a value in [0, 1)", name, x)
	}
	return nil
}

// stateLens checks the state's lengths against what the optimizer needs.
func stateLens(opt string, st *State, m1, m2 int) error {
	if st == nil {
		return invalid("%s: nil state", opt)
	}
	if len(st.Momentum1) != m1 {
		return invalid("%s: len(Momentum1) = %d, want %d", opt, len(st.Momentum1), m1)
	}
	if len(st.Momentum2) != m2 {
		return invalid("%s: len(Momentum2) = %d, want %d", opt, len(st.Momentum2), m2)
	}
	return nil
}

// Check implements Optimizer.
func (o SGD) Check(st *State, V, D int) error {
	if err := nonNeg("sgd", "LR", o.LR); err != nil {
		return err
	}
	if err := nonNeg("sgd", "WeightDecay", o.WeightDecay); err != nil {
		return err
	}
	return stateLens("sgd", st, 0, 0)
}

// Check implements Optimizer.
func (o Adagrad) Check(st *State, V, D int) error {
	for _, e := range []error{nonNeg("adagrad", "LR", o.LR), positive("adagrad", "Eps", o.Eps), nonNeg("adagrad", "WeightDecay", o.WeightDecay)} {
		if e != nil {
			return e
		}
	}
	return stateLens("adagrad", st, V, 0)
}

// Check implements Optimizer.
func (o Adam) Check(st *State, V, D int) error {
	for _, e := range []error{nonNeg("adam", "LR", o.LR), beta("Beta1", o.Beta1), beta("Beta2", o.Beta2), positive("adam", "Eps", o.Eps)} {
		if e != nil {
			return e
		}
	}
	if err := stateLens("adam", st, V*D, V*D); err != nil {
		return err
	}
	if st.Step < 0 || st.Step == math.MaxInt64 {
		return invalid("adam: Step = %d, want a count in [0, MaxInt64)", st.Step)
	}
	return nil
}

// Rule is one step's arithmetic, its per-step scalars computed once.
type Rule struct {
	kind         uint8 // kindSGD, kindAdagrad, kindAdam
	lr, wd, eps  float32
	decoupled    bool
	ss, oma, omb float32 // Adam: −step size, 1−β1, 1−β2
}

const (
	kindSGD = iota + 1
	kindAdagrad
	kindAdam
)

// Rule implements Optimizer.
func (o SGD) Rule(int64) Rule { return Rule{kind: kindSGD, lr: o.LR, wd: o.WeightDecay} }

// Rule implements Optimizer.
func (o Adagrad) Rule(int64) Rule {
	return Rule{kind: kindAdagrad, lr: o.LR, wd: o.WeightDecay, eps: o.Eps, decoupled: o.Decoupled}
}

// Rule implements Optimizer.
func (o Adam) Rule(t int64) Rule {
	b1, b2 := float64(o.Beta1), float64(o.Beta2)
	bc1 := 1 - math.Pow(b1, float64(t))
	bc2 := 1 - math.Pow(b2, float64(t))
	return Rule{kind: kindAdam, eps: o.Eps,
		ss:  float32(-(float64(o.LR) * math.Sqrt(bc2) / bc1)),
		oma: float32(1 - b1), omb: float32(1 - b2)}
}

// Params is a rule's per-step scalars, for kernels that run Update's loops
// with loops of their own (vector ones: impl/internal/rowstep). Such a
// kernel must give Update's bits; rowstep's tests check it does.
type Params struct {
	Name                 string // "sgd", "adagrad" or "adam"
	LR, WeightDecay, Eps float32
	Decoupled            bool    // Adagrad: decoupled weight decay
	StepSize             float32 // Adam: ss, the negated step size of step t
	OneMinusBeta1        float32 // Adam: float32(1−β1)
	OneMinusBeta2        float32 // Adam: float32(1−β2)
}

// Params returns r's scalars.
func (r *Rule) Params() Params {
	var name string
	switch r.kind {
	case kindSGD:
		name = "sgd"
	case kindAdagrad:
		name = "adagrad"
	case kindAdam:
		name = "adam"
	}
	return Params{Name: name, LR: r.lr, WeightDecay: r.wd, Eps: r.eps, Decoupled: r.decoupled,
		StepSize: r.ss, OneMinusBeta1: r.oma, OneMinusBeta2: r.omb}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) } // correctly rounded: float64 has > 2·24+2 bits

// Update applies the rule to one touched row: w and g have D elements;
// m1 and m2 are the row's state (State.Row1, Row2).
func (r *Rule) Update(w, m1, m2, g []float32) {
	g = g[:len(w)]
	switch r.kind {
	case kindSGD:
		lr, wd := r.lr, r.wd
		if wd == 0 {
			for j, x := range g {
				w[j] = w[j] - float32(lr*x)
			}
			return
		}
		for j, x := range g {
			d := x + float32(wd*w[j])
			w[j] = w[j] - float32(lr*d)
		}
	case kindAdagrad:
		if len(w) == 0 {
			return
		}
		l2 := r.wd != 0 && !r.decoupled
		s := float32(0)
		for j, x := range g {
			if l2 {
				x = x + float32(r.wd*w[j])
			}
			s += float32(x * x)
		}
		G := m1[0] + s/float32(len(w))
		m1[0] = G
		m := r.lr / (sqrt32(G) + r.eps)
		c := float32(1)
		switch {
		case r.wd == 0:
		case r.decoupled:
			c = 1 - float32(r.lr*r.wd)
		default:
			c = 1 - float32(m*r.wd)
		}
		for j, x := range g {
			w[j] = float32(c*w[j]) - float32(x*m)
		}
	case kindAdam:
		m1, m2 = m1[:len(w)], m2[:len(w)]
		for j, x := range g {
			mu := float32((x - m1[j]) * r.oma)
			mj := m1[j] + mu
			m1[j] = mj
			vu := float32((float32(x*x) - m2[j]) * r.omb)
			vj := m2[j] + vu
			m2[j] = vj
			w[j] = w[j] + float32(r.ss*float32(mj/(sqrt32(vj)+r.eps)))
		}
	}
}
