package reference_test

import (
	"math"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/optim"
	"github.com/embgrad/embgrad/reference"
)

// One row, from a zero state, in closed form: Adagrad's first step on a
// row of equal gradients g is −lr·g/(|g|+eps), Adam's first step
// −lr·g·√(1−β2)/((1−β1)·(√(1−β2)|g|+eps))·(1−β1) = ≈ −lr·sign(g).
func TestStepClosedForms(t *testing.T) {
	const V, D = 3, 4
	w := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	g := []float32{0.5, 0.5, 0.5, 0.5}
	rows := []int32{1}
	eps := float64(float32(1e-3))
	cases := []struct {
		o    optim.Optimizer
		want float64 // the change of each element of row 1
	}{
		{optim.SGD{LR: 0.25}, -0.125},
		{optim.SGD{LR: 0.25, WeightDecay: 0.5}, math.NaN()}, // per element: −lr·(g + wd·w)
		{optim.Adagrad{LR: 0.25, Eps: 1e-3}, -0.25 * 0.5 / (0.5 + eps)},
		{optim.Adam{LR: 0.25, Beta1: 0.5, Beta2: 0.75, Eps: 1e-3}, -0.25 * 0.5 / (0.5 + eps/math.Sqrt(0.25))},
	}
	for _, c := range cases {
		st := c.o.NewState(V, D)
		r, err := reference.StepSparse(c.o, w, st, V, D, rows, g, 1)
		if err != nil {
			t.Fatalf("%s: %v", c.o.Name(), err)
		}
		for j := range D {
			k := D + j
			want := c.want
			if math.IsNaN(want) {
				want = -0.25 * (0.5 + 0.5*float64(w[k]))
			}
			if got := r.W[k] - float64(w[k]); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s col %d: change %v, want %v", c.o.Name(), j, got, want)
			}
			if r.WB[k] <= 0 || r.WB[k] > 16*reference.U*(math.Abs(r.W[k])+1) {
				t.Errorf("%s col %d: bound %v is not a few u", c.o.Name(), j, r.WB[k])
			}
		}
		for v := range V {
			if v != 1 && (r.Touched[v] || r.WB[v*D] != 0) {
				t.Errorf("%s: row %d marked touched or bounded", c.o.Name(), v)
			}
		}
	}
}

// Check accepts the float32 step of optim itself, and rejects it moved by
// far more than the bound, an untouched element's sign flipped, or Step
// not incremented.
func TestStepCheck(t *testing.T) {
	const V, D = 5, 3
	ids := []int32{0, 3, 3, 1}
	gradOut := []float32{0.1, -0.2, 0.3, 1, 2, 3, -1, 0.5, 0.25, 4, -4, 2}
	w0 := []float32{1, -1, 2, -2, 3, -3, 0.5, -0.5, 0.25, -0.25, 4, -4, 7, -7, 0}
	o := optim.Adagrad{LR: 0.5, Eps: 1e-6, WeightDecay: 0.1}
	st0 := o.NewState(V, D)
	r, err := reference.StepFused(o, w0, st0, V, D, ids, gradOut, embgrad.Options{}.WithPadding(1))
	if err != nil {
		t.Fatal(err)
	}
	w := append([]float32(nil), w0...)
	st := optim.State{Momentum1: append([]float32(nil), st0.Momentum1...)}
	rule := o.Rule(1)
	// rows 0 and 3 (1 is padding): row 3's gradient is its two rows summed
	g3 := []float32{1 + -1, 2 + 0.5, 3 + 0.25}
	rule.Update(w[0:3], st.Row1(0, D), nil, gradOut[0:3])
	rule.Update(w[9:12], st.Row1(3, D), nil, g3)
	st.Step = 1
	if err := r.Check(w, st); err != nil {
		t.Fatalf("optim's own step rejected: %v", err)
	}
	bad := append([]float32(nil), w...)
	bad[10] += 1e-3
	if r.Check(bad, st) == nil {
		t.Error("a moved weight passed")
	}
	bad = append([]float32(nil), w...)
	bad[14] = float32(math.Copysign(0, -1))
	if r.Check(bad, st) == nil {
		t.Error("a changed untouched element passed")
	}
	if r.Check(w, optim.State{Momentum1: st.Momentum1}) == nil {
		t.Error("Step 0 after the call passed")
	}
	if _, err := reference.StepFused(optim.Adagrad{LR: 1}, w0, st0, V, D, ids, gradOut, embgrad.Options{}); err == nil {
		t.Error("eps = 0 accepted")
	}
}

// Regression (found by FuzzStep): with a weight decay of 1e30 Adagrad's
// float32 sum of squares overflows to +Inf, so the step is m = 0 and w is
// unchanged, while float64 has no overflow and moves w to 0.875·w. Where
// float32 leaves its range the reference knows nothing of the float32
// result and must not bound it; the ordinary cases stay bounded.
func TestStepBoundPastFloat32Range(t *testing.T) {
	const V, D = 2, 1
	o := optim.Adagrad{LR: 0.5, Eps: 0.5, WeightDecay: 1e30}
	w := []float32{-4, -4}
	st := optim.State{Momentum1: []float32{4, 4}}
	rows, values := []int32{1}, []float32{-4}
	want, err := reference.StepSparse(o, w, st, V, D, rows, values, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, gst := append([]float32(nil), w...), optim.State{Momentum1: append([]float32(nil), st.Momentum1...), Step: st.Step}
	r := o.Rule(1)
	r.Update(got[1:2], gst.Momentum1[1:2], nil, values)
	gst.Step++
	if got[1] != -4 || !math.IsInf(float64(gst.Momentum1[1]), 1) {
		t.Fatalf("Update: w = %v, G = %v; want -4 and +Inf (the float32 overflow this test is about)", got[1], gst.Momentum1[1])
	}
	if err := want.Check(got, gst); err != nil {
		t.Errorf("the documented float32 step is rejected: %v", err)
	}
	// Without the overflow the bound is tight: a wrong w is caught.
	o.WeightDecay = 0.25
	want, _ = reference.StepSparse(o, w, st, V, D, rows, values, 1)
	got, gst = append([]float32(nil), w...), optim.State{Momentum1: append([]float32(nil), st.Momentum1...), Step: 1}
	r = o.Rule(1)
	r.Update(got[1:2], gst.Momentum1[1:2], nil, values)
	if err := want.Check(got, gst); err != nil {
		t.Errorf("ordinary step rejected: %v", err)
	}
	got[1] *= 1.001
	if want.Check(got, gst) == nil {
		t.Error("a w 0.1% off passes the bound")
	}
}
