package suite

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad"
)

// The guarded bag call hands the kernel guarded windows, keeps nil inputs
// nil, and reports a stray write past dw, a changed offset and a changed
// weight.
func TestBagGuards(t *testing.T) {
	c := NewBagCase(rand.New(rand.NewPCG(1, 1)), BagSpec{V: 7, D: 3, B: 4, MaxL: 5, Mode: embgrad.BagSum, Weights: true, Kind: Normal})
	for len(c.A.IDs) == 0 {
		c = NewBagCase(rand.New(rand.NewPCG(2, 1)), c.Spec)
	}
	dst, dw := make([]float32, 21), make([]float32, len(c.A.IDs))
	ok := func(dst, dw []float32, a embgrad.BagArgs) error {
		if a.MaxIndices != nil {
			return errors.New("nil maxIndices became non-nil")
		}
		dst[0], dw[len(dw)-1] = 1, 2
		return nil
	}
	if _, got, err := Bag(ok, dst, dw, c.A); err != nil || got[len(got)-1] != 2 {
		t.Fatalf("a kernel writing inside its outputs: %v", err)
	}
	for name, f := range map[string]BagFunc{
		"past dw": func(dst, dw []float32, a embgrad.BagArgs) error { dw[:cap(dw)][len(dw)] = 1; return nil },
		"offsets": func(dst, dw []float32, a embgrad.BagArgs) error { a.Offsets[0] = 1; return nil },
		"weights": func(dst, dw []float32, a embgrad.BagArgs) error { a.Weights[0]++; return nil },
		"E":       func(dst, dw []float32, a embgrad.BagArgs) error { a.E[0]++; return nil },
	} {
		_, _, err := Bag(f, dst, dw, c.A)
		if !IsViolation(err, StrayWrite) && !IsViolation(err, ChangedInput) {
			t.Errorf("%s: got %v, want a violation", name, err)
		}
	}
}

// Bag cases are valid, and their max indices are the forward's.
func TestNewBagCaseValid(t *testing.T) {
	for i := range 200 {
		rng := rand.New(rand.NewPCG(uint64(i), 3))
		s := BagSpec{V: 1 + rng.IntN(9), D: 1 + rng.IntN(5), B: rng.IntN(6), MaxL: rng.IntN(6), Mode: embgrad.BagMode(i % 3),
			Pad: i%2 == 0, Last: i%4 < 2, Empty: i%5 == 0, Pow2: i%7 == 0, Kind: Dyadic}
		s.Scale = s.Mode != embgrad.BagMax && i%3 == 1
		s.Weights = s.Mode == embgrad.BagSum && i%2 == 1
		c := NewBagCase(rng, s)
		var dw []float32
		if c.A.Weights != nil {
			dw = make([]float32, len(c.A.IDs))
		}
		if err := embgrad.ValidateBag(make([]float32, s.V*s.D), dw, c.A); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
	}
}
