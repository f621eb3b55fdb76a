package reference

import (
	"fmt"
	"math"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/optim"
)

// StepResult is the float64 reference step's answer: the weights and state
// a correct optim kernel leaves, each element with the bound its float32
// result must meet. Untouched rows have bound 0 (bit-for-bit unchanged).
//
// The bound is a running error analysis of the float32 arithmetic that
// optim's doc defines for each optimizer: every value is carried as (x, e)
// with e a bound on |float32 result − exact x|, each float32 operation
// adding u·(|x| + e) (u = 2⁻²⁴) and 2⁻¹⁴⁹ for underflow, the errors of its
// operands propagated exactly to first and second order (a square root and
// a quotient through the interval of their operands). The input gradient's
// error is 0 for a sparse-gradient step (its values are what it gets) and
// the dense bound (Result.Bound) for a fused one, which sums the row
// itself. Rounded hyper-parameters (1−β in float32, Adam's step size) enter
// as values with a relative error of u. The bound so holds for every
// correct summation order, and is a few u relative to the step's terms:
// far below what a wrong formula (a sum for a mean, a missed weight decay,
// a per-row step count) changes.
type StepResult struct {
	V, D         int
	Touched      []bool // per row
	Step         int64  // the state's Step after the call
	W0           []float32
	M10          []float32
	M20          []float32
	W, M1, M2    []float64 // what a correct kernel leaves (exact arithmetic)
	WB, M1B, M2B []float64 // the allowed |got − want|
}

// StepSparse is the reference for a Stepper call: values[:U*D] are taken as
// exact. It validates with optim.ValidateStep.
func StepSparse(o optim.Optimizer, w []float32, st optim.State, V, D int, rows []int32, values []float32, U int) (*StepResult, error) {
	if err := optim.ValidateStep(w, &st, V, D, rows, values, U, o); err != nil {
		return nil, err
	}
	g := make([]float64, V*D)
	for u, r := range rows[:U] {
		for j := 0; j < D; j++ {
			g[int(r)*D+j] = float64(values[u*D+j])
		}
	}
	return step(o, w, st, V, D, rows[:U], g, make([]float64, V*D))
}

// StepFused is the reference for a Fused call: the dense float64 backward
// (Oracle on a zero table), then the step restricted to the touched rows,
// each gradient element with the dense bound. It validates with
// optim.ValidateFused.
func StepFused(o optim.Optimizer, w []float32, st optim.State, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) (*StepResult, error) {
	if err := optim.ValidateFused(w, &st, V, D, ids, gradOut, opt, o); err != nil {
		return nil, err
	}
	sr, err := SparseOracle(V, D, ids, gradOut, opt)
	if err != nil {
		return nil, err
	}
	ge := make([]float64, V*D)
	for k := range ge {
		ge[k] = sr.Dense.Bound(k)
	}
	return step(o, w, st, V, D, sr.Rows, sr.Dense.Want, ge)
}

// ev is a value and a bound on the error of its float32 computation.
type ev struct{ x, e float64 }

const tiny = 0x1p-149

// round is one float32 operation's result. Past float32's range the
// float32 computation may have overflowed to ±Inf where the float64 one
// has not (and then gone on to 0, NaN or anything), so nothing is known of
// it: the bound is +Inf. A NaN bound (an infinite one times 0) is +Inf too.
func round(x, e float64) ev {
	e += U*(math.Abs(x)+e) + tiny
	if !(math.Abs(x)+e <= math.MaxFloat32) {
		e = math.Inf(1)
	}
	return ev{x, e}
}

func exact(x float32) ev { return ev{float64(x), 0} }

func add(a, b ev) ev { return round(a.x+b.x, a.e+b.e) }
func sub(a, b ev) ev { return round(a.x-b.x, a.e+b.e) }
func mul(a, b ev) ev {
	return round(a.x*b.x, math.Abs(a.x)*b.e+math.Abs(b.x)*a.e+a.e*b.e)
}
func div(a, b ev) ev {
	d := math.Abs(b.x) - b.e
	if d <= 0 {
		return ev{a.x / b.x, math.Inf(1)}
	}
	q := a.x / b.x
	return round(q, (math.Abs(q)*b.e+a.e)/d)
}
func sqrt(a ev) ev {
	s := math.Sqrt(a.x)
	hi := math.Sqrt(a.x + a.e)
	lo := math.Sqrt(math.Max(0, a.x-a.e))
	return round(s, math.Max(hi-s, s-lo))
}

