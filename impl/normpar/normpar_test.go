package normpar_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/normpar"
	"github.com/embgrad/embgrad/property"
)

func TestGradcheck(t *testing.T) {
	gradcheck.TestNorm(t, normpar.Impl{})
	gradcheck.TestNorm(t, normpar.Eager(normpar.Impl{}.WithWorkers(3)))
}

func TestProperty(t *testing.T) {
	property.TestNorm(t, normpar.Eager(normpar.Impl{}.WithWorkers(2)))
}

// TestSameBitsAsSerial: for every worker count, row norms, totals and
// clipped values are gradnorm.Serial's bit for bit, on tensors spanning
// many chunks and parts (NaN payloads aside: none are generated).
func TestSameBitsAsSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	V, D := 3000, 129 // 387000 elements: 24 chunks, 2 parts
	if testing.Short() {
		V = 1100
	}
	mk := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * math.Ldexp(1, rng.IntN(20)-10))
		}
		return x
	}
	rows := []int32{}
	for r := range int32(V) {
		if rng.IntN(4) == 0 {
			rows = append(rows, r)
		}
	}
	grads := []gradnorm.Grad{
		gradnorm.Dense(mk(V*D), V, D),
		gradnorm.SparseGrad(rows, mk(len(rows)*D), V, D),
		gradnorm.Dense(mk(1024*7), 1024, 7),
	}
	var s gradnorm.Serial
	wantRows := make([]float64, V)
	if err := s.RowNorms(wantRows, grads[0]); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1, 2, 3, 4, 7} {
		k := normpar.Eager(normpar.Impl{}.WithWorkers(w))
		got := make([]float64, V)
		if err := k.RowNorms(got, grads[0]); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, wantRows) {
			t.Errorf("workers=%d: row norms differ from serial", w)
		}
		for _, p := range []float64{2, math.Inf(1)} {
			want, _ := s.TotalNorm(grads, p)
			got, _ := k.TotalNorm(grads, p)
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("workers=%d p=%v: total %v, serial %v", w, p, got, want)
			}
			a, b := clone(grads), clone(grads)
			ta, _ := s.ClipGradNorm(a, want/3, p, true)
			tb, _ := k.ClipGradNorm(b, want/3, p, true)
			if ta != tb {
				t.Errorf("workers=%d p=%v: clip total %v, serial %v", w, p, tb, ta)
			}
			for i := range a {
				if !slices.Equal(a[i].Values, b[i].Values) {
					t.Errorf("workers=%d p=%v: tensor %d clipped differently from serial", w, p, i)
				}
			}
		}
	}
}

func clone(gs []gradnorm.Grad) []gradnorm.Grad {
	out := slices.Clone(gs)
	for i := range out {
		out[i].Values = slices.Clone(gs[i].Values)
	}
	return out
}
