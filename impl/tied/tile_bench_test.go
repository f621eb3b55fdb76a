package tied

import (
	"fmt"
	"testing"
)

// BenchmarkTile times each micro-kernel alone on packed operands that stay
// in L1, k turns a call: what the tile reaches without the memory system,
// to set beside BenchmarkPeak and the whole output part.
//
//	BenchmarkTile/tile=<avx512|avx2>/k=<k>
func BenchmarkTile(b *testing.B) {
	for i := range tiles {
		tk := &tiles[i]
		if !tk.ok {
			continue
		}
		for _, k := range []int{128, 512} {
			b.Run(fmt.Sprintf("tile=%s/k=%d", tk.name, k), func(b *testing.B) {
				m := 4 * tk.mr
				ap := make([]float32, k*m)
				hp := make([]float32, k*tk.nr)
				c := make([]float32, tk.mr*768)
				for i := range ap {
					ap[i] = 1e-3
				}
				for i := range hp {
					hp[i] = 1e-3
				}
				for b.Loop() {
					tk.fn(&c[0], 768, &ap[0], m, &hp[0], tk.nr, k)
				}
				b.ReportMetric(2*float64(tk.mr*tk.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