func step(o optim.Optimizer, w []float32, st optim.State, V, D int, rows []int32, g, ge []float64) (*StepResult, error) {
	r := &StepResult{V: V, D: D, Touched: make([]bool, V), Step: st.Step + 1,
		W0: slices.Clone(w), M10: slices.Clone(st.Momentum1), M20: slices.Clone(st.Momentum2)}
	f64 := func(x []float32) []float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = float64(v)
		}
		return y
	}
	r.W, r.M1, r.M2 = f64(w), f64(st.Momentum1), f64(st.Momentum2)
	r.WB, r.M1B, r.M2B = make([]float64, len(w)), make([]float64, len(st.Momentum1)), make([]float64, len(st.Momentum2))
	set := func(x []float64, b []float64, k int, v ev) { x[k], b[k] = v.x, v.e }
	for _, row := range rows {
		v := int(row)
		r.Touched[v] = true
		gv := func(j int) ev { return ev{g[v*D+j], ge[v*D+j]} }
		wv := func(j int) ev { return exact(w[v*D+j]) }
		switch o := o.(type) {
		case optim.SGD:
			lr, wd := exact(o.LR), exact(o.WeightDecay)
			for j := 0; j < D; j++ {
				d := gv(j)
				if o.WeightDecay != 0 {
					d = add(d, mul(wd, wv(j)))
				}
				set(r.W, r.WB, v*D+j, sub(wv(j), mul(lr, d)))
			}
		case optim.Adagrad:
			if D == 0 {
				continue
			}
			lr, wd, eps := exact(o.LR), exact(o.WeightDecay), exact(o.Eps)
			l2 := o.WeightDecay != 0 && !o.Decoupled
			s := ev{}
			for j := 0; j < D; j++ {
				x := gv(j)
				if l2 {
					x = add(x, mul(wd, wv(j)))
				}
				s = add(s, mul(x, x))
			}
			G := add(exact(st.Momentum1[v]), div(s, ev{float64(D), 0}))
			set(r.M1, r.M1B, v, G)
			m := div(lr, add(sqrt(G), eps))
			c := ev{1, 0}
			switch {
			case o.WeightDecay == 0:
			case o.Decoupled:
				c = sub(c, mul(lr, wd))
			default:
				c = sub(c, mul(m, wd))
			}
			for j := 0; j < D; j++ {
				set(r.W, r.WB, v*D+j, sub(mul(c, wv(j)), mul(gv(j), m)))
			}
		case optim.Adam:
			t := float64(st.Step + 1)
			b1, b2 := float64(o.Beta1), float64(o.Beta2)
			ssx := -(float64(o.LR) * math.Sqrt(1-math.Pow(b2, t)) / (1 - math.Pow(b1, t)))
			ss := ev{ssx, 2 * U * math.Abs(ssx)}
			oma, omb := ev{1 - b1, U * (1 - b1)}, ev{1 - b2, U * (1 - b2)}
			eps := exact(o.Eps)
			for j := 0; j < D; j++ {
				k := v*D + j
				m, vv := exact(st.Momentum1[k]), exact(st.Momentum2[k])
				x := gv(j)
				m2 := add(m, mul(sub(x, m), oma))
				v2 := add(vv, mul(sub(mul(x, x), vv), omb))
				set(r.M1, r.M1B, k, m2)
				set(r.M2, r.M2B, k, v2)
				set(r.W, r.WB, k, add(wv(j), mul(ss, div(m2, add(sqrt(v2), eps)))))
			}
		default:
			return nil, fmt.Errorf("reference: unknown optimizer %T", o)
		}
	}
	return r, nil
}

// Check compares a kernel's weights and state after the call with the
// reference: untouched rows of w and their state bit for bit, touched ones
// within the bound, Step incremented. It returns nil or an error naming the
// buffer, row and column, got, want and bound.
func (r *StepResult) Check(w []float32, st optim.State) error {
	if st.Step != r.Step {
		return fmt.Errorf("Step = %d after the call, want %d", st.Step, r.Step)
	}
	D := r.D
	rowOf := map[string]func(k int) int{
		"w":         func(k int) int { return k / max(D, 1) },
		"Momentum1": func(k int) int { return k / max(D, 1) },
		"Momentum2": func(k int) int { return k / max(D, 1) },
	}
	if len(r.M2) == 0 { // Adagrad: one state per row
		rowOf["Momentum1"] = func(k int) int { return k }
	}
	for _, b := range []struct {
		name      string
		got, was  []float32
		want, bnd []float64
	}{
		{"w", w, r.W0, r.W, r.WB},
		{"Momentum1", st.Momentum1, r.M10, r.M1, r.M1B},
		{"Momentum2", st.Momentum2, r.M20, r.M2, r.M2B},
	} {
		if len(b.got) != len(b.was) {
			return fmt.Errorf("len(%s) = %d after the call, was %d", b.name, len(b.got), len(b.was))
		}
		for k, x := range b.got {
			row := rowOf[b.name](k)
			col := k % max(D, 1)
			if b.name == "Momentum1" && len(r.M2) == 0 {
				col = 0
			}
			if !r.Touched[row] {
				if math.Float32bits(x) != math.Float32bits(b.was[k]) {
					return fmt.Errorf("%s row %d col %d (untouched row): got %v, want %v unchanged", b.name, row, col, x, b.was[k])
				}
				continue
			}
			want, bound := b.want[k], b.bnd[k]
			if math.IsNaN(want) {
				if x == x {
					return fmt.Errorf("%s row %d col %d: got %v, want NaN", b.name, row, col, x)
				}
				continue
			}
			if d := math.Abs(float64(x) - want); !(d <= bound) && !math.IsInf(bound, 1) {
				return &StepMismatch{Buf: b.name, Row: row, Col: col, Got: x, Want: want, Bound: bound}
			}
		}
	}
	return nil
}

// StepMismatch is an element of a touched row outside the bound.
type StepMismatch struct {
	Buf      string
	Row, Col int
	Got      float32
	Want     float64
	Bound    float64
}

func (m *StepMismatch) Error() string {
	return fmt.Sprintf("%s row %d col %d: got %v, want %v, |diff| = %.3g > bound %.3g",
		m.Buf, m.Row, m.Col, m.Got, m.Want, math.Abs(float64(m.Got)-m.Want), m.Bound)
}
