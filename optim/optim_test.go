package optim_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/optim"
)

func TestCheckNamesTheProblem(t *testing.T) {
	const V, D = 4, 3
	nan := float32(math.NaN())
	adam := optim.Adam{LR: 1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}
	cases := []struct {
		o    optim.Optimizer
		st   optim.State
		want string
	}{
		{optim.SGD{LR: -1}, optim.State{}, "LR = -1"},
		{optim.SGD{LR: nan}, optim.State{}, "LR = NaN"},
		{optim.SGD{LR: 1, WeightDecay: float32(math.Inf(-1))}, optim.State{}, "WeightDecay = -Inf"},
		{optim.SGD{LR: 1}, optim.State{Momentum1: make([]float32, V)}, "len(Momentum1) = 4, want 0"},
		{optim.Adagrad{LR: 1}, optim.State{Momentum1: make([]float32, V)}, "Eps = 0"},
		{optim.Adagrad{LR: 1, Eps: 1}, optim.State{Momentum1: make([]float32, V+1)}, "len(Momentum1) = 5, want 4"},
		{optim.Adam{LR: 1, Beta1: 1, Beta2: 0.5, Eps: 1}, adam.NewState(V, D), "Beta1 = 1"},
		{optim.Adam{LR: 1, Beta1: 0.5, Beta2: -0.5, Eps: 1}, adam.NewState(V, D), "Beta2 = -0.5"},
		{adam, optim.State{Momentum1: make([]float32, V*D), Momentum2: make([]float32, V)}, "len(Momentum2) = 4, want 12"},
		{adam, optim.State{Momentum1: make([]float32, V*D), Momentum2: make([]float32, V*D), Step: math.MaxInt64}, "Step"},
	}
	for _, c := range cases {
		st := c.st
		err := c.o.Check(&st, V, D)
		if !errors.Is(err, embgrad.ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s%+v: got %v, want an ErrInvalidInput naming %q", c.o.Name(), c.o, err, c.want)
		}
	}
	for _, o := range []optim.Optimizer{optim.SGD{}, optim.Adagrad{Eps: 1e-8}, adam} {
		st := o.NewState(V, D)
		if err := o.Check(&st, V, D); err != nil {
			t.Errorf("%s: valid settings rejected: %v", o.Name(), err)
		}
	}
}

func TestValidateStepRows(t *testing.T) {
	const V, D = 6, 2
	w, vals := make([]float32, V*D), make([]float32, 3*D)
	o := optim.SGD{LR: 1}
	for _, c := range []struct {
		rows []int32
		U    int
		want string
	}{
		{[]int32{1, 1, 2}, 3, "rows[1] = 1 does not follow"},
		{[]int32{1, 6, 7}, 2, "rows[1] = 6 is outside [0, 6)"},
		{[]int32{0, 1}, 3, "U = 3 is outside"},
		{[]int32{0, 1, 2, 3}, 4, "exceeds len(values)"},
	} {
		st := optim.State{}
		if err := optim.ValidateStep(w, &st, V, D, c.rows, vals, c.U, o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rows %v U %d: got %v, want %q", c.rows, c.U, err, c.want)
		}
	}
	st := optim.State{}
	if err := optim.ValidateStep(w, &st, V, D, []int32{0, 5}, w[:4], 2, o); err == nil || !strings.Contains(err.Error(), "overlaps values") {
		t.Errorf("values inside w: got %v", err)
	}
}

// The reference loop of the package doc, on a batch naming row 2 twice:
// the coalesced gradient, then Rule.Update on each row, Step incremented.
func ExampleRule_Update() {
	const D = 2
	w := []float32{1, 1, 1, 1, 1, 1} // V = 3
	o := optim.Adagrad{LR: 0.5, Eps: 1e-8}
	st := o.NewState(3, D)
	rows, values := []int32{2}, []float32{0.5 + 0.25, -0.5 + -0.25} // row 2, two occurrences summed
	r := o.Rule(st.Step + 1)
	for u, v := range rows {
		r.Update(w[int(v)*D:int(v+1)*D], st.Row1(int(v), D), st.Row2(int(v), D), values[u*D:(u+1)*D])
	}
	st.Step++
	// w[4:6] moved by ∓lr (the first Adagrad step on equal magnitudes), G = mean(g²)
	if w[4] < 0.51 && w[4] > 0.49 && w[5] > 1.49 && st.Momentum1[2] == 0.5625 {
		fmt.Println("ok")
	}
	// Output: ok
}
