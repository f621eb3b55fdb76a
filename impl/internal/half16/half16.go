// Package half16 holds the row primitives of the 16-bit kernels: widening a
// bfloat16 or float16 row into float32 (set, add, or add scaled) and
// narrowing a float32 row to 16 bits, rounding to nearest even.
//
// Every function has a pure-Go reference version (package half's
// conversions), always compiled. On amd64 with AVX-512 (F and BW), or else
// AVX2 with F16C, the exported functions run generated assembly instead
// (see _asm/ at the repository root: VPMOVZXWD+VPSLLD and VCVTPH2PS to
// widen, VCVTPS2PH and integer rounding to narrow); its results are bit-for-bit those of the
// reference loops, which the tests check for every length 0..130, for every
// 16-bit pattern widened and for narrowing over all float32 exponents, NaN
// payloads included except after an add (as in impl/internal/vec) and
// that VCVTPH2PS sets a float16 signalling NaN's quiet bit (payload kept),
// where package half keeps it signalling. The
// pure-Go path is forced by the purego build tag or by EMBGRAD_PUREGO
// (vec.PureGo).
package half16

import (
	"math"

	"github.com/embgrad/embgrad/half"
	"github.com/embgrad/embgrad/impl/internal/vec"
)

// impl is one implementation of the primitives for one format.
type impl struct {
	name       string
	ok         bool
	add, widen [2]func(dst []float32, src []uint16)
	addScaled  [2]func(dst []float32, src []uint16, s float32)
	narrow     [2]func(dst []uint16, src []float32)
}

// Formats index the function arrays: 0 bfloat16, 1 float16.
const (
	BF16 = 0
	F16  = 1
)

var generic = impl{
	name: "generic", ok: true,
	add:       [2]func([]float32, []uint16){addGeneric(bf16), addGeneric(f16)},
	widen:     [2]func([]float32, []uint16){half.WidenBFloat16, half.WidenFloat16},
	addScaled: [2]func([]float32, []uint16, float32){addScaledGeneric(bf16), addScaledGeneric(f16)},
	narrow:    [2]func([]uint16, []float32){half.NarrowBFloat16, half.NarrowFloat16},
}

func bf16(x uint16) float32 { return math.Float32frombits(uint32(x) << 16) }
func f16(x uint16) float32  { return half.Float16(x).Float32() }

func addGeneric(w func(uint16) float32) func(dst []float32, src []uint16) {
	return func(dst []float32, src []uint16) {
		for i, x := range src {
			dst[i] += w(x)
		}
	}
}

func addScaledGeneric(w func(uint16) float32) func(dst []float32, src []uint16, s float32) {
	return func(dst []float32, src []uint16, s float32) {
		for i, x := range src {
			dst[i] += float32(w(x) * s) // rounded product: never fused
		}
	}
}

func choose(impls []impl, purego bool) impl {
	for _, m := range impls {
		if m.ok && !purego {
			return m
		}
	}
	return generic
}

var active = choose(impls, vec.PureGo)

// Active names the implementation in use ("avx512", "avx2" or "generic").
func Active() string { return active.name }

func check(nd, ns int) {
	if nd != ns {
		panic("half16: length mismatch")
	}
}

// Add sets dst[i] += widen(src[i]) for format f (BF16 or F16).
func Add(f int, dst []float32, src []uint16) { check(len(dst), len(src)); active.add[f](dst, src) }

// AddScaled sets dst[i] += float32(widen(src[i]) * s), the product rounded.
func AddScaled(f int, dst []float32, src []uint16, s float32) {
	check(len(dst), len(src))
	active.addScaled[f](dst, src, s)
}

// Widen sets dst[i] = widen(src[i]), exactly.
func Widen(f int, dst []float32, src []uint16) { check(len(dst), len(src)); active.widen[f](dst, src) }

// Narrow sets dst[i] to src[i] rounded to format f, nearest even.
func Narrow(f int, dst []uint16, src []float32) {
	check(len(dst), len(src))
	active.narrow[f](dst, src)
}
