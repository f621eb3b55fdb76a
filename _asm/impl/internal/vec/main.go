// Command vec generates impl/internal/vec's assembly: Add and AddScaled for
// AVX2 (YMM, masked tail by VMASKMOVPS) and AVX-512 (ZMM, masked tail by an
// opmask), the optimizer-update primitives of update.go, and Prefetch
// (PREFETCHT0 per cache line, SSE only).
// _asm/generate.sh runs it.
//
// The results must equal the pure-Go loops bit for bit, NaN payloads
// included, so each instruction takes its operands in the order gc uses for
// the reference loop (the first source's NaN wins when both are NaN):
// Add computes dst+src, AddScaled computes (src*s)+dst. AddScaled multiplies
// then adds (VMULPS, VADDPS) and never uses FMA: a fused multiply-add rounds
// once and would differ from the loop, which rounds the product.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa describes one vector width.
type isa struct {
	name  string                // suffix of the generated functions
	lanes int                   // float32 lanes per vector register
	vec   func() VecVirtual     // allocates a vector register
	tail  func(n Register) tail // sets up the masked tail for n (1..lanes-1) elements
}

// tail loads and stores the last n < lanes elements under a mask, leaving
// the other lanes of memory untouched.
type tail struct {
	load  func(m Mem, v VecVirtual)
	store func(v VecVirtual, m Mem)
}

const unroll = 4

func main() {
	ConstraintExpr("!purego")

	// tailmask: lanes 0..7 all ones, 8..15 zero; loading 8 lanes at
	// tailmask+4*(8-n) sets the first n.
	mask := GLOBL("tailmask", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := U32(0)
		if i < 8 {
			v = U32(0xffffffff)
		}
		DATA(4*i, v)
	}

	avx2 := isa{name: "AVX2", lanes: 8, vec: YMM, tail: func(n Register) tail {
		p := GP64()
		LEAQ(mask.Offset(32), p)
		NEGQ(n)
		m := YMM()
		VMOVDQU(Mem{Base: p, Index: n, Scale: 4}, m)
		return tail{
			load:  func(a Mem, v VecVirtual) { VMASKMOVPS(a, m, v) },
			store: func(v VecVirtual, a Mem) { VMASKMOVPS(v, m, a) },
		}
	}}
	avx512 := isa{name: "AVX512", lanes: 16, vec: ZMM, tail: func(n Register) tail {
		// k = 1<<n - 1
		MOVQ(n, RCX)
		b := GP32()
		MOVL(U32(1), b)
		SHLL(CL, b)
		DECL(b)
		k := K()
		KMOVW(b, k)
		return tail{
			load:  func(a Mem, v VecVirtual) { VMOVUPS_Z(a, k, v) },
			store: func(v VecVirtual, a Mem) { VMOVUPS(v, k, a) },
		}
	}}
	for _, x := range []isa{avx2, avx512} {
		gen(x, false)
		gen(x, true)
	}
	for _, op := range updateOps {
		for _, x := range []isa{avx2, avx512} {
			genMap(x, op)
		}
	}
	genPrefetch()
	genClearNT()
	genSfence()
	Generate()
}

