//go:build !purego

package half16

import "golang.org/x/sys/cpu"

//go:generate sh ../../../_asm/generate.sh

var impls = []impl{
	{
		name: "avx512", ok: cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW,
		add:       [2]func([]float32, []uint16){addBF16AVX512, addF16AVX512},
		widen:     [2]func([]float32, []uint16){widenBF16AVX512, widenF16AVX512},
		addScaled: [2]func([]float32, []uint16, float32){addScaledBF16AVX512, addScaledF16AVX512},
		narrow:    [2]func([]uint16, []float32){narrowBF16AVX512, narrowF16AVX512},
	},
	generic,
}
