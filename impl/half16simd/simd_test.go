package half16simd_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/half16loop"
	"github.com/embgrad/embgrad/impl/half16simd"
)

// The SIMD kernel gives impl/half16loop's bits (NaN payloads aside) in both
// forms, both formats, both roundings, with padding and scaling; run it
// under -tags purego and EMBGRAD_PUREGO=1 too for the pure-Go path.
func TestMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 60 {
		V, D, N := 1+rng.IntN(30), 1+rng.IntN(70), rng.IntN(300)
		ids := make([]int32, N)
		for i := range ids {
			ids[i] = int32(rng.IntN(min(V, 1+n%5*7)))
		}
		g := make([]uint16, N*D)
		for i := range g {
			g[i] = uint16(rng.Uint32())&0x8fff | 0x3000 // ordinary magnitudes in both formats
			if rng.IntN(500) == 0 {
				g[i] = uint16(rng.Uint32()) // anything, NaN included
			}
		}
		d16 := make([]uint16, V*D)
		for i := range d16 {
			d16[i] = uint16(rng.Uint32())&0x8fff | 0x3000
		}
		opt := embgrad.HalfOptions{Format: embgrad.Format(1 + n%2)}
		opt.ScaleGradByFreq = n%3 == 0
		if n%4 == 1 {
			opt.Options = opt.WithPadding(int32(rng.IntN(V)))
		}
		d32 := make([]float32, V*D)
		for i := range d32 {
			d32[i] = float32(rng.NormFloat64())
		}
		a, b := slices.Clone(d32), slices.Clone(d32)
		if err := (half16loop.Kernel{}).BackwardHalf(a, V, D, ids, g, opt); err != nil {
			t.Fatal(err)
		}
		if err := (half16simd.Kernel{}).BackwardHalf(b, V, D, ids, g, opt); err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
				t.Fatalf("case %d float32 dst: element %d = %v, loop %v", n, i, b[i], a[i])
			}
		}
		if n%2 == 1 {
			opt.Rounding, opt.Seed = embgrad.Stochastic, uint64(n)
		}
		a16, b16 := slices.Clone(d16), slices.Clone(d16)
		if err := (half16loop.Kernel{}).BackwardHalf16(a16, V, D, ids, g, opt); err != nil {
			t.Fatal(err)
		}
		if err := (half16simd.Kernel{}).BackwardHalf16(b16, V, D, ids, g, opt); err != nil {
			t.Fatal(err)
		}
		for i := range a16 {
			if a16[i] != b16[i] && !(isNaN(opt.Format, a16[i]) && isNaN(opt.Format, b16[i])) {
				t.Fatalf("case %d 16-bit dst (%v): element %d = %#04x, loop %#04x", n, opt.Rounding, i, b16[i], a16[i])
			}
		}
	}
}

func isNaN(f embgrad.Format, x uint16) bool {
	if f == embgrad.Float16 {
		return x&0x7c00 == 0x7c00 && x&0x3ff != 0
	}
	return x&0x7f80 == 0x7f80 && x&0x7f != 0
}
