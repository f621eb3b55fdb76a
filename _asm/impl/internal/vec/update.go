package main

// The optimizer-update primitives (optim's Rule.Update, element-wise parts):
// SubScaled (SGD), SGDDecay (SGD with weight decay), ScaleSub (row-wise
// Adagrad's weight update) and Adam (the lazy Adam row update). Each is a
// map over equal-length slices, so one generator emits them all: an
// unrolled loop of full vectors, one vector at a time, then a masked tail.
//
// Each instruction mirrors one float32 operation of the pure-Go loop, in its
// order and with its operands in the loop's order (VEX src1 is the Go
// expression's left operand, whose NaN x86 returns when both are NaN), and
// no FMA: the loops round every product. VSQRTPS is correctly rounded, as
// float32(math.Sqrt(float64(x))) is (float64 has more than 2·24+2 bits, so
// the double rounding is exact); both give the default NaN for x < 0.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// mapOp describes one primitive.
type mapOp struct {
	name    string   // function name without the ISA suffix
	ref     string   // the pure-Go reference loop's name
	sig     string   // Go signature
	slices  []string // slice parameters; all have len(slices[0]) elements
	outs    []int    // indices into slices of those written
	scalars []string // float32 parameters, broadcast
	unroll  func(x isa) int
	// body computes the outputs (one per outs entry, in order) from the
	// loaded slice vectors and the broadcast scalars.
	body func(x isa, in, sc []VecVirtual) []VecVirtual
}

var updateOps = []mapOp{
	{
		name: "subScaled", ref: "subScaledGeneric", sig: "func(dst, src []float32, s float32)",
		slices: []string{"dst", "src"}, outs: []int{0}, scalars: []string{"s"},
		unroll: func(isa) int { return 4 },
		body: func(x isa, in, sc []VecVirtual) []VecVirtual {
			// dst[i] = dst[i] - float32(s*src[i])
			p := x.vec()
			VMULPS(in[1], sc[0], p)
			VSUBPS(p, in[0], p)
			return []VecVirtual{p}
		},
	},
	{
		name: "sgdDecay", ref: "sgdDecayGeneric", sig: "func(w, g []float32, lr, wd float32)",
		slices: []string{"w", "g"}, outs: []int{0}, scalars: []string{"lr", "wd"},
		unroll: func(isa) int { return 4 },
		body: func(x isa, in, sc []VecVirtual) []VecVirtual {
			// d := g[j] + float32(wd*w[j]); w[j] = w[j] - float32(lr*d)
			d := x.vec()
			VMULPS(in[0], sc[1], d)
			VADDPS(d, in[1], d)
			VMULPS(d, sc[0], d)
			VSUBPS(d, in[0], d)
			return []VecVirtual{d}
		},
	},
	{
		name: "scaleSub", ref: "scaleSubGeneric", sig: "func(w, g []float32, c, m float32)",
		slices: []string{"w", "g"}, outs: []int{0}, scalars: []string{"c", "m"},
		unroll: func(isa) int { return 4 },
		body: func(x isa, in, sc []VecVirtual) []VecVirtual {
			// w[j] = float32(c*w[j]) - float32(g[j]*m)
			a, b := x.vec(), x.vec()
			VMULPS(in[0], sc[0], a)
			VMULPS(sc[1], in[1], b)
			VSUBPS(b, a, a)
			return []VecVirtual{a}
		},
	},
	{
		name: "adam", ref: "adamGeneric", sig: "func(w, m1, m2, g []float32, ss, oma, omb, eps float32)",
		slices: []string{"w", "m1", "m2", "g"}, outs: []int{0, 1, 2}, scalars: []string{"ss", "oma", "omb", "eps"},
		unroll: func(x isa) int {
			if x.lanes == 8 {
				return 1 // 16 YMM registers: 4 inputs, 4 scalars, temporaries
			}
			return 2
		},
		body: func(x isa, in, sc []VecVirtual) []VecVirtual {
			w, m1, m2, g := in[0], in[1], in[2], in[3]
			ss, oma, omb, eps := sc[0], sc[1], sc[2], sc[3]
			// mu := float32((g-m1)*oma); mj := m1 + mu
			mj := x.vec()
			VSUBPS(m1, g, mj)
			VMULPS(oma, mj, mj)
			VADDPS(mj, m1, mj)
			// vu := float32((float32(g*g)-m2)*omb); vj := m2 + vu
			vj := x.vec()
			VMULPS(g, g, vj)
			VSUBPS(m2, vj, vj)
			VMULPS(omb, vj, vj)
			VADDPS(vj, m2, vj)
			// w += float32(ss*float32(mj/(sqrt(vj)+eps)))
			q := x.vec()
			VSQRTPS(vj, q)
			VADDPS(eps, q, q)
			VDIVPS(q, mj, q)
			VMULPS(q, ss, q)
			VADDPS(q, w, w)
			return []VecVirtual{w, mj, vj}
		},
	},
}

// genMap emits op for x.
func genMap(x isa, op mapOp) {
	name := op.name + x.name
	TEXT(name, NOSPLIT, op.sig)
	Doc(fmt.Sprintf("%s is %s in %s; every slice must have len(%s) elements.", name, op.ref, x.name, op.slices[0]))
	ptrs := make([]Mem, len(op.slices))
	for i, s := range op.slices {
		ptrs[i] = Mem{Base: Load(Param(s).Base(), GP64())}
	}
	n := Load(Param(op.slices[0]).Len(), GP64())
	sc := make([]VecVirtual, len(op.scalars))
	for i, s := range op.scalars {
		p, err := Param(s).Resolve()
		if err != nil {
			panic(err)
		}
		sc[i] = x.vec()
		VBROADCASTSS(p.Addr, sc[i])
	}
	bytes := 4 * x.lanes
	label := func(l string) string { return name + "_" + l }

	// block loads k vectors of every slice at offset k·bytes, computes and
	// stores the outputs.
	block := func(k int, load func(Mem, VecVirtual), store func(VecVirtual, Mem)) {
		res := make([][]VecVirtual, k)
		for u := range k {
			in := make([]VecVirtual, len(op.slices))
			for i := range op.slices {
				in[i] = x.vec()
				load(ptrs[i].Offset(u*bytes), in[i])
			}
			res[u] = op.body(x, in, sc)
		}
		for u := range k {
			for o, i := range op.outs {
				store(res[u][o], ptrs[i].Offset(u*bytes))
			}
		}
	}
	advance := func(k int) {
		for i := range ptrs {
			ADDQ(U32(k*bytes), ptrs[i].Base)
		}
		SUBQ(U32(k*x.lanes), n)
	}
	plainLoad := func(m Mem, v VecVirtual) { VMOVUPS(m, v) }
	plainStore := func(v VecVirtual, m Mem) { VMOVUPS(v, m) }

	if k := op.unroll(x); k > 1 {
		Label(label("unrolled"))
		CMPQ(n, U32(k*x.lanes))
		JB(LabelRef(label("single")))
		block(k, plainLoad, plainStore)
		advance(k)
		JMP(LabelRef(label("unrolled")))
	}

	Label(label("single"))
	CMPQ(n, U32(x.lanes))
	JB(LabelRef(label("tail")))
	block(1, plainLoad, plainStore)
	advance(1)
	JMP(LabelRef(label("single")))

	Label(label("tail"))
	TESTQ(n, n)
	JZ(LabelRef(label("done")))
	t := x.tail(n)
	block(1, t.load, t.store)

	Label(label("done"))
	VZEROUPPER()
	RET()
}
