package fused

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/sparse"
	"github.com/embgrad/embgrad/impl/step"
	"github.com/embgrad/embgrad/internal/suite"
)

// The package doc's claim: the fused step is bit for bit impl/sparse's
// coalesced gradient followed by impl/step, on any data (not only dyadic
// data, as the property suite checks), for every worker count and on the
// parallel path.
func TestSameBitsAsSparseThenStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for c := range 40 {
		V, D, N := 1+rng.IntN(300), 1+rng.IntN(70), rng.IntN(900)
		ids := make([]int32, N)
		hot := 1 + rng.IntN(V)
		for i := range ids {
			ids[i] = int32(rng.IntN(hot))
		}
		opt := embgrad.Options{ScaleGradByFreq: c%3 == 0}
		if c%2 == 0 {
			opt = opt.WithPadding(int32(rng.IntN(V)))
		}
		g := suite.Fill(rng, N*D, suite.Normal)
		w0 := suite.Fill(rng, V*D, suite.Normal)
		for _, o := range suite.Optimizers() {
			st0 := suite.DrawState(rng, o, V, D)
			want, ws := slices.Clone(w0), suite.CloneState(st0)
			rows, vals := make([]int32, N), make([]float32, N*D)
			U, err := sparse.Kernel{}.Sparse(rows, vals, V, D, ids, g, opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := (step.Kernel{}).Step(want, &ws, V, D, rows, vals, U, o); err != nil {
				t.Fatal(err)
			}
			for _, k := range []Kernel{{workers: 1}, {workers: 2, always: true}, {workers: 3, always: true}} {
				w, st := slices.Clone(w0), suite.CloneState(st0)
				if err := k.Fused(w, &st, V, D, ids, g, opt, o); err != nil {
					t.Fatal(err)
				}
				if err := suite.SameBits(w, want, D, "(sparse then step)"); err != nil {
					t.Fatalf("case %d %s, %d workers: weights: %v", c, suite.OptimizerString(o), k.workers, err)
				}
				if err := suite.SameBits(st.Momentum1, ws.Momentum1, 1, "(sparse then step)"); err != nil {
					t.Fatalf("case %d %s, %d workers: Momentum1: %v", c, suite.OptimizerString(o), k.workers, err)
				}
				if err := suite.SameBits(st.Momentum2, ws.Momentum2, D, "(sparse then step)"); err != nil {
					t.Fatalf("case %d %s, %d workers: Momentum2: %v", c, suite.OptimizerString(o), k.workers, err)
				}
				if st.Step != ws.Step {
					t.Fatalf("Step %d, want %d", st.Step, ws.Step)
				}
			}
		}
	}
}
