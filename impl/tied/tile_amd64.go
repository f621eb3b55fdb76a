//go:build !purego

package tied

import "golang.org/x/sys/cpu"

//go:generate sh ../../_asm/generate.sh

var tiles = []tileKernel{
	{"avx512", cpu.X86.HasAVX512F, 12, 32, tileAVX512},
	{"avx2", cpu.X86.HasAVX2 && cpu.X86.HasFMA, 6, 16, tileAVX2},
}
