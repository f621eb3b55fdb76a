//go:build !race

package registry

import (
	"testing"

	"github.com/embgrad/embgrad"
)

// The serial sparse kernels allocate nothing per call once warm, the
// outputs being the caller's.
func TestSerialSparseKernelsDoNotAllocate(t *testing.T) {
	const V, D, N = 1000, 33, 500
	ids := make([]int32, N)
	for i := range ids {
		ids[i] = int32(i * 7 % V / 3)
	}
	g := make([]float32, N*D)
	rows, vals := make([]int32, N), make([]float32, N*D)
	if len(Sparse()) == 0 {
		t.Fatal("no sparse kernels registered")
	}
	for _, k := range Sparse() {
		for _, opt := range []embgrad.Options{{}, embgrad.Options{ScaleGradByFreq: true}.WithPadding(3)} {
			if n := testing.AllocsPerRun(20, func() { _, _ = k.Sparse(rows, vals, V, D, ids, g, opt) }); n != 0 {
				t.Errorf("%s %+v: %v allocs per call, want 0", k.Name(), opt, n)
			}
		}
	}
}
