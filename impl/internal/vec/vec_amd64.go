//go:build !purego

package vec

import "golang.org/x/sys/cpu"

//go:generate sh ../../../_asm/generate.sh

// AVX-512 comes first because it measured faster than AVX2 on this
// project's AMD Zen 5 machine, on rows in cache (BenchmarkAdd) and in the
// GPT-2 scatter (results/vec/AVX512.md).
var impls = []impl{
	{"avx512", cpu.X86.HasAVX512F, addAVX512, addScaledAVX512, prefetchT0,
		subScaledAVX512, sgdDecayAVX512, scaleSubAVX512, adamAVX512},
	{"avx2", cpu.X86.HasAVX2, addAVX2, addScaledAVX2, prefetchT0,
		subScaledAVX2, sgdDecayAVX2, scaleSubAVX2, adamAVX2},
	generic,
}

// haveNT: ClearStream's non-temporal assembly runs (AVX2, and not forced
// off by EMBGRAD_PUREGO like the rest of the assembly).
var haveNT = cpu.X86.HasAVX2 && !PureGo