// gen emits add<ISA> or addScaled<ISA>.
func gen(x isa, scaled bool) {
	name, sig := "add"+x.name, "func(dst, src []float32)"
	if scaled {
		name, sig = "addScaled"+x.name, "func(dst, src []float32, s float32)"
	}
	TEXT(name, NOSPLIT, sig)
	ref := "addGeneric"
	if scaled {
		ref = "addScaledGeneric"
	}
	Doc(fmt.Sprintf("%s is %s in %s; len(src) must be len(dst).", name, ref, x.name))
	dst := Mem{Base: Load(Param("dst").Base(), GP64())}
	src := Mem{Base: Load(Param("src").Base(), GP64())}
	n := Load(Param("dst").Len(), GP64())
	var s VecVirtual
	if scaled {
		p, err := Param("s").Resolve()
		if err != nil {
			panic(err)
		}
		s = x.vec()
		VBROADCASTSS(p.Addr, s)
	}

	// op computes one vector of the result in a register, from the dst and
	// src values in registers d and v; it returns the result register.
	op := func(d, v VecVirtual) VecVirtual {
		if scaled {
			VMULPS(s, v, v) // v = src*s
			VADDPS(d, v, v) // v = v+dst
			return v
		}
		VADDPS(v, d, d) // d = dst+src
		return d
	}

	bytes := 4 * x.lanes
	label := func(l string) string { return name + "_" + l }

	Label(label("unrolled"))
	CMPQ(n, U32(unroll*x.lanes))
	JB(LabelRef(label("single")))
	d, v := make([]VecVirtual, unroll), make([]VecVirtual, unroll)
	for u := range unroll {
		d[u], v[u] = x.vec(), x.vec()
		VMOVUPS(dst.Offset(u*bytes), d[u])
		VMOVUPS(src.Offset(u*bytes), v[u])
	}
	for u := range unroll {
		VMOVUPS(op(d[u], v[u]), dst.Offset(u*bytes))
	}
	ADDQ(U32(unroll*bytes), dst.Base)
	ADDQ(U32(unroll*bytes), src.Base)
	SUBQ(U32(unroll*x.lanes), n)
	JMP(LabelRef(label("unrolled")))

	Label(label("single"))
	CMPQ(n, U32(x.lanes))
	JB(LabelRef(label("tail")))
	d1, v1 := x.vec(), x.vec()
	VMOVUPS(dst, d1)
	VMOVUPS(src, v1)
	VMOVUPS(op(d1, v1), dst)
	ADDQ(U32(bytes), dst.Base)
	ADDQ(U32(bytes), src.Base)
	SUBQ(U32(x.lanes), n)
	JMP(LabelRef(label("single")))

	Label(label("tail"))
	TESTQ(n, n)
	JZ(LabelRef(label("done")))
	t := x.tail(n)
	dt, vt := x.vec(), x.vec()
	t.load(dst, dt)
	t.load(src, vt)
	t.store(op(dt, vt), dst)

	Label(label("done"))
	VZEROUPPER()
	RET()
}

// genPrefetch emits prefetchT0: one PREFETCHT0 per 64-byte line that s
// touches, from the line holding s[0] to the line holding s[len(s)-1].
// A prefetch is a hint: it never faults and changes no memory.
func genPrefetch() {
	TEXT("prefetchT0", NOSPLIT, "func(s []float32)")
	Doc("prefetchT0 asks the CPU to bring every cache line of s into all cache levels.")
	p := Load(Param("s").Base(), GP64())
	n := Load(Param("s").Len(), GP64())
	TESTQ(n, n)
	JZ(LabelRef("prefetchT0_done"))
	end := GP64()
	LEAQ(Mem{Base: p, Index: n, Scale: 4, Disp: -4}, end)
	ANDQ(I32(-64), p)
	Label("prefetchT0_loop")
	PREFETCHT0(Mem{Base: p})
	ADDQ(U32(64), p)
	CMPQ(p, end)
	JBE(LabelRef("prefetchT0_loop"))
	Label("prefetchT0_done")
	RET()
}

// genClearNT emits clearNTAVX2: dst = +0 by VMOVNTPS, stores that write
// around the caches (a plain store first reads the line it writes, doubling
// the traffic of a pass that only writes). ClearStream calls it on the
// 32-byte aligned middle of a slice.
func genClearNT() {
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

// genSfence emits sfence: non-temporal stores are weakly ordered, so a
// worker fences them before it reports its part done.
func genSfence() {
	TEXT("sfence", NOSPLIT, "func()")
	Doc("sfence orders the non-temporal stores before it before every later store.")
	SFENCE()
	RET()
}
