package sparsesharded

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/impl/sparse"
	"github.com/embgrad/embgrad/internal/kerneltest"
	"github.com/embgrad/embgrad/reference"
)

// sameBits reports the first element where got and want differ.
func sameBits(got, want []int32) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("element %d = %#x, want %#x", i, got[i], want[i])
		}
	}
	return nil
}

// bitsOf returns the bits of x, to compare floats bit for bit.
func bitsOf(x []float32) []int32 {
	b := make([]int32, len(x))
	for i, v := range x {
		b[i] = int32(math.Float32bits(v))
	}
	return b
}

// TestWorkerCounts checks that 1, 2, 3, 4 and 7 workers, and 1 to 9 parts,
// give bitwise the same rows and values, within the oracle's bound, on
// uniform, Zipf and all-same batches (hot rows cut into groups), scaled and
// padded or not; the shapes are large enough that the calls do run on
// several goroutines.
func TestWorkerCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := []struct{ V, D, N int }{{5000, 16, 16384}, {1000, 768, 512}}
	if !testing.Short() {
		shapes = append(shapes, struct{ V, D, N int }{3000, 33, 8192})
	}
	for _, s := range shapes {
		for _, dist := range []bench.Dist{bench.Uniform, bench.Zipf, bench.Same} {
			for _, opt := range []embgrad.Options{{}, embgrad.Options{ScaleGradByFreq: true}.WithPadding(0)} {
				name := fmt.Sprintf("V=%d/D=%d/N=%d/%s/%+v", s.V, s.D, s.N, dist, opt)
				ids, g := kerneltest.IDs(t, dist, s.V, s.N, rng.Uint64()), kerneltest.Normal(rng, s.N*s.D)
				want, err := reference.SparseOracle(s.V, s.D, ids, g, opt)
				if err != nil {
					t.Fatal(err)
				}
				run := func(k Kernel) ([]int32, []float32) {
					rows, vals := make([]int32, s.N), make([]float32, s.N*s.D)
					U, err := k.Sparse(rows, vals, s.V, s.D, ids, g, opt)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					return rows[:U], vals[:U*s.D]
				}
				rows1, vals1 := run(Kernel{workers: 1})
				if err := want.Check(rows1, vals1, len(rows1)); err != nil {
					t.Errorf("%s: 1 worker: %v", name, err)
				}
				var ks []Kernel
				var names []string
				for _, w := range []int{2, 3, 4, 7} {
					k := Kernel{}.WithSparseWorkers(w).(Kernel)
					if n := k.goroutines(s.N * s.D); n != w {
						t.Fatalf("%s: %d workers: %d goroutines", name, w, n)
					}
					ks, names = append(ks, k), append(names, fmt.Sprintf("%d workers", w))
				}
				for p := 1; p <= 9; p++ {
					ks, names = append(ks, Kernel{workers: 2, parts: p}), append(names, fmt.Sprintf("%d parts", p))
				}
				for i, k := range ks {
					rows, vals := run(k)
					if err := sameBits(rows, rows1); err != nil {
						t.Errorf("%s: %s: rows: %v", name, names[i], err)
					}
					if err := sameBits(bitsOf(vals), bitsOf(vals1)); err != nil {
						t.Errorf("%s: %s: values bits: %v", name, names[i], err)
					}
				}
			}
		}
	}
}

// TestColdRowsMatchSerial checks that rows named at most K times are summed
// in position order, bit for bit as impl/sparse's sorted kernel sums them,
// and that only hot rows may differ (in their grouping).
func TestColdRowsMatchSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const V, D, N = 3000, 40, 8192 // K = 256
	for _, dist := range []bench.Dist{bench.Uniform, bench.Zipf, bench.Text} {
		for _, opt := range []embgrad.Options{{}, {ScaleGradByFreq: true}} {
			ids, g := kerneltest.IDs(t, dist, V, N, rng.Uint64()), kerneltest.Normal(rng, N*D)
			count := make([]int, V)
			for _, id := range ids {
				count[id]++
			}
			rows0, vals0 := make([]int32, N), make([]float32, N*D)
			U0, err := sparse.Kernel{}.Sparse(rows0, vals0, V, D, ids, g, opt)
			if err != nil {
				t.Fatal(err)
			}
			rows, vals := make([]int32, N), make([]float32, N*D)
			U, err := Kernel{}.Sparse(rows, vals, V, D, ids, g, opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameBits(rows[:U], rows0[:U0]); err != nil {
				t.Fatalf("%s: rows: %v", dist, err)
			}
			hot := 0
			for u, r := range rows[:U] {
				if count[r] > minGroup {
					hot++
					continue
				}
				if err := sameBits(bitsOf(vals[u*D:(u+1)*D]), bitsOf(vals0[u*D:(u+1)*D])); err != nil {
					t.Errorf("%s %+v: row %d (named %d times): %v", dist, opt, r, count[r], err)
				}
			}
			if dist == bench.Zipf && hot == 0 {
				t.Errorf("zipf: no hot row; the test does not reach the grouping")
			}
		}
	}
}

// TestRadixMatchesComparisonSort checks the radix passes against a
// comparison sort on batches past radixMin, over id ranges needing one, two
// and three passes, padding dropped.
func TestRadixMatchesComparisonSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, V := range []int{1, 2, 1 << 11, 1<<11 + 1, 50257, 1 << 22, 1<<22 + 1, math.MaxInt32} {
		for _, n := range []int{radixMin, 3000} {
			ids := make([]int32, n)
			for i := range ids {
				ids[i] = int32(rng.IntN(V))
				if i%5 == 0 {
					ids[i] = int32(V - 1)
				}
			}
			opt := embgrad.Options{}.WithPadding(int32(V / 2))
			var w work
			got := w.sort(ids, opt)
			var want []uint64
			for i, id := range ids {
				if !opt.Skips(id) {
					want = append(want, uint64(id)<<32|uint64(i))
				}
			}
			// A stable sort by id of position-ordered keys is the key order.
			slices.Sort(want)
			if len(got) != len(want) {
				t.Fatalf("V=%d n=%d: %d keys, want %d", V, n, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("V=%d n=%d: key %d = %#x, want %#x", V, n, i, got[i], want[i])
				}
			}
		}
	}
}
