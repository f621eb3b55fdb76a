// Package half holds the two 16-bit floating-point formats of mixed-precision training, bfloat16
// and IEEE 754 binary16 (float16), as bit patterns, with their conversions to and from float32.
//
// Contract:
//
//   - Widening (BFloat16.Float32, Float16.Float32, WidenBFloat16, WidenFloat16) is exact: every
//     16-bit value, subnormals included, is a float32 value. NaN widens to NaN with its sign and
//     payload bits kept (a signalling NaN stays signalling).
//   - Narrowing (BFloat16FromFloat32, Float16FromFloat32, NarrowBFloat16, NarrowFloat16) rounds to
//     nearest, ties to even, as IEEE 754 does: ±0 and ±Inf are kept, a magnitude at or beyond the
//     largest finite value plus half an ulp becomes ±Inf, values too small for a float16 normal
//     become float16 subnormals (or ±0). bfloat16 has float32's exponent range, so it overflows only
//     where float32 rounding would and its subnormals are the rounded float32 subnormals.
//     narrow(widen(x)) == x for every non-NaN x.
//   - NaN narrows to a quiet NaN of the same sign: the quiet bit is set and the leading payload bits
//     that fit are kept (the rest are dropped), so a NaN never becomes Inf or a number.
//   - Stochastic rounding (BFloat16Stochastic, Float16Stochastic, and the slice forms) rounds a value
//     between two neighbouring 16-bit values up in magnitude with probability equal to its
//     fractional position between them, so the rounded value is exact in expectation. See
//     StochasticBits for the reproducible random stream.
//
// The package is its own instead of github.com/x448/float16: that module has no bfloat16, the two
// formats share one rounding routine here (so one exhaustive test covers the shared logic), the
// stochastic mode needs the dropped bits that a finished conversion hides, and it keeps the module
// free of a dependency for about a hundred lines of integer code. Only integer operations and one
// exact power-of-two multiply are used, so results are the same at every GOAMD64 level.
package half

import "math"

// BFloat16 is a bfloat16 bit pattern: the upper half of a float32 (1 sign, 8 exponent, 7 fraction bits).
type BFloat16 uint16

// Float16 is an IEEE 754 binary16 bit pattern (1 sign, 5 exponent, 10 fraction bits).
type Float16 uint16

// Float32 returns b exactly as a float32.
func (b BFloat16) Float32() float32 { return math.Float32frombits(uint32(b) << 16) }

// Float32 returns h exactly as a float32.
func (h Float16) Float32() float32 { return math.Float32frombits(f16Widen(uint16(h))) }

// BFloat16FromFloat32 rounds f to the nearest bfloat16, ties to even.
func BFloat16FromFloat32(f float32) BFloat16 { return BFloat16(bf16Nearest(math.Float32bits(f))) }

// Float16FromFloat32 rounds f to the nearest float16, ties to even.
func Float16FromFloat32(f float32) Float16 { return Float16(f16Nearest(math.Float32bits(f))) }

const (
	f32Abs = 0x7fffffff
	f32Inf = 0x7f800000

	f16Inf = 0x7c00
	// f16Overflow is 2¹⁶ as float32 bits: from there on a float32 is beyond every float16
	// rounding neighbour, so it is ±Inf whatever the rounding.
	f16Overflow = 0x47800000
	// f16MinNormal is 2⁻¹⁴ as float32 bits, the smallest normal float16.
	f16MinNormal = 0x38800000
	// f16Rebias moves a float32 exponent (bias 127) to float16's (bias 15) in place.
	f16Rebias = (127 - 15) << 23
)

func f16Widen(h uint16) uint32 {
	sign := uint32(h&0x8000) << 16
	exp, frac := uint32(h>>10)&0x1f, uint32(h&0x3ff)
	switch exp {
	case 0x1f: // Inf or NaN: payload kept
		return sign | f32Inf | frac<<13
	case 0: // ±0 or subnormal: frac·2⁻²⁴, exact since frac < 2¹⁰
		return sign | math.Float32bits(float32(frac)*0x1p-24)
	}
	return sign | (exp<<10|frac)<<13 + f16Rebias
}

func bf16NaN(x uint32) uint16 { return uint16(x>>16) | 0x0040 }

func f16NaN(x uint32) uint16 { return uint16(x>>16)&0x8000 | 0x7e00 | uint16(x>>13)&0x3ff }

// f16Split describes a finite float32 magnitude a below 2¹⁶ as the float16 magnitude m>>s
// truncated, with the low s bits of m the dropped fraction (in units of 2⁻ˢ of a float16 ulp).
func f16Split(a uint32) (m uint64, s uint) {
	if a >= f16MinNormal {
		return uint64(a - f16Rebias), 13
	}
	exp := a >> 23
	m = uint64(a & 0x7fffff)
	if exp == 0 { // float32 subnormal: no implicit bit, exponent as for exp 1
		exp = 1
	} else {
		m |= 1 << 23
	}
	// The value is m·2^(exp-150); in units of the float16 subnormal 2⁻²⁴ that is m>>(126-exp).
	return m, uint(126 - exp)
}

func bf16Nearest(x uint32) uint16 {
	if x&f32Abs > f32Inf {
		return bf16NaN(x)
	}
	// Adding just under half (plus one when the kept part is odd) carries exactly when the
	// dropped half-word is above half or at half with an odd result; a carry out of the largest
	// finite value lands on Inf, as IEEE overflow does.
	return uint16((x + 0x7fff + (x>>16)&1) >> 16)
}

func f16Nearest(x uint32) uint16 {
	sign, a := uint16(x>>16)&0x8000, x&f32Abs
	switch {
	case a > f32Inf:
		return f16NaN(x)
	case a >= f16Overflow:
		return sign | f16Inf
	}
	m, s := f16Split(a)
	if s > 24 { // below 2⁻²⁵, under half the smallest subnormal
		return sign
	}
	q, rem, half := m>>s, m&(1<<s-1), uint64(1)<<(s-1)
	if rem > half || rem == half && q&1 == 1 {
		q++ // a carry into the exponent is the next binade, or Inf past the largest finite
	}
	return sign | uint16(q)
}
