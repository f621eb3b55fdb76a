//go:build !race

package sparsesharded

import (
	"testing"

	"github.com/embgrad/embgrad"
)

// The serial path (one worker, or a call below minWork) allocates nothing
// once warm, on batches past radixMin and with hot rows; the race detector
// drops pooled items at random, so the test is off under -race.
func TestSerialDoesNotAllocate(t *testing.T) {
	const V, D, N = 70000, 64, 8192
	ids := make([]int32, N)
	for i := range ids {
		ids[i] = int32(i * 7919 % V)
		if i%3 == 0 {
			ids[i] = 5 // a hot row
		}
	}
	g := make([]float32, N*D)
	rows, vals := make([]int32, N), make([]float32, N*D)
	k := Kernel{}.WithSparseWorkers(1)
	for _, opt := range []embgrad.Options{{}, embgrad.Options{ScaleGradByFreq: true}.WithPadding(3)} {
		if n := testing.AllocsPerRun(20, func() { _, _ = k.Sparse(rows, vals, V, D, ids, g, opt) }); n != 0 {
			t.Errorf("%+v: %v allocs per call, want 0", opt, n)
		}
	}
}
