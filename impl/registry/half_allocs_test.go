//go:build !race

package registry

import (
	"testing"

	"github.com/embgrad/embgrad"
)

// The fast 16-bit kernel allocates nothing per call once warm (its work
// tables are pooled), in both forms, with and without scaling and
// stochastic rounding. The loop kernel, the plain baseline, is exempt.
func TestHalfSIMDDoesNotAllocate(t *testing.T) {
	const V, D, N = 1000, 33, 500
	ids := make([]int32, N)
	for i := range ids {
		ids[i] = int32(i * 7 % V / 3)
	}
	g := make([]uint16, N*D)
	d32, d16 := make([]float32, V*D), make([]uint16, V*D)
	found := false
	for _, k := range Half() {
		if k.Name() != "half16simd" {
			continue
		}
		found = true
		for _, opt := range []embgrad.HalfOptions{
			{Format: embgrad.BFloat16},
			{Options: embgrad.Options{ScaleGradByFreq: true}.WithPadding(3), Format: embgrad.Float16},
		} {
			if n := testing.AllocsPerRun(20, func() { _ = k.BackwardHalf(d32, V, D, ids, g, opt) }); n != 0 {
				t.Errorf("BackwardHalf %+v: %v allocs per call, want 0", opt, n)
			}
			opt.Rounding = embgrad.Stochastic
			if n := testing.AllocsPerRun(20, func() { _ = k.BackwardHalf16(d16, V, D, ids, g, opt) }); n != 0 {
				t.Errorf("BackwardHalf16 %+v: %v allocs per call, want 0", opt, n)
			}
		}
	}
	if !found {
		t.Fatal("half16simd is not registered")
	}
}
