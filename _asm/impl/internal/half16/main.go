// Command half16 generates impl/internal/half16's assembly: the 16-bit row
// primitives in AVX-512 (ZMM, 16 lanes, masked tail by an opmask) and in
// AVX2 with F16C (YMM, blocks of 16 elements; the caller finishes the last
// len%16 in Go, AVX2 having no 16-bit masked loads). _asm/generate.sh runs it.
//
// Widening: bfloat16 by zero-extension and a 16-bit shift (VPMOVZXWD,
// VPSLLD), float16 by VCVTPH2PS; both exact. Narrowing to float16 by
// VCVTPS2PH with immediate 0 (round to nearest even, the immediate taking
// precedence over MXCSR). Narrowing to bfloat16 is integer arithmetic
// rounding to nearest even (add 0x7fff plus the kept part's low bit, shift)
// with NaN quieted by a compare and a masked move, the same steps as
// package half: VCVTNEPS2BF16 (AVX-512 BF16) is not used because it
// flushes subnormal inputs and results to zero, which the contract
// forbids. The scaled add multiplies then adds (VMULPS, VADDPS), never FMA.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const lanes = 16

func main() {
	ConstraintExpr("!purego")
	for _, f16 := range []bool{false, true} {
		genAdd(f16, false, false)
		genAdd(f16, true, false)
		genAdd(f16, false, true)
		genNarrow(f16)
		for _, op := range []string{"add", "addScaled", "widen"} {
			genAddAVX2(f16, op)
		}
		genNarrowAVX2(f16)
	}
	Generate()
}

func fname(f16 bool) string {
	if f16 {
		return "F16"
	}
	return "BF16"
}

// mask returns an opmask with the low n bits set (n in 1..15).
func mask(n Register) Op {
	MOVQ(n, RCX)
	b := GP32()
	MOVL(U32(1), b)
	SHLL(CL, b)
	DECL(b)
	k := K()
	KMOVW(b, k)
	return k
}

// widen loads 16 (or, under k, fewer) 16-bit values at m into v as float32.
func widen(f16 bool, m Mem, k Op, v VecVirtual) {
	switch {
	case f16 && k == nil:
		VCVTPH2PS(m, v)
	case f16:
		VCVTPH2PS_Z(m, k, v)
	case k == nil:
		VPMOVZXWD(m, v)
		VPSLLD(U8(16), v, v)
	default:
		VPMOVZXWD_Z(m, k, v)
		VPSLLD(U8(16), v, v)
	}
}

// genAdd emits add<F> (dst += widen(src)), addScaled<F> (dst += widen(src)*s)
// or widen<F> (dst = widen(src)).
func genAdd(f16, scaled, set bool) {
	name, sig, ref := "add"+fname(f16), "func(dst []float32, src []uint16)", "addGeneric"
	switch {
	case scaled:
		name, sig, ref = "addScaled"+fname(f16), "func(dst []float32, src []uint16, s float32)", "addScaledGeneric"
	case set:
		name, ref = "widen"+fname(f16), "widenGeneric"
	}
	name += "AVX512"
	TEXT(name, NOSPLIT, sig)
	Doc(fmt.Sprintf("%s is %s for %s in AVX-512; len(src) must be len(dst).", name, ref, fname(f16)))
	dst := Mem{Base: Load(Param("dst").Base(), GP64())}
	src := Mem{Base: Load(Param("src").Base(), GP64())}
	n := Load(Param("dst").Len(), GP64())
	var s VecVirtual
	if scaled {
		p, err := Param("s").Resolve()
		if err != nil {
			panic(err)
		}
		s = ZMM()
		VBROADCASTSS(p.Addr, s)
	}
	body := func(k Op, u int) {
		dst, src := dst.Offset(4*lanes*u), src.Offset(2*lanes*u)
		v := ZMM()
		widen(f16, src, k, v)
		if !set {
			d := ZMM()
			if k == nil {
				VMOVUPS(dst, d)
			} else {
				VMOVUPS_Z(dst, k, d)
			}
			if scaled {
				VMULPS(s, v, v) // v = src*s
				VADDPS(d, v, v) // v = v+dst
			} else {
				VADDPS(v, d, v) // v = dst+src
			}
		}
		if k == nil {
			VMOVUPS(v, dst)
		} else {
			VMOVUPS(v, k, dst)
		}
	}
	loop(name, n, dst, src, 4, 2, body)
}

