package half

import (
	"math"
	"math/rand/v2"
)

// StochasticBits returns the random word that rounds element i of the stream seeded by seed: the
// first Uint64 of a math/rand/v2 PCG seeded with (seed, i). It depends on (seed, i) only, so a kernel
// that numbers its output elements (for a row-major V×D dst, i = row·D + col) gets the same bits
// whatever its worker count or order of work.
func StochasticBits(seed, i uint64) uint64 {
	var p rand.PCG
	p.Seed(seed, i)
	return p.Uint64()
}

// BFloat16Stochastic rounds f to one of its two bfloat16 neighbours, away from zero when the
// leading 16 bits of bits are below the 16 dropped bits of f, so with probability equal to f's
// fractional position between them when bits is uniform. Exact values, ±Inf and NaN are converted
// as by BFloat16FromFloat32. A magnitude beyond the largest finite bfloat16 has 2¹²⁸ (Inf) as its
// upper neighbour.
func BFloat16Stochastic(f float32, bits uint64) BFloat16 {
	x := math.Float32bits(f)
	if x&f32Abs > f32Inf {
		return BFloat16(bf16NaN(x))
	}
	q := x >> 16
	if uint32(bits>>48) < x&0xffff {
		q++
	}
	return BFloat16(q)
}

// Float16Stochastic rounds f to one of its two float16 neighbours as BFloat16Stochastic does,
// comparing the dropped bits (13 for a normal result, more for a subnormal one) with as many leading
// bits of bits, so the probability is exact; below 2⁻⁶⁴, where more than 64 bits are dropped, it is
// truncated to a multiple of 2⁻⁶⁴. A magnitude at or beyond 2¹⁶ becomes ±Inf, and one between the
// largest finite float16 and 2¹⁶ has Inf as its upper neighbour.
func Float16Stochastic(f float32, bits uint64) Float16 {
	x := math.Float32bits(f)
	sign, a := uint16(x>>16)&0x8000, x&f32Abs
	switch {
	case a > f32Inf:
		return Float16(f16NaN(x))
	case a >= f16Overflow:
		return Float16(sign | f16Inf)
	}
	m, s := f16Split(a)
	q, up := m>>s, false
	if s < 64 {
		up = bits>>(64-s) < m&(1<<s-1)
	} else { // q == 0: the whole of m is dropped
		up = bits < m>>(s-64)
	}
	if up {
		q++
	}
	return Float16(sign | uint16(q))
}
