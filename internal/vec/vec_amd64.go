//go:build !purego

package vec

import "golang.org/x/sys/cpu"

//go:generate sh ../../_asm/generate.sh

// AVX-512 comes first because it pays on this project's AMD Zen 5 machine:
// AVX2 takes 1.4–2.3× as long on rows in cache (BenchmarkAdd, -count 10),
// and the GPT-2 scatter (768-float rows, uniform ids) was 28% slower with it
// (p=0.001, n=30).
var impls = []impl{
	{"avx512", cpu.X86.HasAVX512F, addAVX512, addScaledAVX512, prefetchT0},
	{"avx2", cpu.X86.HasAVX2, addAVX2, addScaledAVX2, prefetchT0},
	generic,
}
