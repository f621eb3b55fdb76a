package bagsharded

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sortBucket sorts every bucket like slices.Sort, on each of its paths:
// insertion (≤ 64 keys), slices.Sort (few keys for the counters) and the
// counting sort.
func TestSortBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, low := range []int{0, 3, 9, 12} {
		for _, n := range []int{0, 1, 2, 64, 65, 300, 5000} {
			hi := uint64(rng.IntN(100)) << low // the bucket's high bits
			src := make([]uint64, n)
			for i := range src {
				id := hi | uint64(rng.IntN(1<<low))
				src[i] = id<<32 | uint64(i) // positions increasing, as dealt
			}
			dst := make([]uint64, n)
			sortBucket(dst, src, low)
			want := slices.Clone(src)
			slices.Sort(want)
			if !slices.Equal(dst, want) {
				t.Errorf("low=%d n=%d: not sorted", low, n)
			}
		}
	}
}
