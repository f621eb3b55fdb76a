// Package kerneltest holds input builders shared by the kernels' own tests
// (the suites build their own cases; these are for kernel-specific tests
// such as worker counts and sort paths).
package kerneltest

import (
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad/bench"
)

// IDs returns bench.IDs(dist, V, n, seed), the benchmarks' own streams, or
// fails tb.
func IDs(tb testing.TB, dist bench.Dist, V, n int, seed uint64) []int32 {
	tb.Helper()
	ids, err := bench.IDs(dist, V, n, seed)
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// Normal returns n standard-normal float32 values.
func Normal(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}
