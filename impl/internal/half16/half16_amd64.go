//go:build !purego

package half16

import "golang.org/x/sys/cpu"

//go:generate sh ../../../_asm/generate.sh

// AVX-512 first: on this project's machine (AMD Zen 5) it is the widest
// path; AVX2 with F16C serves older x86-64 CPUs.
var impls = []impl{
	{
		name: "avx512", ok: cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW,
		add:       [2]func([]float32, []uint16){addBF16AVX512, addF16AVX512},
		widen:     [2]func([]float32, []uint16){widenBF16AVX512, widenF16AVX512},
		addScaled: [2]func([]float32, []uint16, float32){addScaledBF16AVX512, addScaledF16AVX512},
		narrow:    [2]func([]uint16, []float32){narrowBF16AVX512, narrowF16AVX512},
	},
	{
		name: "avx2", ok: cpu.X86.HasAVX2 && cpu.X86.HasF16C,
		add:       [2]func([]float32, []uint16){blocks(addBF16AVX2, generic.add[BF16]), blocks(addF16AVX2, generic.add[F16])},
		widen:     [2]func([]float32, []uint16){blocks(widenBF16AVX2, generic.widen[BF16]), blocks(widenF16AVX2, generic.widen[F16])},
		addScaled: [2]func([]float32, []uint16, float32){blocksScaled(addScaledBF16AVX2, generic.addScaled[BF16]), blocksScaled(addScaledF16AVX2, generic.addScaled[F16])},
		narrow:    [2]func([]uint16, []float32){blocksNarrow(narrowBF16AVX2, generic.narrow[BF16]), blocksNarrow(narrowF16AVX2, generic.narrow[F16])},
	},
	generic,
}

// The AVX2 functions handle whole blocks of 16 elements; the rest goes to
// the generic loop, which gives the same bits.

func blocks(asm, rest func([]float32, []uint16)) func([]float32, []uint16) {
	return func(dst []float32, src []uint16) {
		k := len(dst) &^ 15
		asm(dst[:k], src[:k])
		rest(dst[k:], src[k:])
	}
}

func blocksScaled(asm, rest func([]float32, []uint16, float32)) func([]float32, []uint16, float32) {
	return func(dst []float32, src []uint16, s float32) {
		k := len(dst) &^ 15
		asm(dst[:k], src[:k], s)
		rest(dst[k:], src[k:], s)
	}
}

func blocksNarrow(asm, rest func([]uint16, []float32)) func([]uint16, []float32) {
	return func(dst []uint16, src []float32) {
		k := len(dst) &^ 15
		asm(dst[:k], src[:k])
		rest(dst[k:], src[k:])
	}
}
