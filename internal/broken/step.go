package broken

import (
	"math"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/optim"
)

// FaultyFused returns fused optimizer kernels that each break the contract
// in one way; Name says how.
func FaultyFused() []optim.Fused {
	return []optim.Fused{
		fusedLoop{name: "adagrad-sum-not-mean", f: stepFaults{sumNotMean: true}},
		fusedLoop{name: "adam-decays-untouched", f: stepFaults{decayUntouched: true}},
		fusedLoop{name: "adam-per-row-step", f: stepFaults{perRowStep: true}},
		fusedLoop{name: "updates-padding-row", keepPadding: true},
		fusedLoop{name: "ignores-weight-decay", f: stepFaults{noDecay: true}},
		fusedLoop{name: "decays-at-zero-lr", f: stepFaults{decayWithoutLR: true}},
		fusedLoop{name: "fused-writes-before-validating", f: stepFaults{validateLate: true}},
		fusedLoop{name: "order-depends-on-workers", workers: 1, reverseIfParallel: true},
		fusedLoop{name: "fused-skips-nan", skipNaN: true},
	}
}

// FaultySteppers returns sparse-gradient steps that each break the
// contract in one way.
func FaultySteppers() []optim.Stepper {
	return []optim.Stepper{
		stepLoop{name: "skips-last-row", skipLast: true},
		stepLoop{name: "step-adam-decays-untouched", f: stepFaults{decayUntouched: true}},
		stepLoop{name: "step-writes-before-validating", f: stepFaults{validateLate: true}},
		stepLoop{name: "adam-global-step-not-incremented", f: stepFaults{keepStep: true}},
		stepLoop{name: "step-writes-past-w", strayCap: true},
		stepLoop{name: "step-mutates-values", mutate: true},
	}
}

// ReorderedFused returns correct fused kernels that sum each row in
// another order than position order.
func ReorderedFused() []optim.Fused {
	return []optim.Fused{fusedLoop{name: "fused-reversed-sum", reverse: true}}
}

// ReorderedSteppers returns correct steps that visit the rows in another
// order.
func ReorderedSteppers() []optim.Stepper {
	return []optim.Stepper{stepLoop{name: "step-descending-rows", descending: true}}
}

type stepFaults struct {
	sumNotMean     bool // Adagrad: G += Σ g² rather than the mean
	decayUntouched bool // Adam: moments of untouched rows decayed as a dense Adam does
	perRowStep     bool // Adam: bias correction as if every row took its first step
	noDecay        bool // weight decay ignored
	decayWithoutLR bool // decoupled decay applied as w *= 1−wd, without lr
	validateLate   bool // the state is touched before validating
	keepStep       bool // Step not incremented
}

// fusedLoop is a fused step written plainly (coalesce with maps, then the
// step), with hooks for breaking it. It allocates freely.
type fusedLoop struct {
	name              string
	f                 stepFaults
	keepPadding       bool
	reverse           bool // each row summed from its last occurrence
	workers           int
	reverseIfParallel bool // reverse when WithWorkers(n > 1)
	skipNaN           bool // NaN terms left out of a row's sum
}

func (k fusedLoop) Name() string { return k.name }

func (k fusedLoop) WithWorkers(n int) optim.Fused { k.workers = n; return k }

func (k fusedLoop) Fused(w []float32, st *optim.State, V, D int, ids []int32, gradOut []float32, opt embgrad.Options, o optim.Optimizer) error {
	if k.f.validateLate {
		scribble(st)
	}
	if err := optim.ValidateFused(w, st, V, D, ids, gradOut, opt, o); err != nil {
		return err
	}
	skip := opt.Skips
	if k.keepPadding {
		skip = func(int32) bool { return false }
	}
	count := map[int32]int{}
	var rows []int32
	for _, id := range ids {
		if skip(id) {
			continue
		}
		if count[id] == 0 {
			rows = append(rows, id)
		}
		count[id]++
	}
	slices.Sort(rows)
	values := make([]float32, len(rows)*D)
	reverse := k.reverse || k.reverseIfParallel && k.workers > 1
	for u, row := range rows {
		s := float32(1)
		if opt.ScaleGradByFreq {
			s = 1 / float32(count[row])
		}
		out := values[u*D : (u+1)*D]
		for n := range ids {
			i := n
			if reverse {
				i = len(ids) - 1 - n
			}
			if ids[i] != row {
				continue
			}
			for j := range out {
				if x := gradOut[i*D+j]; !(k.skipNaN && x != x) {
					out[j] += float32(s * x)
				}
			}
		}
	}
	apply(k.f, w, st, V, D, rows, values, o)
	return nil
}