// unroll is how many vectors the main loop handles per iteration.
const unroll = 4

// loop runs body over blocks of unroll vectors, then single vectors, then
// once under a mask for the tail; body(k, u) handles the vector u places
// after the pointers (k: the tail's mask, or nil).
func loop(name string, n Register, a, b Mem, sa, sb int, body func(k Op, u int)) {
	label := func(l string) string { return name + "_" + l }
	Label(label("unrolled"))
	CMPQ(n, U32(unroll*lanes))
	JB(LabelRef(label("loop")))
	for u := range unroll {
		body(nil, u)
	}
	ADDQ(U32(unroll*sa*lanes), a.Base)
	ADDQ(U32(unroll*sb*lanes), b.Base)
	SUBQ(U32(unroll*lanes), n)
	JMP(LabelRef(label("unrolled")))
	Label(label("loop"))
	CMPQ(n, U32(lanes))
	JB(LabelRef(label("tail")))
	body(nil, 0)
	ADDQ(U32(sa*lanes), a.Base)
	ADDQ(U32(sb*lanes), b.Base)
	SUBQ(U32(lanes), n)
	JMP(LabelRef(label("loop")))
	Label(label("tail"))
	TESTQ(n, n)
	JZ(LabelRef(label("done")))
	body(mask(n), 0)
	Label(label("done"))
	VZEROUPPER()
	RET()
}

// genNarrow emits narrow<F>: dst = round-to-nearest-even(src).
func genNarrow(f16 bool) {
	name := "narrow" + fname(f16) + "AVX512"
	TEXT(name, NOSPLIT, "func(dst []uint16, src []float32)")
	Doc(fmt.Sprintf("%s is narrowGeneric for %s in AVX-512; len(src) must be len(dst).", name, fname(f16)))
	dst := Mem{Base: Load(Param("dst").Base(), GP64())}
	src := Mem{Base: Load(Param("src").Base(), GP64())}
	n := Load(Param("dst").Len(), GP64())
	var one, bias, abs, inf, quiet VecVirtual
	if !f16 {
		c := func(x uint32) VecVirtual {
			r, z := GP32(), ZMM()
			MOVL(U32(x), r)
			VPBROADCASTD(r, z)
			return z
		}
		one, bias, abs, inf, quiet = c(1), c(0x7fff), c(0x7fffffff), c(0x7f800000), c(0x40)
	}
	body := func(k Op, u int) {
		dst, src := dst.Offset(2*lanes*u), src.Offset(4*lanes*u)
		x := ZMM()
		if k == nil {
			VMOVUPS(src, x)
		} else {
			VMOVUPS_Z(src, k, x)
		}
		if f16 {
			if k == nil {
				y := YMM() // register form, then a plain store: the memory form is slower
				VCVTPS2PH(U8(0), x, y)
				VMOVDQU(y, dst)
			} else {
				VCVTPS2PH(U8(0), x, k, dst)
			}
			return
		}
		t, a, q := ZMM(), ZMM(), ZMM()
		VPSRLD(U8(16), x, t)
		VPANDD(one, t, t)    // the kept part's low bit
		VPADDD(bias, t, t)   // + 0x7fff
		VPADDD(x, t, t)      // + x: carries exactly when rounding up
		VPSRLD(U8(16), t, t) // the rounded bfloat16
		VPANDD(abs, x, a)
		nan := K()
		VPCMPUD(U8(6), inf, a, nan) // |x| > Inf as unsigned: NaN
		VPSRLD(U8(16), x, q)
		VPORD(quiet, q, q) // the NaN with its quiet bit set
		VMOVDQA32(q, nan, t)
		if k == nil {
			y := YMM()
			VPMOVDW(t, y)
			VMOVDQU(y, dst)
		} else {
			VPMOVDW(t, k, dst)
		}
	}
	loop(name, n, dst, src, 2, 4, body)
}

