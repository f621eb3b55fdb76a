package reference

import (
	"math"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
)

// The factors: mean divides by the non-padding count, scaling by the
// batch-wide count, padding gets 0.
func TestBagFactors(t *testing.T) {
	a := embgrad.BagArgs{V: 4, D: 1, IDs: []int32{1, 0, 2, 1, 1}, Offsets: []int32{0, 3},
		Opt: embgrad.BagOptions{Mode: embgrad.BagMean, Options: embgrad.Options{ScaleGradByFreq: true}.WithPadding(0)}}
	s, bag := BagFactors(a)
	want := []float64{1.0 / 3 / 2, 0, 1.0 / 2, 1.0 / 3 / 2, 1.0 / 3 / 2}
	for i := range want {
		if math.Abs(s[i]-want[i]) > 1e-15 {
			t.Errorf("s[%d] = %v, want %v", i, s[i], want[i])
		}
	}
	if bag[2] != 0 || bag[3] != 1 {
		t.Errorf("bags %v", bag)
	}
}

// Check accepts the exact answer, rejects a dw off by far more than
// γ(D)·Σ|g·E| and a non-zero dw at a padding position, and wants dst's
// untouched rows bit-for-bit.
func TestBagCheck(t *testing.T) {
	a := embgrad.BagArgs{V: 3, D: 2, IDs: []int32{0, 2}, Offsets: []int32{0}, GradOut: []float32{1, 2},
		Weights: []float32{0.5, 3}, E: []float32{1, 1, 9, 9, 2, -1}, Opt: embgrad.BagOptions{Options: embgrad.Options{}.WithPadding(2)}}
	r, err := BagOracle(make([]float32, 6), make([]float32, 2), a)
	if err != nil {
		t.Fatal(err)
	}
	dst := []float32{0.5, 1, 0, 0, 0, 0}
	if err := r.Check(dst, []float32{3, 0}); err != nil {
		t.Fatalf("the exact answer: %v", err)
	}
	for _, c := range []struct {
		dst, dw []float32
		want    string
	}{
		{dst, []float32{3.001, 0}, "dw[0]"},
		{dst, []float32{3, 1e-30}, "padding"},
		{[]float32{0.5, 1, 0, 1e-45, 0, 0}, []float32{3, 0}, "row 1 col 1"},
	} {
		if err := r.Check(c.dst, c.dw); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %s, got %v", c.want, err)
		}
	}
}
