package suite

import (
	"fmt"
	"math"
)

// sameBits is bit-for-bit equality.
func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// sameBitsAnyNaN is bit-for-bit equality except that every NaN equals every
// NaN. Go leaves NaN payloads unspecified, and the compiler may swap the
// operands of a commutative add (it does under -race), which changes which
// input's NaN an x86 add returns; so two builds of the same loop can differ
// only in NaN payloads.
func sameBitsAnyNaN(a, b float32) bool { return sameBits(a, b) || a != a && b != b }

// FirstDiff returns the first index where a and b differ bit for bit, or
// -1. Slices of different lengths differ at the shorter length.
func FirstDiff(a, b []float32) int { return firstDiff(a, b, sameBits) }

func firstDiff(a, b []float32, eq func(a, b float32) bool) int {
	for i := range min(len(a), len(b)) {
		if !eq(a[i], b[i]) {
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
	return diffError(got, want, D, wantIs, sameBits)
}

// SameBitsAnyNaN is SameBits with all NaNs equal, for comparing two
// different builds of one computation (see sameBitsAnyNaN).
func SameBitsAnyNaN(got, want []float32, D int, wantIs string) error {
	return diffError(got, want, D, wantIs, sameBitsAnyNaN)
}

func diffError(got, want []float32, D int, wantIs string, eq func(a, b float32) bool) error {
	i := firstDiff(got, want, eq)
	if i < 0 {
		return nil
	}
	if i >= len(got) || i >= len(want) {
		return fmt.Errorf("got %d elements, want %d %s", len(got), len(want), wantIs)
	}
	D = max(D, 1) // invalid cases may have D ≤ 0
	n := 0
	for k := i; k < len(got); k++ {
		if !eq(got[k], want[k]) {
			n++
		}
	}
	return fmt.Errorf("row %d col %d: got %v (bits %#08x), want %v (bits %#08x) %s; %d element(s) differ",
		i/D, i%D, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]), wantIs, n)
}
