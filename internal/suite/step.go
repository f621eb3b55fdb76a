package suite

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/optim"
)

// stepBufs makes guarded copies of w and the state's slices (outputs).
func stepBufs(w []float32, st optim.State) (bw, m1, m2 *Buf) {
	return Out("w", w), Out("Momentum1", st.Momentum1), Out("Momentum2", st.Momentum2)
}

// stepState is the state a guarded call hands a kernel, and what it
// returns after the call.
func stepState(m1, m2 *Buf, step int64) *optim.State {
	return &optim.State{Momentum1: m1.F32(), Momentum2: m2.F32(), Step: step}
}

// Step calls k.Step through Call on guarded copies of w and the state
// (outputs) and of rows and values (inputs), and returns w and the state
// after the call (also when k failed) and k's error or the violation.
func Step(k optim.Stepper, w []float32, st optim.State, V, D int, rows []int32, values []float32, U int, o optim.Optimizer) ([]float32, optim.State, error) {
	bw, m1, m2 := stepBufs(w, st)
	r, v := InIDs("rows", rows), In("values", values)
	s := stepState(m1, m2, st.Step)
	err := Call(func() error { return k.Step(bw.F32(), s, V, D, r.I32(), v.F32(), U, o) }, bw, m1, m2, r, v)
	return bw.F32(), optim.State{Momentum1: m1.F32(), Momentum2: m2.F32(), Step: s.Step}, err
}

// Fused calls k.Fused through Call on guarded copies of w and the state
// (outputs) and of ids and gradOut (inputs), and returns w and the state
// after the call (also when k failed) and k's error or the violation.
func Fused(k optim.Fused, w []float32, st optim.State, V, D int, ids []int32, gradOut []float32, opt embgrad.Options, o optim.Optimizer) ([]float32, optim.State, error) {
	bw, m1, m2 := stepBufs(w, st)
	in, g := InIDs("ids", ids), In("gradOut", gradOut)
	s := stepState(m1, m2, st.Step)
	err := Call(func() error { return k.Fused(bw.F32(), s, V, D, in.I32(), g.F32(), opt, o) }, bw, m1, m2, in, g)
	return bw.F32(), optim.State{Momentum1: m1.F32(), Momentum2: m2.F32(), Step: s.Step}, err
}

// Coalesce is embgrad.SparseKernel's reference loop in float32: the
// distinct non-padding ids ascending, each row the sum of its scaled
// gradOut rows in position order (product rounded once). It allocates; the
// step checks use it to feed a Stepper and to compose a sparse gradient
// with a step.
func Coalesce(V, D int, ids []int32, gradOut []float32, opt embgrad.Options) (rows []int32, values []float32) {
	count := make([]int, V)
	for _, id := range ids {
		if !opt.Skips(id) {
			count[id]++
		}
	}
	at := make([]int, V)
	rows = []int32{}
	for v, c := range count {
		if c > 0 {
			at[v] = len(rows)
			rows = append(rows, int32(v))
		}
	}
	values = make([]float32, len(rows)*D)
	for i, id := range ids {
		if opt.Skips(id) {
			continue
		}
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(count[id])
		}
		out := values[at[id]*D : (at[id]+1)*D]
		for j := range out {
			out[j] += float32(s * gradOut[i*D+j])
		}
	}
	return rows, values
}

// Optimizers are the optimizer settings the step checks run: each
// optimizer, with and without each kind of weight decay, at rates large
// enough that a wrong formula is far outside the reference's bound.
func Optimizers() []optim.Optimizer {
	return []optim.Optimizer{
		optim.SGD{LR: 0.5},
		optim.SGD{LR: 0.25, WeightDecay: 0.125},
		optim.Adagrad{LR: 0.5, Eps: 1e-6},
		optim.Adagrad{LR: 0.5, Eps: 1e-3, WeightDecay: 0.25},
		optim.Adagrad{LR: 0.5, Eps: 1e-6, WeightDecay: 0.25, Decoupled: true},
		optim.Adam{LR: 0.125, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		optim.Adam{LR: 0.5, Beta1: 0.5, Beta2: 0.75, Eps: 1e-3},
	}
}

// OptimizerString names an optimizer setting in a failure.
func OptimizerString(o optim.Optimizer) string { return fmt.Sprintf("%s%+v", o.Name(), o) }

// DrawState returns a state for o on a V×D table with values a previous
// run could have left: Adagrad sums ≥ 0, Adam moments (second ≥ 0) and a
// step count in [0, 20].
func DrawState(rng *rand.Rand, o optim.Optimizer, V, D int) optim.State {
	st := o.NewState(V, D)
	switch o.(type) {
	case optim.Adagrad:
		for k := range st.Momentum1 {
			st.Momentum1[k] = float32(math.Abs(float64(Value(rng, Normal))))
		}
	case optim.Adam:
		for k := range st.Momentum1 {
			x := Value(rng, Normal)
			st.Momentum1[k] = x / 4
			st.Momentum2[k] = float32(x * x)
		}
		st.Step = int64(rng.IntN(21))
	}
	return st
}

// CloneState returns a deep copy of st.
func CloneState(st optim.State) optim.State {
	return optim.State{Momentum1: slices.Clone(st.Momentum1), Momentum2: slices.Clone(st.Momentum2), Step: st.Step}
}
