// Command sharded generates impl/sharded's assembly: non-temporal stores
// for the from-scratch pass, which writes the whole table once and never
// reads it back soon. A plain store first reads each line it writes (for
// ownership), doubling the traffic of a pass that only writes; VMOVNTPS
// writes around the caches. _asm/generate.sh runs it.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const unroll = 4 // YMM registers per turn: 128 bytes, two cache lines

func main() {
	ConstraintExpr("!purego")
	genStore()
	genClear()

	TEXT("sfence", NOSPLIT, "func()")
	Doc("sfence orders the non-temporal stores before it before every later store.")
	SFENCE()
	RET()
	Generate()
}

// genStore emits storeNTAVX2: dst = src by VMOVNTPS.
func genStore() {
	TEXT("storeNTAVX2", NOSPLIT, "func(dst, src []float32)")
	Doc("storeNTAVX2 copies src into dst with non-temporal stores; len(dst) = len(src) is a multiple of 8 and dst is 32-byte aligned.")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	Label("storeNT_unrolled")
	CMPQ(n, U32(unroll*8))
	JB(LabelRef("storeNT_single"))
	v := make([]VecVirtual, unroll)
	for u := range unroll {
		v[u] = YMM()
		VMOVUPS(Mem{Base: src, Disp: 32 * u}, v[u])
	}
	for u := range unroll {
		VMOVNTPS(v[u], Mem{Base: dst, Disp: 32 * u})
	}
	ADDQ(U32(unroll*32), dst)
	ADDQ(U32(unroll*32), src)
	SUBQ(U32(unroll*8), n)
	JMP(LabelRef("storeNT_unrolled"))
	Label("storeNT_single")
	TESTQ(n, n)
	JZ(LabelRef("storeNT_done"))
	y := YMM()
	VMOVUPS(Mem{Base: src}, y)
	VMOVNTPS(y, Mem{Base: dst})
	ADDQ(U32(32), dst)
	ADDQ(U32(32), src)
	SUBQ(U32(8), n)
	JMP(LabelRef("storeNT_single"))
	Label("storeNT_done")
	VZEROUPPER()
	RET()
}

// genClear emits clearNTAVX2: dst = +0 by VMOVNTPS.
func genClear() {
	TEXT("clearNTAVX2", NOSPLIT, "func(dst []float32)")
	Doc("clearNTAVX2 sets dst to +0 with non-temporal stores; len(dst) is a multiple of 8 and dst is 32-byte aligned.")
	dst := Load(Param("dst").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	z := YMM()
	VXORPS(z, z, z)
	Label("clearNT_unrolled")
	CMPQ(n, U32(unroll*8))
	JB(LabelRef("clearNT_single"))
	for u := range unroll {
		VMOVNTPS(z, Mem{Base: dst, Disp: 32 * u})
	}
	ADDQ(U32(unroll*32), dst)
	SUBQ(U32(unroll*8), n)
	JMP(LabelRef("clearNT_unrolled"))
	Label("clearNT_single")
	TESTQ(n, n)
	JZ(LabelRef("clearNT_done"))
	VMOVNTPS(z, Mem{Base: dst})
	ADDQ(U32(32), dst)
	SUBQ(U32(8), n)
	JMP(LabelRef("clearNT_single"))
	Label("clearNT_done")
	VZEROUPPER()
	RET()
}
