//go:build !purego

package vec

import "golang.org/x/sys/cpu"

//go:generate sh ../../_asm/generate.sh

var impls = []impl{
	{"avx512", cpu.X86.HasAVX512F, addAVX512, addScaledAVX512},
	{"avx2", cpu.X86.HasAVX2, addAVX2, addScaledAVX2},
	generic,
}
