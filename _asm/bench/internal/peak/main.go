// Command peak generates bench/internal/peak's assembly: loops of
// independent fused multiply-adds, the compute roofline that BenchmarkPeak
// measures. _asm/generate.sh runs it.
//
// Each turn of a loop issues one VFMADD231PS into each of `chains`
// accumulators. Independent chains hide the FMA latency (4 cycles on
// recent x86 cores, with 2 FMA pipes: at least 8 chains in flight to fill
// them); more chains than that cost nothing.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

type isa struct {
	name   string
	chains int
	lanes  int
	vec    func() VecVirtual
}

func main() {
	ConstraintExpr("!purego")
	for _, x := range []isa{{"AVX512", 24, 16, ZMM}, {"AVX2", 12, 8, YMM}} {
		gen(x)
	}
	Generate()
}

func gen(x isa) {
	TEXT("fma"+x.name, NOSPLIT, "func(n int, a, b float32) float32")
	Doc(fmt.Sprintf("fma%s runs n turns of %d independent %d-lane FMAs (acc += a·b), %d flops a turn, and returns one lane of their sum; n ≥ 1.",
		x.name, x.chains, x.lanes, 2*x.chains*x.lanes))
	n := Load(Param("n"), GP64())
	pa, err := Param("a").Resolve()
	if err != nil {
		panic(err)
	}
	pb, err := Param("b").Resolve()
	if err != nil {
		panic(err)
	}
	a, b := x.vec(), x.vec()
	VBROADCASTSS(pa.Addr, a)
	VBROADCASTSS(pb.Addr, b)
	acc := make([]VecVirtual, x.chains)
	for i := range acc {
		acc[i] = x.vec()
		VXORPS(acc[i], acc[i], acc[i])
	}
	Label("fma" + x.name + "_loop")
	for i := range acc {
		VFMADD231PS(a, b, acc[i])
	}
	DECQ(n)
	JNZ(LabelRef("fma" + x.name + "_loop"))
	for len(acc) > 1 {
		VADDPS(acc[len(acc)-1], acc[0], acc[0])
		acc = acc[:len(acc)-1]
	}
	Store(acc[0].AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}
