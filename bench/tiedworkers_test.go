package bench

import (
	"runtime"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/impl/registry"
)

// BenchmarkTiedWorkers times the output part of every parallel registry
// tied kernel at each worker count, on each of tiedShapes:
//
//	BenchmarkTiedWorkers/impl=<k>/V=<v>/D=<d>/T=<t>/workers=<w>
//
// BenchmarkTied runs each kernel at its default (GOMAXPROCS) workers; this
// family states how it scales, and, run with -embgrad.hog=1, how it holds up
// when a core is busy with another process.
func BenchmarkTiedWorkers(b *testing.B) {
	for _, s := range tiedShapes {
		tiedWorkers(b, s.V, s.D, s.T)
	}
}

func tiedWorkers(b *testing.B, V, D, T int) {
	s := struct{ V, D, T int }{V, D, T}
	var dst []float32
	var a embgrad.TiedArgs
	for _, k := range registry.Tied() {
		p, ok := k.(embgrad.TiedParallel)
		if !ok {
			continue
		}
		for _, w := range WorkerCounts(runtime.GOMAXPROCS(0)) {
			kw := p.WithTiedWorkers(w)
			b.Run(Sub(TiedWorkersKeys, k.Name(), s.V, s.D, s.T, w), func(b *testing.B) {
				if dst == nil {
					dst, a = tiedInputs(s.V, s.D, s.T)
				}
				clear(dst)
				if err := kw.BackwardTied(dst, a); err != nil {
					b.Fatal(err)
				}
				if err := tiedCheckRows(dst, a); err != nil {
					b.Fatalf("%s is wrong, not timed: %v", k.Name(), err)
				}
				for b.Loop() {
					if err := kw.BackwardTied(dst, a); err != nil {
						b.Fatal(err)
					}
				}
				flops := 2 * float64(s.V) * float64(s.D) * float64(s.T)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, benchfile.GFLOPPerSec)
			})
		}
	}
}
