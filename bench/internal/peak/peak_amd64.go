//go:build !purego

package peak

import "golang.org/x/sys/cpu"

//go:generate sh ../../../_asm/generate.sh

func loops() []Loop {
	var ls []Loop
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ {
		ls = append(ls, Loop{"avx512", 2 * 24 * 16, func(n int) float32 { return fmaAVX512(n, 1e-3, 1e-3) }})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ls = append(ls, Loop{"avx2", 2 * 12 * 8, func(n int) float32 { return fmaAVX2(n, 1e-3, 1e-3) }})
	}
	return ls
}
