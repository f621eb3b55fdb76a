package bench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/bench/internal/peak"
)

// peakFlops is the work of one op per thread, whatever the isa: 2²⁹ flops,
// some 4.7 ms on one Zen 4 core at 114 GFLOP/s — long beside the start and
// end of an op (microseconds with the crew spinning), short enough for
// -benchtime 3x.
const peakFlops = 1 << 29

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
//
// The threads other than the caller's are a crew started, and one untimed
// op run on all of them, before the timed loop; between ops they spin
// rather than park. A goroutine started per op (as the first version did)
// had to wake an idle vCPU first, which on a VM can take milliseconds, so
// the two-thread figure measured wake-ups, not FMAs.
func BenchmarkPeak(b *testing.B) {
	for _, l := range peak.Loops() {
		for _, t := range WorkerCounts(runtime.GOMAXPROCS(0)) {
			b.Run(Sub(PeakKeys, l.Name, t), func(b *testing.B) {
				turns := peakFlops / l.Flops
				c := startCrew(t-1, func() float32 { return l.Run(turns) })
				defer c.stop()
				c.run() // untimed: every thread awake and running FMAs
				for b.Loop() {
					c.run()
				}
				flops := float64(t) * float64(turns) * float64(l.Flops)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, benchfile.GFLOPPerSec)
			})
		}
	}
}

// A crew runs f on the caller and on n helper goroutines at once, each
// call of run one op. Helpers spin on gen between ops.
type crew struct {
	f    func() float32
	n    int
	gen  atomic.Int64 // op number; -1 stops the helpers
	done atomic.Int64 // helper ops finished, over all ops
	wg   sync.WaitGroup
	sum  []float32 // each helper's results, read after stop
}

func startCrew(n int, f func() float32) *crew {
	c := &crew{f: f, n: n, sum: make([]float32, n)}
	for i := range n {
		c.wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			seen := int64(0)
			for {
				g := c.gen.Load()
				if g < 0 {
					return
				}
				if g == seen {
					// Spin: parking would hand the vCPU back. Gosched
					// returns at once unless another goroutine waits
					// for this P (more helpers than Ps, in tests).
					runtime.Gosched()
					continue
				}
				seen = g
				c.sum[i] += c.f()
				c.done.Add(1)
			}
		})
	}
	return c
}

// run runs one op: f on every helper and on the caller, returning when all
// have finished.
func (c *crew) run() {
	g := c.gen.Add(1)
	peakSink += c.f()
	for c.done.Load() < g*int64(c.n) {
		runtime.Gosched()
	}
}

func (c *crew) stop() {
	c.gen.Store(-1)
	c.wg.Wait()
	for _, x := range c.sum {
		peakSink += x
	}
}

// TestCrew checks that each run calls f once on every thread and returns
// only after all calls have finished.
func TestCrew(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		var calls, finished atomic.Int64
		c := startCrew(n, func() float32 {
			calls.Add(1)
			var x atomic.Int64
			for range 100000 {
				x.Add(1)
			}
			finished.Add(1)
			return 1
		})
		for op := int64(1); op <= 5; op++ {
			c.run()
			if got, want := finished.Load(), op*int64(n+1); got != want {
				t.Fatalf("n=%d: after op %d, %d calls finished, want %d", n, op, got, want)
			}
		}
		c.stop()
		if got := calls.Load(); got != 5*int64(n+1) {
			t.Errorf("n=%d: %d calls, want %d", n, got, 5*(n+1))
		}
	}
}