// genAddAVX2 emits <op><F>AVX2 over the first len(dst) &^ 15 elements.
func genAddAVX2(f16 bool, op string) {
	name := op + fname(f16) + "AVX2"
	sig := "func(dst []float32, src []uint16)"
	if op == "addScaled" {
		sig = "func(dst []float32, src []uint16, s float32)"
	}
	TEXT(name, NOSPLIT, sig)
	Doc(fmt.Sprintf("%s is %sGeneric for %s in AVX2/F16C on the first len(dst)&^15 elements; len(src) must be len(dst).", name, op, fname(f16)))
	dst := Mem{Base: Load(Param("dst").Base(), GP64())}
	src := Mem{Base: Load(Param("src").Base(), GP64())}
	n := Load(Param("dst").Len(), GP64())
	var s VecVirtual
	if op == "addScaled" {
		p, err := Param("s").Resolve()
		if err != nil {
			panic(err)
		}
		s = YMM()
		VBROADCASTSS(p.Addr, s)
	}
	label := func(l string) string { return name + "_" + l }
	Label(label("loop"))
	CMPQ(n, U32(16))
	JB(LabelRef(label("done")))
	for u := range 2 {
		d, m := dst.Offset(32*u), src.Offset(16*u)
		v := YMM()
		if f16 {
			VCVTPH2PS(m, v)
		} else {
			VPMOVZXWD(m, v)
			VPSLLD(U8(16), v, v)
		}
		switch op {
		case "add":
			x := YMM()
			VMOVUPS(d, x)
			VADDPS(v, x, v) // dst+src
		case "addScaled":
			x := YMM()
			VMOVUPS(d, x)
			VMULPS(s, v, v) // src*s
			VADDPS(x, v, v) // +dst
		}
		VMOVUPS(v, d)
	}
	ADDQ(U32(64), dst.Base)
	ADDQ(U32(32), src.Base)
	SUBQ(U32(16), n)
	JMP(LabelRef(label("loop")))
	Label(label("done"))
	VZEROUPPER()
	RET()
}

// genNarrowAVX2 emits narrow<F>AVX2 over the first len(dst) &^ 15 elements.
func genNarrowAVX2(f16 bool) {
	name := "narrow" + fname(f16) + "AVX2"
	TEXT(name, NOSPLIT, "func(dst []uint16, src []float32)")
	Doc(fmt.Sprintf("%s is narrowGeneric for %s in AVX2/F16C on the first len(dst)&^15 elements; len(src) must be len(dst).", name, fname(f16)))
	dst := Mem{Base: Load(Param("dst").Base(), GP64())}
	src := Mem{Base: Load(Param("src").Base(), GP64())}
	n := Load(Param("dst").Len(), GP64())
	var one, bias, abs, inf, quiet VecVirtual
	if !f16 {
		c := func(x uint32) VecVirtual {
			r, y := GP32(), YMM()
			MOVL(U32(x), r)
			MOVD(r, y.AsX())
			VPBROADCASTD(y.AsX(), y)
			return y
		}
		one, bias, abs, inf, quiet = c(1), c(0x7fff), c(0x7fffffff), c(0x7f800000), c(0x40)
	}
	label := func(l string) string { return name + "_" + l }
	Label(label("loop"))
	CMPQ(n, U32(16))
	JB(LabelRef(label("done")))
	if f16 {
		for u := range 2 {
			x, h := YMM(), YMM()
			VMOVUPS(src.Offset(32*u), x)
			VCVTPS2PH(U8(0), x, h.AsX())
			VMOVDQU(h.AsX(), dst.Offset(16*u))
		}
	} else {
		var t [2]VecVirtual
		for u := range 2 {
			x, a, q, m := YMM(), YMM(), YMM(), YMM()
			t[u] = YMM()
			VMOVDQU(src.Offset(32*u), x)
			VPSRLD(U8(16), x, t[u])
			VPAND(one, t[u], t[u])
			VPADDD(bias, t[u], t[u])
			VPADDD(x, t[u], t[u])
			VPSRLD(U8(16), t[u], t[u])
			VPAND(abs, x, a)
			VPCMPGTD(inf, a, m) // m = a > inf (signed; a ≥ 0): NaN
			VPSRLD(U8(16), x, q)
			VPOR(quiet, q, q)
			VPBLENDVB(m, q, t[u], t[u]) // t = m ? q : t
		}
		p := YMM()
		VPACKUSDW(t[1], t[0], p) // per 128-bit lane: t0's four words, then t1's
		VPERMQ(U8(0xd8), p, p)   // qwords 0, 2, 1, 3: t0's eight words, then t1's
		VMOVDQU(p, dst)
	}
	ADDQ(U32(32), dst.Base)
	ADDQ(U32(64), src.Base)
	SUBQ(U32(16), n)
	JMP(LabelRef(label("loop")))
	Label(label("done"))
	VZEROUPPER()
	RET()
}
