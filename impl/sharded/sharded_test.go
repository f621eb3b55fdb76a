package sharded

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/impl/internal/vec"
	"github.com/embgrad/embgrad/impl/scatter"
	"github.com/embgrad/embgrad/internal/kerneltest"
	"github.com/embgrad/embgrad/reference"
)

// TestWorkerCounts checks that 1, 2, 3, 4 and 7 workers give bitwise the
// same result, within the oracle's bound, in both modes, on skewed streams,
// for tables narrow and wide; the shapes are large enough that the calls do
// run on several goroutines.
func TestWorkerCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := []struct{ V, D, N int }{{5000, 16, 16384}, {1000, 768, 512}}
	if !testing.Short() {
		shapes = append(shapes, []struct{ V, D, N int }{{5000, 33, 8192}, {3000, 48, 8192}, {2000, 130, 2048}}...)
	}
	for _, s := range shapes {
		for _, dist := range []bench.Dist{bench.Zipf, bench.Same} {
			for _, opt := range []embgrad.Options{
				{}, embgrad.Options{ScaleGradByFreq: true}.WithPadding(0),
			} {
				name := fmt.Sprintf("V=%d/D=%d/N=%d/%s/%+v", s.V, s.D, s.N, dist, opt)
				ids, g, base := kerneltest.IDs(t, dist, s.V, s.N, rng.Uint64()), kerneltest.Normal(rng, s.N*s.D), kerneltest.Normal(rng, s.V*s.D)
				accum, err := reference.Oracle(base, s.V, s.D, ids, g, opt)
				if err != nil {
					t.Fatal(err)
				}
				scratch, _ := reference.Oracle(make([]float32, len(base)), s.V, s.D, ids, g, opt)
				var first [2][]float32 // accumulate and scratch results of 1 worker
				for _, w := range []int{1, 2, 3, 4, 7} {
					k := Kernel{}.WithWorkers(w).(Kernel)
					if n := k.goroutines(s.N * s.D); n != w {
						t.Fatalf("%s: %d workers: %d goroutines", name, w, n)
					}
					for m, run := range []func([]float32, int, int, []int32, []float32, embgrad.Options) error{k.Backward, k.BackwardScratch} {
						dst := append([]float32(nil), base...)
						if m == 1 {
							for i := range dst {
								dst[i] = float32(math.NaN())
							}
						}
						if err := run(dst, s.V, s.D, ids, g, opt); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						mode := []string{"accumulate", "scratch"}[m]
						if w == 1 {
							first[m] = dst
							if err := []*reference.Result{accum, scratch}[m].Check(dst); err != nil {
								t.Errorf("%s: %s: %v", name, mode, err)
							}
							continue
						}
						for i := range dst {
							if math.Float32bits(dst[i]) != math.Float32bits(first[m][i]) {
								t.Errorf("%s: %s: %d workers: element (%d, %d) = %v, 1 worker gave %v",
									name, mode, w, i/s.D, i%s.D, dst[i], first[m][i])
								break
							}
						}
					}
				}
			}
		}
	}
}

// TestPartCounts checks that how the units are cut into parts, which the
// worker count and partsPerWorker decide, never changes a bit: 1 to 9 parts
// and 1 or 2 workers give what the default kernel gives.
func TestPartCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const V, D, N = 2000, 24, 16384 // D·N above minWork, so 2 workers run
	for _, dist := range []bench.Dist{bench.Zipf, bench.Same, bench.Uniform} {
		ids, g, base := kerneltest.IDs(t, dist, V, N, rng.Uint64()), kerneltest.Normal(rng, N*D), kerneltest.Normal(rng, V*D)
		opt := embgrad.Options{ScaleGradByFreq: dist == bench.Zipf}
		want := append([]float32(nil), base...)
		if err := (Kernel{}).Backward(want, V, D, ids, g, opt); err != nil {
			t.Fatal(err)
		}
		for parts := 1; parts <= 9; parts++ {
			for _, w := range []int{1, 2} {
				got := append([]float32(nil), base...)
				k := Kernel{workers: w, parts: parts}
				if err := k.Backward(got, V, D, ids, g, opt); err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: %d parts, %d workers: element (%d, %d) = %v, default gives %v", dist, parts, w, i/D, i%D, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestColdRowsInPositionOrder checks that rows named at most K times are
// summed in position order, to the bits of the reference loop, beside hot
// rows or not, scaled or not.
func TestColdRowsInPositionOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const V, D, N = 3000, 40, 8192 // K = 256
	for _, dist := range []bench.Dist{bench.Uniform, bench.Zipf, bench.Text} {
		for _, opt := range []embgrad.Options{{}, {ScaleGradByFreq: true}} {
			ids, g := kerneltest.IDs(t, dist, V, N, rng.Uint64()), kerneltest.Normal(rng, N*D)
			count := make([]int, V)
			for _, id := range ids {
				count[id]++
			}
			want := kerneltest.Normal(rng, V*D)
			got := append([]float32(nil), want...)
			if err := (scatter.Kernel{}).Backward(want, V, D, ids, g, opt); err != nil {
				t.Fatal(err)
			}
			if err := (Kernel{}).WithWorkers(3).Backward(got, V, D, ids, g, opt); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if count[i/D] <= minGroup && math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %+v: element (%d, %d) = %v, the reference loop gives %v", dist, opt, i/D, i%D, got[i], want[i])
				}
			}
		}
	}
}

