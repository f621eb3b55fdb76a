package sharded

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/internal/kerneltest"
)

// TestScratchIsBackwardOnClearedDst checks the fused from-scratch pass bit
// for bit against Backward on a cleared dst — the definition of
// BackwardScratch — from a NaN-filled dst, for 1 to 3 workers, uniform,
// skewed and all-same streams (hot rows), scaling and padding, rows of
// widths that leave the table's rows unaligned, a dst that starts off a
// 32-byte boundary, and upstream rows of −0 (+0 + −0 is +0: a pass that
// copied the first row instead of adding it to +0 would keep −0).
func TestScratchIsBackwardOnClearedDst(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	shapes := []struct{ V, D, N int }{{3000, 33, 8192}, {700, 768, 600}, {40, 8, 70}}
	for _, s := range shapes {
		for _, dist := range []bench.Dist{bench.Uniform, bench.Zipf, bench.Same} {
			for _, opt := range []embgrad.Options{{}, embgrad.Options{ScaleGradByFreq: true}.WithPadding(1)} {
				ids := kerneltest.IDs(t, dist, s.V, s.N, rng.Uint64())
				g := kerneltest.Normal(rng, s.N*s.D)
				for i := 0; i < s.N; i += 5 { // some rows of −0
					for j := range s.D {
						g[i*s.D+j] = float32(math.Copysign(0, -1))
					}
				}
				want := make([]float32, s.V*s.D)
				if err := (Kernel{}).Backward(want, s.V, s.D, ids, g, opt); err != nil {
					t.Fatal(err)
				}
				for _, w := range []int{1, 2, 3} {
					for _, off := range []int{0, 1, 3} {
						name := fmt.Sprintf("V=%d/D=%d/N=%d/%s/%+v/workers=%d/offset=%d", s.V, s.D, s.N, dist, opt, w, off)
						buf := make([]float32, off+s.V*s.D+1)
						for i := range buf {
							buf[i] = float32(math.NaN())
						}
						dst := buf[off : off+s.V*s.D]
						if err := (Kernel{}).WithWorkers(w).(Kernel).BackwardScratch(dst, s.V, s.D, ids, g, opt); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						if err := sameBits(dst, want, s.D); err != nil {
							t.Errorf("%s: %v", name, err)
						}
						for i := range buf[:off] {
							if !math.IsNaN(float64(buf[i])) {
								t.Errorf("%s: wrote before dst", name)
							}
						}
						if !math.IsNaN(float64(buf[len(buf)-1])) {
							t.Errorf("%s: wrote past dst", name)
						}
					}
				}
			}
		}
	}
}

// sameBits reports the first element where got and want differ in bits.
func sameBits(got, want []float32, D int) error {
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return fmt.Errorf("element (%d, %d) = %v (%#x), Backward on a cleared dst gives %v (%#x)",
				i/D, i%D, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
	return nil
}

// TestSameBitsCatches: the comparison behind the test above tells −0 from
// +0 and a NaN from itself (a fault that kept a first −0 row, or left a
// NaN, must fail it), and passes equal bits.
func TestSameBitsCatches(t *testing.T) {
	a := []float32{0, 1, 2}
	if sameBits(a, []float32{0, 1, 2}, 3) != nil {
		t.Error("equal slices reported different")
	}
	if sameBits([]float32{float32(math.Copysign(0, -1)), 1, 2}, a, 3) == nil {
		t.Error("−0 against +0 not caught")
	}
	if sameBits([]float32{0, 1, float32(math.NaN())}, a, 3) == nil {
		t.Error("a NaN left in dst not caught")
	}
}

// TestClearStream checks the non-temporal clear against clear for every
// start offset within 32 bytes and lengths around the vector and unroll
// sizes: every element +0, nothing outside touched.
func TestClearStream(t *testing.T) {
	for off := range 9 {
		for n := range 300 {
			buf := make([]float32, off+n+1)
			for i := range buf {
				buf[i] = 7
			}
			s := buf[off : off+n]
			clearStream(s)
			for i, x := range buf {
				want := float32(7)
				if i >= off && i < off+n {
					want = 0
				}
				if math.Float32bits(x) != math.Float32bits(want) {
					t.Fatalf("offset %d, length %d: element %d = %v, want %v", off, n, i-off, x, want)
				}
			}
		}
	}
}
