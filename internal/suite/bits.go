package suite

import (
	"fmt"
	"math"
)

// FirstDiff returns the first index where a and b differ bit for bit, or
// -1. Slices of different lengths differ at the shorter length.
func FirstDiff(a, b []float32) int {
	for i := range min(len(a), len(b)) {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// SameBits returns nil if got and want are bit-for-bit equal, else an error
// naming the first differing (row, col) of width D, both values, what want
// is, and how many elements differ.
func SameBits(got, want []float32, D int, wantIs string) error {
	i := FirstDiff(got, want)
	if i < 0 {
		return nil
	}
	if i >= len(got) || i >= len(want) {
		return fmt.Errorf("got %d elements, want %d %s", len(got), len(want), wantIs)
	}
	D = max(D, 1) // invalid cases may have D ≤ 0
	n := 0
	for k := i; k < len(got); k++ {
		if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
			n++
		}
	}
	return fmt.Errorf("row %d col %d: got %v (bits %#08x), want %v (bits %#08x) %s; %d element(s) differ",
		i/D, i%D, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]), wantIs, n)
}
