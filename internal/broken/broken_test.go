package broken

import (
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/reference"
)

// The reordered kernels must agree with the oracle on an ordinary case with
// duplicates, padding and scaling; otherwise the suites' "must not flag"
// tests would prove nothing.
func TestReorderedAreCorrect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const V, D, N = 7, 9, 40
	ids := make([]int32, N)
	g := make([]float32, N*D)
	for i := range ids {
		ids[i] = int32(rng.IntN(V))
	}
	for k := range g {
		g[k] = float32(rng.NormFloat64())
	}
	for _, k := range Reordered() {
		for _, scale := range []bool{false, true} {
			dst := make([]float32, V*D)
			for i := range dst {
				dst[i] = float32(rng.NormFloat64())
			}
			opt := embgrad.Options{ScaleGradByFreq: scale}.WithPadding(3)
			want, err := reference.Oracle(dst, V, D, ids, g, opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Backward(dst, V, D, ids, g, opt); err != nil {
				t.Fatalf("%s: %v", k.Name(), err)
			}
			if err := want.Check(dst); err != nil {
				t.Errorf("%s scale=%v: %v", k.Name(), scale, err)
			}
		}
	}
}
