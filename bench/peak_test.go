package bench

import (
	"runtime"
	"sync"
	"testing"

	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/bench/internal/peak"
)

// peakTurns is the work of one op per thread: at 768 flops a turn
// (AVX-512), about 50 Mflop, a few hundred microseconds.
const peakTurns = 1 << 16

// peakSink keeps the loops' results alive.
var peakSink float32

// BenchmarkPeak is the compute-roofline probe, as BenchmarkMemory is the
// bandwidth one: float32 FMAs from registers only, in independent chains,
// on threads goroutines at once:
//
//	BenchmarkPeak/isa=<avx512|avx2>/threads=<t>
//
// It reports GFLOP/s (an FMA is 2 flops), as BenchmarkTied does, so the
// tied kernel at w workers is stated as a fraction of the best isa's peak
// at threads=w. It runs nothing with the purego tag or off amd64.
func BenchmarkPeak(b *testing.B) {
	for _, l := range peak.Loops() {
		for _, t := range WorkerCounts(runtime.GOMAXPROCS(0)) {
			b.Run(Sub(PeakKeys, l.Name, t), func(b *testing.B) {
				for b.Loop() {
					onThreads(t, func() float32 { return l.Run(peakTurns) })
				}
				flops := float64(t) * peakTurns * float64(l.Flops)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, benchfile.GFLOPPerSec)
			})
		}
	}
}

// onThreads runs f on t goroutines at once (the caller's among them).
func onThreads(t int, f func() float32) {
	if t == 1 {
		peakSink += f()
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range t - 1 {
		wg.Go(func() {
			x := f()
			mu.Lock()
			peakSink += x
			mu.Unlock()
		})
	}
	x := f()
	wg.Wait()
	peakSink += x
}
