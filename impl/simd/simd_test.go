package simd_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/loop"
	"github.com/embgrad/embgrad/impl/simd"
	"github.com/embgrad/embgrad/reference"
)

// TestOracle compares the kernel with the float64 oracle within its bound
// and, on amd64 (where gc does not fuse the loop's multiply and add), with
// the loop kernel bit for bit, for widths around the vector sizes and every
// combination of options.
func TestOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	opts := []embgrad.Options{
		{},
		{ScaleGradByFreq: true},
		embgrad.Options{}.WithPadding(2),
		embgrad.Options{ScaleGradByFreq: true}.WithPadding(0),
	}
	for _, D := range []int{1, 7, 8, 9, 16, 31, 67, 130, 768} {
		for _, V := range []int{1, 5, 40} {
			for _, opt := range opts {
				if opt.HasPadding && int(opt.PaddingIdx) >= V {
					continue
				}
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
				want, err := reference.Oracle(dst, V, D, ids, gradOut, opt)
				if err != nil {
					t.Fatalf("%s: oracle: %v", name, err)
				}
				byLoop := append([]float32(nil), dst...)
				if err := (loop.Kernel{}).Backward(byLoop, V, D, ids, gradOut, opt); err != nil {
					t.Fatalf("%s: loop: %v", name, err)
				}
				if err := (simd.Kernel{}).Backward(dst, V, D, ids, gradOut, opt); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := want.Check(dst); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if runtime.GOARCH != "amd64" {
					continue
				}
				for k := range dst {
					if math.Float32bits(dst[k]) != math.Float32bits(byLoop[k]) {
						t.Fatalf("%s: element %d: got %v, loop kernel %v", name, k, dst[k], byLoop[k])
					}
				}
			}
		}
	}
}

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
