package half16

import (
	"testing"

	"github.com/embgrad/embgrad/impl/internal/vec"
)

// BenchmarkRow compares one 768-wide row, in cache: vec.Add (float32) with
// Add (bfloat16 and float16 widened) and Narrow.
func BenchmarkRow(b *testing.B) {
	const D = 768
	dst, src32, src16, out := make([]float32, D), make([]float32, D), make([]uint16, D), make([]uint16, D)
	for i := range src16 {
		src16[i] = 0x3f80
	}
	b.Run("op=vec.Add", func(b *testing.B) {
		b.SetBytes(3 * 4 * D)
		for b.Loop() {
			vec.Add(dst, src32)
		}
	})
	for f, name := range []string{"bf16", "f16"} {
		b.Run("op=add/format="+name, func(b *testing.B) {
			b.SetBytes(2*4*D + 2*D)
			for b.Loop() {
				Add(f, dst, src16)
			}
		})
		b.Run("op=narrow/format="+name, func(b *testing.B) {
			b.SetBytes(4*D + 2*D)
			for b.Loop() {
				Narrow(f, out, dst)
			}
		})
	}
}
