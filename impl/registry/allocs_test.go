//go:build !race

// (The race detector makes sync.Pool drop items at random, so pooled
// workspaces would show as allocations.)

package registry

import (
	"testing"

	"github.com/embgrad/embgrad"
)

// The serial kernels allocate nothing per call once their pooled workspaces
// are warm (sharded starts goroutines, and is exempt).
func TestSerialKernelsDoNotAllocate(t *testing.T) {
	serial := map[string]bool{"loop": true, "scatter": true, "sorted": true, "simd": true}
	const V, D, N = 1000, 33, 500
	ids := make([]int32, N)
	for i := range ids {
		ids[i] = int32(i * 7 % V)
	}
	g := make([]float32, N*D)
	dst := make([]float32, V*D)
	for _, k := range Kernels() {
		if !serial[k.Name()] {
			continue
		}
		delete(serial, k.Name())
		for _, opt := range []embgrad.Options{{}, embgrad.Options{ScaleGradByFreq: true}.WithPadding(3)} {
			if n := testing.AllocsPerRun(20, func() { _ = k.Backward(dst, V, D, ids, g, opt) }); n != 0 {
				t.Errorf("%s %+v: %v allocs per call, want 0", k.Name(), opt, n)
			}
		}
	}
	for name := range serial {
		t.Errorf("kernel %s is not in the registry", name)
	}
}
