package reference

import (
	"math"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/half"
)

func TestUlp16(t *testing.T) {
	for _, c := range []struct {
		f    embgrad.Format
		x    float64
		want float64
	}{
		{embgrad.BFloat16, 1, 0x1p-7}, {embgrad.BFloat16, 1.99, 0x1p-7}, {embgrad.BFloat16, 2, 0x1p-6},
		{embgrad.BFloat16, 0, 0x1p-133}, {embgrad.BFloat16, 0x1p-130, 0x1p-133},
		{embgrad.Float16, 1, 0x1p-10}, {embgrad.Float16, -1024, 1}, {embgrad.Float16, 0, 0x1p-24},
		{embgrad.Float16, 0x1p-20, 0x1p-24}, {embgrad.Float16, 65504, 32},
	} {
		if got := Ulp16(c.f, c.x); got != c.want {
			t.Errorf("Ulp16(%v, %g) = %g, want %g", c.f, c.x, got, c.want)
		}
	}
}

// The 16-bit bound accepts the correctly rounded sum and one ulp off only
// under stochastic rounding; a finite sum may become Inf only from the
// overflow threshold on; a single occurrence must be exact.
func TestHalf16Check(t *testing.T) {
	f16 := func(x float32) uint16 { return uint16(half.Float16FromFloat32(x)) }
	opt := embgrad.HalfOptions{Format: embgrad.Float16}
	// 1 + 1/2048 + 1/2048 = 1 + 2⁻¹⁰: exact in float32, one float16 ulp above 1.
	g := []uint16{f16(1), f16(0x1p-11), f16(0x1p-11)}
	r, err := Half16Oracle(make([]uint16, 1), 1, 1, []int32{0, 0, 0}, g, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check([]uint16{f16(1 + 0x1p-10)}); err != nil {
		t.Errorf("the exact sum: %v", err)
	}
	if r.Check([]uint16{f16(1)}) == nil {
		t.Error("one ulp below the exact sum accepted under nearest-even")
	}
	opt.Rounding = embgrad.Stochastic
	rs, _ := Half16Oracle(make([]uint16, 1), 1, 1, []int32{0, 0, 0}, g, opt)
	if err := rs.Check([]uint16{f16(1)}); err != nil {
		t.Errorf("one ulp off under stochastic rounding: %v", err)
	}
	// Overflow: 65504 + 16 = 65520 rounds to Inf; 65504 + 8 must not.
	opt.Rounding = embgrad.NearestEven
	for _, c := range []struct {
		add   float32
		infOK bool
	}{{16, true}, {8, false}} {
		r, _ := Half16Oracle([]uint16{f16(65504)}, 1, 1, []int32{0}, []uint16{f16(c.add)}, opt)
		if err := r.Check([]uint16{0x7c00}); (err == nil) != c.infOK {
			t.Errorf("65504+%v → +Inf: %v, want accepted %v", c.add, err, c.infOK)
		}
	}
	// A single occurrence into zero: bound 0.
	r1, _ := Half16Oracle(make([]uint16, 1), 1, 1, []int32{0}, []uint16{f16(1.5)}, opt)
	if b := r1.Bound(0); b != 0 {
		t.Errorf("single occurrence bound %g, want 0", b)
	}
	if r1.Check([]uint16{f16(1.5) + 1}) == nil {
		t.Error("a single occurrence off by one ulp accepted")
	}
	// NaN must stay NaN.
	rn, _ := Half16Oracle(make([]uint16, 1), 1, 1, []int32{0, 0}, []uint16{0x7e00, f16(1)}, opt)
	if rn.Check([]uint16{0x7c00}) == nil {
		t.Error("NaN turned into Inf accepted")
	}
	if math.IsNaN(float64(Widen1(embgrad.Float16, 0x7e00))) != true {
		t.Error("Widen1 lost a NaN")
	}
}
