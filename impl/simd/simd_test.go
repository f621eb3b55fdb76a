package simd_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/loop"
	"github.com/embgrad/embgrad/impl/simd"
)

// TestMatchesLoop checks the package doc's promise: the results are the loop
// kernel's bit for bit, for widths around the vector sizes and every
// combination of options. Run under GOAMD64=v3 (where an unconverted s*g+dst
// would be fused into an FMA) and -tags purego as well as the default.
func TestMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	opts := []embgrad.Options{
		{},
		{ScaleGradByFreq: true},
		embgrad.Options{}.WithPadding(2),
		embgrad.Options{ScaleGradByFreq: true}.WithPadding(0),
	}
	for _, D := range []int{1, 7, 8, 9, 16, 31, 67, 130, 768} {
		for _, V := range []int{3, 40} {
			for _, opt := range opts {
				N := 3 * V
				name := fmt.Sprintf("V=%d,D=%d,N=%d,opt=%+v", V, D, N, opt)
				ids := make([]int32, N)
				for i := range ids {
					ids[i] = int32(rng.IntN(V))
				}
				gradOut, dst := make([]float32, N*D), make([]float32, V*D)
				for i := range gradOut {
					gradOut[i] = float32(rng.NormFloat64())
				}
				for i := range dst {
					dst[i] = float32(rng.NormFloat64())
				}
				want := append([]float32(nil), dst...)
				if err := (loop.Kernel{}).Backward(want, V, D, ids, gradOut, opt); err != nil {
					t.Fatalf("%s: loop: %v", name, err)
				}
				if err := (simd.Kernel{}).Backward(dst, V, D, ids, gradOut, opt); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for k := range dst {
					if math.Float32bits(dst[k]) != math.Float32bits(want[k]) {
						t.Fatalf("%s: row %d col %d: got %v, loop kernel %v", name, k/D, k%D, dst[k], want[k])
					}
				}
			}
		}
	}
}
