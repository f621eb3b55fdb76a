package bench

import (
	"testing"

	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/broken"
)

// TestValidate checks the guard that keeps a wrong kernel from being timed:
// correct kernels in any summation order pass it, and every faulty kernel
// whose bug shows on the benchmarks' inputs (valid ids, no options, finite
// gradients) fails it. The other faults need options, NaN or invalid input
// to show; gradcheck and property catch those.
func TestValidate(t *testing.T) {
	s := Shape{Name: "tiny", V: 500, D: 67, N: 2000} // D not a multiple of 8: SIMD tails
	in := &inputs{shape: s}
	caught := map[string]bool{}
	for _, d := range Dists() {
		c := &distCase{in: in, dist: d}
		for _, mode := range Modes() {
			for _, k := range append(registry.Kernels(), broken.Reordered()...) {
				if err := validate(c, k, mode); err != nil {
					t.Errorf("correct kernel %s rejected: %v", k.Name(), err)
				}
			}
			for _, k := range broken.Faulty() {
				if validate(c, k, mode) != nil {
					caught[k.Name()] = true
				}
			}
		}
	}
	for _, name := range []string{"drops-duplicates", "skips-last-token", "skips-simd-tail", "overwrites-dst", "scratch-leaves-garbage"} {
		if !caught[name] {
			t.Errorf("faulty kernel %s passed validation", name)
		}
	}
}
