//go:build !race

package registry

import (
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/fused"
	"github.com/embgrad/embgrad/impl/sparse"
	"github.com/embgrad/embgrad/impl/step"
	"github.com/embgrad/embgrad/optim"
)

// Every serial step, either form and every optimizer, allocates nothing
// per call once warm: weights, state and gradient buffers are the
// caller's, the fused kernel's plan is pooled.
func TestSerialStepsDoNotAllocate(t *testing.T) {
	const V, D, N = 1000, 33, 500
	ids := make([]int32, N)
	for i := range ids {
		ids[i] = int32(i * 7 % V / 3)
	}
	g := make([]float32, N*D)
	for i := range g {
		g[i] = float32(i%13) / 16
	}
	rows, vals := make([]int32, N), make([]float32, N*D)
	opt := embgrad.Options{ScaleGradByFreq: true}.WithPadding(3)
	U, err := sparse.Kernel{}.Sparse(rows, vals, V, D, ids, g, opt)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, V*D)
	opts := []optim.Optimizer{
		optim.SGD{LR: 0.1, WeightDecay: 0.01},
		optim.Adagrad{LR: 0.1, Eps: 1e-8, WeightDecay: 0.01},
		optim.Adam{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
	}
	for _, o := range opts {
		st := o.NewState(V, D)
		s := step.Kernel{}.WithWorkers(1)
		if n := testing.AllocsPerRun(20, func() { _ = s.Step(w, &st, V, D, rows, vals, U, o) }); n != 0 {
			t.Errorf("%s %s: %v allocs per call, want 0", s.Name(), o.Name(), n)
		}
		f := fused.Kernel{}.WithWorkers(1)
		if n := testing.AllocsPerRun(20, func() { _ = f.Fused(w, &st, V, D, ids, g, opt, o) }); n != 0 {
			t.Errorf("%s %s: %v allocs per call, want 0", f.Name(), o.Name(), n)
		}
	}
	if len(Steppers()) == 0 || len(FusedSteps()) == 0 {
		t.Fatal("no step kernels registered")
	}
}