// stepLoop is a sparse-gradient step with hooks.
type stepLoop struct {
	name       string
	f          stepFaults
	skipLast   bool
	descending bool
	strayCap   bool // writes w one past its length, within its capacity
	mutate     bool // negates values[0] after the step
}

func (k stepLoop) Name() string { return k.name }

func (k stepLoop) Step(w []float32, st *optim.State, V, D int, rows []int32, values []float32, U int, o optim.Optimizer) error {
	if k.f.validateLate {
		scribble(st)
	}
	if err := optim.ValidateStep(w, st, V, D, rows, values, U, o); err != nil {
		return err
	}
	rows, values = rows[:U], values[:U*D]
	if k.skipLast && U > 0 {
		rows = rows[:U-1]
	}
	if k.descending {
		rs, vs := slices.Clone(rows), make([]float32, len(rows)*D)
		slices.Reverse(rs)
		for u := range rs {
			copy(vs[u*D:(u+1)*D], values[(len(rows)-1-u)*D:])
		}
		rows, values = rs, vs
	}
	apply(k.f, w, st, V, D, rows, values, o)
	if k.strayCap && cap(w) > len(w) {
		w[:len(w)+1][len(w)]++
	}
	if k.mutate && len(values) > 0 {
		values[0] = -values[0]
	}
	return nil
}

func scribble(st *optim.State) {
	if st != nil && len(st.Momentum1) > 0 {
		st.Momentum1[0] += 1
	}
}

// apply is optim's step written out again, with the faults' hooks.
func apply(f stepFaults, w []float32, st *optim.State, V, D int, rows []int32, values []float32, o optim.Optimizer) {
	t := st.Step + 1
	if !f.keepStep {
		st.Step++
	}
	if f.perRowStep {
		t = 1
	}
	touched := map[int32]bool{}
	for u, row := range rows {
		touched[row] = true
		v := int(row)
		wr, g := w[v*D:(v+1)*D], values[u*D:(u+1)*D]
		switch o := o.(type) {
		case optim.SGD:
			wd := o.WeightDecay
			if f.noDecay {
				wd = 0
			}
			for j, x := range g {
				if wd != 0 {
					x = x + float32(wd*wr[j])
				}
				wr[j] = wr[j] - float32(o.LR*x)
			}
		case optim.Adagrad:
			if D == 0 {
				continue
			}
			wd := o.WeightDecay
			if f.noDecay {
				wd = 0
			}
			l2 := wd != 0 && !o.Decoupled
			s := float32(0)
			for j, x := range g {
				if l2 {
					x = x + float32(wd*wr[j])
				}
				s += float32(x * x)
			}
			if !f.sumNotMean {
				s /= float32(D)
			}
			G := st.Momentum1[v] + s
			st.Momentum1[v] = G
			m := o.LR / (float32(math.Sqrt(float64(G))) + o.Eps)
			c := float32(1)
			switch {
			case wd == 0:
			case o.Decoupled && f.decayWithoutLR:
				c = 1 - wd
			case o.Decoupled:
				c = 1 - float32(o.LR*wd)
			default:
				c = 1 - float32(m*wd)
			}
			for j, x := range g {
				wr[j] = float32(c*wr[j]) - float32(x*m)
			}
		case optim.Adam:
			b1, b2 := float64(o.Beta1), float64(o.Beta2)
			ss := float32(-(float64(o.LR) * math.Sqrt(1-math.Pow(b2, float64(t))) / (1 - math.Pow(b1, float64(t)))))
			oma, omb := float32(1-b1), float32(1-b2)
			m1, m2 := st.Momentum1[v*D:(v+1)*D], st.Momentum2[v*D:(v+1)*D]
			for j, x := range g {
				mu := float32((x - m1[j]) * oma)
				mj := m1[j] + mu
				m1[j] = mj
				vu := float32((float32(x*x) - m2[j]) * omb)
				vj := m2[j] + vu
				m2[j] = vj
				wr[j] = wr[j] + float32(ss*float32(mj/(float32(math.Sqrt(float64(vj)))+o.Eps)))
			}
		}
	}
	if a, ok := o.(optim.Adam); ok && f.decayUntouched {
		for v := range V {
			if touched[int32(v)] {
				continue
			}
			for j := range D {
				st.Momentum1[v*D+j] *= a.Beta1
				st.Momentum2[v*D+j] *= a.Beta2
			}
		}
	}
}