// TestHotRowSignedZero checks that a hot row (named more than K times)
// whose terms are all −0 keeps the sign the reference loop gives: −0 into −0
// stays −0, and into +0 gives +0.
func TestHotRowSignedZero(t *testing.T) {
	const V, D, N = 2, 3, 3 * minGroup
	negZero := float32(math.Copysign(0, -1))
	ids := make([]int32, N) // all row 0
	g := make([]float32, N*D)
	for i := range g {
		g[i] = negZero
	}
	for _, opt := range []embgrad.Options{{}, {ScaleGradByFreq: true}} {
		for _, z := range []float32{negZero, 0} {
			want := []float32{z, z, z, z, z, z}
			got := append([]float32(nil), want...)
			if err := (scatter.Kernel{}).Backward(want, V, D, ids, g, opt); err != nil {
				t.Fatal(err)
			}
			if err := (Kernel{}).Backward(got, V, D, ids, g, opt); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Errorf("%+v, dst %v: element (%d, %d) = %v, the reference loop gives %v", opt, z, i/D, i%D, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkColumnPasses backs the package doc's case against column blocks:
// on the GPT-2 shape with Zipf ids, one pass adding whole rows against two
// passes adding half rows each, as two column-block workers would, one at a
// time.
//
//	go test ./impl/sharded -run '^$' -bench ColumnPasses -count 10
func BenchmarkColumnPasses(b *testing.B) {
	const V, D, N = 50257, 768, 8192
	ids, err := bench.IDs(bench.Zipf, V, N, bench.Seed)
	if err != nil {
		b.Fatal(err)
	}
	dst, g := make([]float32, V*D), kerneltest.Normal(rand.New(rand.NewPCG(3, 3)), N*D)
	for _, blocks := range []int{1, 2} {
		b.Run(fmt.Sprintf("blocks=%d", blocks), func(b *testing.B) {
			for b.Loop() {
				for c := range blocks {
					c0, c1 := D*c/blocks, D*(c+1)/blocks
					for i, id := range ids {
						vec.Add(dst[int(id)*D+c0:int(id)*D+c1], g[i*D+c0:i*D+c1])
					}
				}
			}
		})
	}
}

// BenchmarkPrefetchAhead backs prefetchAhead: the GPT-2 shape with uniform
// and Zipf ids, accumulate mode, 1 and 2 workers, for prefetch distances 0
// (none), 1, 2 and 4 positions.
//
//	go test ./impl/sharded -run '^$' -bench PrefetchAhead -count 10
func BenchmarkPrefetchAhead(b *testing.B) {
	const V, D, N = 50257, 768, 8192
	dst, g := make([]float32, V*D), kerneltest.Normal(rand.New(rand.NewPCG(3, 3)), N*D)
	defer func(d int) { prefetchAhead = d }(prefetchAhead)
	for _, dist := range []bench.Dist{bench.Uniform, bench.Zipf} {
		ids, err := bench.IDs(dist, V, N, bench.Seed)
		if err != nil {
			b.Fatal(err)
		}
		for _, ahead := range []int{0, 1, 2, 4} {
			for _, w := range []int{1, 2} {
				b.Run(fmt.Sprintf("dist=%s/ahead=%d/workers=%d", dist, ahead, w), func(b *testing.B) {
					prefetchAhead = ahead
					k := Kernel{}.WithWorkers(w)
					for b.Loop() {
						if err := k.Backward(dst, V, D, ids, g, embgrad.Options{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkSplit takes apart the speed-up of 2 workers over 1 on the GPT-2
// shape, accumulate mode, with the cut into parts forced:
//
//   - workers=1/parts=1 against workers=1/parts=2 (or 4) is the cost of
//     splitting alone: one goroutine adds the same rows, part after part,
//     and each part's positions are scattered over the batch;
//   - workers=1/parts=P against workers=2/parts=P is what running the
//     parts at once gains, memory contention included.
//
// start=warm calls the kernel back to back, as the benchmark matrix does, so
// the helper is still spinning; start=cold keeps the caller busy for 1 ms
// before each call, as a training step does between backward calls, so the
// helper has gone to sleep (unless EMBGRAD_SPIN is longer) and must be
// woken. The metric to compare is ns/call, the time inside the calls:
// sec/op includes the busy millisecond. (Stopping the timer instead would
// stop the world to read memory statistics, and so put the spinning helper's
// thread to sleep too.)
//
// Command:
//
//	go test ./impl/sharded -run '^$' -bench Split -count 10
func BenchmarkSplit(b *testing.B) {
	const V, D, N = 50257, 768, 8192
	dst, g := make([]float32, V*D), kerneltest.Normal(rand.New(rand.NewPCG(3, 3)), N*D)
	for _, dist := range []bench.Dist{bench.Uniform, bench.Zipf} {
		ids, err := bench.IDs(dist, V, N, bench.Seed)
		if err != nil {
			b.Fatal(err)
		}
		for _, start := range []string{"warm", "cold"} {
			for _, c := range []struct{ workers, parts int }{{1, 1}, {1, 2}, {2, 2}, {1, 4}, {2, 4}} {
				if start == "cold" && c.workers == 1 && c.parts > 1 {
					continue // nothing to wake
				}
				name := fmt.Sprintf("dist=%s/start=%s/workers=%d/parts=%d", dist, start, c.workers, c.parts)
				b.Run(name, func(b *testing.B) {
					k := Kernel{workers: c.workers, parts: c.parts}
					var inCalls time.Duration
					for range b.N {
						if start == "cold" {
							for t0 := time.Now(); time.Since(t0) < time.Millisecond; {
							}
						}
						t0 := time.Now()
						if err := k.Backward(dst, V, D, ids, g, embgrad.Options{}); err != nil {
							b.Fatal(err)
						}
						inCalls += time.Since(t0)
					}
					b.ReportMetric(float64(inCalls.Nanoseconds())/float64(b.N), "ns/call")
				})
			}
		}
	}
}
