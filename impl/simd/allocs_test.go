// The race detector makes sync.Pool drop items at random, so the pooled
// row counts are reallocated and allocation counts mean nothing.

//go:build !race

package simd_test

import (
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/simd"
)

// TestAllocs checks that a call allocates nothing once the row-count pool
// is warm.
func TestAllocs(t *testing.T) {
	const V, D, N = 100, 64, 500
	dst, gradOut, ids := make([]float32, V*D), make([]float32, N*D), make([]int32, N)
	for i := range ids {
		ids[i] = int32(i * 7 % V)
	}
	for _, opt := range []embgrad.Options{{}, embgrad.Options{ScaleGradByFreq: true}.WithPadding(3)} {
		if n := testing.AllocsPerRun(20, func() {
			if err := (simd.Kernel{}).Backward(dst, V, D, ids, gradOut, opt); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("opt=%+v: %v allocs per call, want 0", opt, n)
		}
	}
}
