package suite

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Widths are the row widths both suites use: 1, both sides of every power
// of two a SIMD kernel may block by, and small widths, where kernels change
// code paths.
var Widths = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Stream gives case i of a check its own random stream, so a case's data
// depends only on the seed, the check and the case, not on what ran before.
func (c Config) Stream(check string, i int) *rand.Rand {
	return rand.New(rand.NewPCG(c.Seed^hash(check), uint64(i)))
}

// ValueKind selects what Value draws.
type ValueKind int

const (
	// Normal is a normal draw scaled by 2^[-4, 4]: magnitudes in one row
	// differ, so cancellation happens, and a dropped or doubled term is
	// far outside any rounding bound.
	Normal ValueKind = iota
	// Wild mixes ordinary values with ±0, subnormals, tiny and huge
	// magnitudes (up to 2¹²⁶, so a few sums overflow).
	Wild
	// Dyadic is k/256 for |k| ≤ 64: sums of thousands of them, and
	// products of two, scaled by powers of two, are exact in float32, so
	// every summation order gives the same bits.
	Dyadic
)

// Value draws one value of kind k.
func Value(rng *rand.Rand, k ValueKind) float32 {
	switch k {
	case Wild:
		return wild(rng)
	case Dyadic:
		return float32(rng.IntN(129)-64) / 256
	}
	return float32(rng.NormFloat64() * float64(int(1)<<rng.IntN(9)) / 16)
}

// Fill returns n values of kind k.
func Fill(rng *rand.Rand, n int, k ValueKind) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = Value(rng, k)
	}
	return x
}

func wild(rng *rand.Rand) float32 {
	r := rng.Uint64()
	sign := uint32(r>>63) << 31
	frac := uint32(r) & (1<<23 - 1)
	e := uint32(r>>40) % 64
	var exp uint32 // biased exponent
	switch k := (r >> 32) % 20; {
	case k < 13:
		exp = 127 - 11 + e%21 // magnitudes in [2⁻¹¹, 2¹⁰)
	case k < 15:
		return math.Float32frombits(sign) // ±0
	case k < 16:
		exp = 0 // subnormal
	case k < 17:
		exp = 1 + e%20 // tiny normal
	case k < 19:
		exp = 127 + 40 + e%60
	default:
		exp = 127 + 100 + e%26
	}
	return math.Float32frombits(sign | exp<<23 | frac)
}
