package half16simd_test

import (
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/half16simd"
)

// BenchmarkRows is a quick look at the two forms on a GPT-2-sized Zipf
// batch; bench.BenchmarkBackward16 is the real benchmark.
func BenchmarkRows(b *testing.B) {
	const V, D, N = 50257, 768, 8192
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, V-1)
	ids := make([]int32, N)
	for i := range ids {
		ids[i] = int32(z.Uint64())
	}
	g := make([]uint16, N*D)
	for i := range g {
		g[i] = uint16(r.Uint32())&0x83ff | 0x3800
	}
	opt := embgrad.HalfOptions{Format: embgrad.BFloat16}
	b.Run("dst=f32", func(b *testing.B) {
		dst := make([]float32, V*D)
		clear(dst)
		for b.Loop() {
			half16simd.Kernel{}.BackwardHalf(dst, V, D, ids, g, opt)
		}
	})
	b.Run("dst=16", func(b *testing.B) {
		dst := make([]uint16, V*D)
		clear(dst)
		for b.Loop() {
			half16simd.Kernel{}.BackwardHalf16(dst, V, D, ids, g, opt)
		}
	})
}
