// Command tied generates impl/tied's assembly: the register-blocked
// micro-kernels of the output part dst += dZᵀ·H, an mr×nr tile of dst kept
// in vector registers while t runs, one broadcast of dZ[t, v+r] and one FMA
// per row and vector of H[t, j:j+nr]. AVX-512: 12×32 (24 accumulators of
// 32 ZMM); AVX2+FMA: 6×16 (12 of 16 YMM). Each first prefetches its tile
// of c. Run _asm/generate.sh.
//
// Unlike impl/internal/vec these use FMA: the tied kernel is checked against
// the oracle's bound, not bitwise against the reference loop, and a fused
// multiply-add only rounds less.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa is one micro-kernel: its tile and vector width.
type isa struct {
	name   string
	mr, nr int // tile rows (v) and columns (j)
	lanes  int // float32 lanes per vector register
	vec    func() VecVirtual
	zero   func(v VecVirtual)
}

func main() {
	ConstraintExpr("!purego")
	for _, x := range []isa{
		{"AVX512", 12, 32, 16, ZMM, func(v VecVirtual) { VPXORD(v, v, v) }},
		{"AVX2", 6, 16, 8, YMM, func(v VecVirtual) { VXORPS(v, v, v) }},
	} {
		tile(x)
	}
	Generate()
}

func tile(x isa) {
	TEXT("tile"+x.name, NOSPLIT, "func(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("tile%s adds a %d×%d tile of aᵀ·b into c: for r < %d, j < %d,", x.name, x.mr, x.nr, x.mr, x.nr),
		"c[r*ldc+j] += Σ_{t<k} a[t*lda+r]·b[t*ldb+j], the sum formed from zero in",
		"increasing t by FMA, then added to c. Strides are in elements; k ≥ 0.")
	c := Load(Param("c"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	k := Load(Param("k"), GP64())
	strides := make([]GPVirtual, 3)
	for i, name := range []string{"ldc", "lda", "ldb"} {
		strides[i] = GP64()
		Load(Param(name), strides[i])
		SHLQ(U8(2), strides[i])
	}
	ldc, lda, ldb := strides[0], strides[1], strides[2]

	// Ask for the tile of c now: it is read only after the k turns, by
	// which time a line from DRAM has long arrived. With T ≤ kc each tile
	// of dst is touched once per call, so without this its first read
	// stalled the end of every tile on memory.
	pc := GP64()
	MOVQ(c, pc)
	for r := range x.mr {
		for off := 0; off < 4*x.nr; off += 64 {
			PREFETCHT0(Mem{Base: pc, Disp: off})
		}
		if r < x.mr-1 {
			ADDQ(ldc, pc)
		}
	}

	nv := x.nr / x.lanes
	acc := make([][]VecVirtual, x.mr)
	for r := range acc {
		acc[r] = make([]VecVirtual, nv)
		for q := range acc[r] {
			acc[r][q] = x.vec()
			x.zero(acc[r][q])
		}
	}
	bv := make([]VecVirtual, nv)
	for q := range bv {
		bv[q] = x.vec()
	}

	loop, done := "loop"+x.name, "done"+x.name
	Label(loop)
	TESTQ(k, k)
	JZ(LabelRef(done))
	for q := range bv {
		VMOVUPS(Mem{Base: b, Disp: 4 * x.lanes * q}, bv[q])
	}
	for r := range x.mr {
		s := x.vec()
		VBROADCASTSS(Mem{Base: a, Disp: 4 * r}, s)
		for q := range nv {
			VFMADD231PS(bv[q], s, acc[r][q])
		}
	}
	ADDQ(lda, a)
	ADDQ(ldb, b)
	DECQ(k)
	JMP(LabelRef(loop))

	Label(done)
	for r := range x.mr {
		for q := range nv {
			m := Mem{Base: c, Disp: 4 * x.lanes * q}
			VADDPS(m, acc[r][q], acc[r][q])
			VMOVUPS(acc[r][q], m)
		}
		if r < x.mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}
