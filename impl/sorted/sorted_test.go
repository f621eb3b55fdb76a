package sorted

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/impl/scatter"
	"github.com/embgrad/embgrad/internal/kerneltest"
	"github.com/embgrad/embgrad/reference"
)

// TestSortPositions checks the sort on every path (comparison sort, one to
// three radix passes, skipped passes): keys ordered by id, then position,
// padding left out.
func TestSortPositions(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, V := range []int{1, 2, 3, 1 << 11, 1<<11 + 1, 50257, 1<<22 + 3, math.MaxInt32} {
		for _, n := range []int{0, 1, smallSort - 1, smallSort, 5000} {
			for _, dist := range []bench.Dist{bench.Uniform, bench.Zipf, bench.Same} {
				ids := kerneltest.IDs(t, dist, V, n, rng.Uint64())
				opt := embgrad.Options{}.WithPadding(int32(rng.IntN(V)))
				var want []uint64
				for i, id := range ids {
					if id != opt.PaddingIdx {
						want = append(want, uint64(id)<<32|uint64(i))
					}
				}
				slices.Sort(want)
				w := sortPositions(V, ids, opt)
				if !slices.Equal(w.keys, want) {
					t.Errorf("V=%d n=%d %s: keys not sorted by (id, position)", V, n, dist)
				}
				pool.Put(w)
			}
		}
	}
}

// TestSortPositionsHugeV checks the sort when V exceeds what an int32 id can
// name (a V×D table with V > 2³¹ is valid for small D, and for any V when
// D = 0): the radix passes must cover the ids' 31 bits, not V's.
func TestSortPositionsHugeV(t *testing.T) {
	ids := make([]int32, 2*smallSort)
	for i := range ids {
		ids[i] = int32(uint32(i) * 2654435761 % math.MaxInt32)
	}
	ids[0], ids[1] = math.MaxInt32, 0
	var want []uint64
	for i, id := range ids {
		want = append(want, uint64(id)<<32|uint64(i))
	}
	slices.Sort(want)
	for _, V := range []int{1 << 31, 1 << 34, math.MaxInt} {
		w := sortPositions(V, ids, embgrad.Options{})
		if !slices.Equal(w.keys, want) {
			t.Errorf("V=%d: keys not sorted by (id, position)", V)
		}
		pool.Put(w)
	}
}

// TestAgainstOracle runs batches small and large (the suites' are small,
// so this is where the radix passes meet the oracle) with every option.
// The bits must moreover be the reference loop's (scatter): each row is
// summed in position order, and scaled products are rounded as there.
func TestAgainstOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := []struct{ V, D, N int }{
		{1, 3, 200}, {2, 1, 5}, {7, 5, 300}, {1000, 4, 100}, {3000, 17, 2000},
	}
	if !testing.Short() {
		shapes = append(shapes, struct{ V, D, N int }{50257, 8, 4096}, struct{ V, D, N int }{1<<20 + 3, 1, 1000})
	}
	for _, s := range shapes {
		for _, dist := range []bench.Dist{bench.Uniform, bench.Zipf, bench.Same} {
			for _, opt := range []embgrad.Options{
				{}, {ScaleGradByFreq: true},
				embgrad.Options{ScaleGradByFreq: true}.WithPadding(0),
				embgrad.Options{}.WithPadding(int32(s.V - 1)),
			} {
				name := fmt.Sprintf("V=%d/D=%d/N=%d/%s/%+v", s.V, s.D, s.N, dist, opt)
				ids := kerneltest.IDs(t, dist, s.V, s.N, rng.Uint64())
				g := kerneltest.Normal(rng, s.N*s.D)
				dst := kerneltest.Normal(rng, s.V*s.D)
				loop := append([]float32(nil), dst...)
				want, err := reference.Oracle(dst, s.V, s.D, ids, g, opt)
				if err != nil {
					t.Fatal(err)
				}
				if err := (Kernel{}).Backward(dst, s.V, s.D, ids, g, opt); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := want.Check(dst); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if err := (scatter.Kernel{}).Backward(loop, s.V, s.D, ids, g, opt); err != nil {
					t.Fatal(err)
				}
				if !sameBits(dst, loop) {
					t.Errorf("%s: bits differ from the reference loop", name)
				}
			}
		}
	}
}

func sameBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

var raceEnabled bool // see race_test.go

// TestZeroAllocs checks that steady-state calls reuse pooled workspaces.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	rng := rand.New(rand.NewPCG(2, 2))
	const V, D, N = 50257, 16, 8192
	ids := kerneltest.IDs(t, bench.Zipf, V, N, rng.Uint64())
	g, dst := kerneltest.Normal(rng, N*D), make([]float32, V*D)
	for _, opt := range []embgrad.Options{{}, {ScaleGradByFreq: true}} {
		if n := testing.AllocsPerRun(20, func() { _ = Kernel{}.Backward(dst, V, D, ids, g, opt) }); n != 0 {
			t.Errorf("Backward %+v: %v allocs/op, want 0", opt, n)
		}
	}
}

// TestConcurrent runs one Kernel value from several goroutines on distinct
// dst buffers (run it with -race): pooled workspaces must not be shared.
func TestConcurrent(t *testing.T) {
	const V, D, N = 300, 8, 1000
	rng := rand.New(rand.NewPCG(3, 3))
	var wg sync.WaitGroup
	for w := range 4 {
		ids, g := kerneltest.IDs(t, bench.Dists()[w], V, N, rng.Uint64()), kerneltest.Normal(rng, N*D)
		wg.Go(func() {
			want := make([]float32, V*D)
			if err := (scatter.Kernel{}).Backward(want, V, D, ids, g, embgrad.Options{}); err != nil {
				t.Error(err)
			}
			for range 50 {
				got := make([]float32, V*D)
				if err := (Kernel{}).Backward(got, V, D, ids, g, embgrad.Options{}); err != nil {
					t.Error(err)
				}
				if !sameBits(got, want) {
					t.Errorf("goroutine %d: result differs from the reference loop", w)
					return
				}
			}
		})
	}
	wg.Wait()
}
