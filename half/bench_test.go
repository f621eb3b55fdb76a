package half

import (
	"fmt"
	"testing"
)

// The bytes model of a slice conversion is one 4-byte float32 and one 2-byte value per element.
func BenchmarkConvert(b *testing.B) {
	const n = 1 << 14
	wide := make([]float32, n)
	for i := range wide { // finite values of ordinary size, as gradients are
		wide[i] = float32(i%1000-500) / 37
	}
	narrow := make([]uint16, n)
	for _, f := range formats {
		for _, op := range []struct {
			name string
			run  func()
		}{
			{"widen", func() { f.widenSlice(wide, narrow) }},
			{"narrow", func() { f.narrowSlice(narrow, wide) }},
			{"stochastic", func() { f.stochSlice(narrow, wide, 1, 0) }},
		} {
			b.Run(fmt.Sprintf("type=%s/op=%s/n=%d", f.name, op.name, n), func(b *testing.B) {
				b.SetBytes(n * (4 + 2))
				for b.Loop() {
					op.run()
				}
			})
		}
	}
}
