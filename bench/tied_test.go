package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/reference"
)

// tiedShapes are GPT-2's tied table (V=50257, D=768) with T output positions.
var tiedShapes = []struct{ V, D, T int }{{50257, 768, 128}, {50257, 768, 512}}

// BenchmarkTied times the output part of the tied backward, dst += dZᵀ·H,
// for every registry.Tied() kernel (called with no ids: the input part is
// BenchmarkBackward's) and for gonum's blas32.Gemm (its pure-Go Sgemm) on the
// same product as the in-run reference:
//
//	BenchmarkTied/impl=<k|gonum-gemm>/V=<v>/D=<d>/T=<t>
//
// It reports GFLOP/s = 2·V·D·T / (s/op) / 1e9. Each kernel's result is
// checked once, on sampled rows, against the float64 product within the
// oracle's bound before it is timed.
func BenchmarkTied(b *testing.B) {
	type impl struct {
		name string
		run  func(dst []float32, a embgrad.TiedArgs) error
	}
	impls := []impl{{"gonum-gemm", tiedGemm}}
	for _, k := range registry.Tied() {
		impls = append(impls, impl{k.Name(), k.BackwardTied})
	}
	for _, s := range tiedShapes {
		var dst []float32
		var a embgrad.TiedArgs
		for _, im := range impls {
			b.Run(Sub(TiedKeys, im.name, s.V, s.D, s.T), func(b *testing.B) {
				if dst == nil { // allocated on first use, shared by the impls
					dst, a = tiedInputs(s.V, s.D, s.T)
				}
				clear(dst)
				if err := im.run(dst, a); err != nil {
					b.Fatal(err)
				}
				if err := tiedCheckRows(dst, a); err != nil {
					b.Fatalf("%s is wrong, not timed: %v", im.name, err)
				}
				for b.Loop() {
					if err := im.run(dst, a); err != nil {
						b.Fatal(err)
					}
				}
				flops := 2 * float64(s.V) * float64(s.D) * float64(s.T)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, benchfile.GFLOPPerSec)
			})
		}
	}
}

// tiedInputs returns a zero dst and arguments with H and dZ uniform in ±1.
func tiedInputs(V, D, T int) ([]float32, embgrad.TiedArgs) {
	rng := rand.New(rand.NewPCG(4, 768))
	a := embgrad.TiedArgs{V: V, D: D, T: T, H: make([]float32, T*D), DZ: make([]float32, T*V)}
	for _, x := range [][]float32{a.H, a.DZ} {
		for i := range x {
			x[i] = 2*rng.Float32() - 1
		}
	}
	return make([]float32, V*D), a
}

// tiedGemm is dst += dZᵀ·H by gonum's own Sgemm, the implementation behind
// blas32.Gemm unless a program calls blas32.Use: named here so that it stays
// the pure-Go reference whatever the binary links.
func tiedGemm(dst []float32, a embgrad.TiedArgs) error {
	gonum.Implementation{}.Sgemm(blas.Trans, blas.NoTrans, a.V, a.D, a.T, 1, a.DZ, a.V, a.H, a.D, 1, dst, a.D)
	return nil
}

// tiedCheckRows compares 16 rows of dst (from zero, one call) with the
// float64 product within γ(T)·Σ_t|dZ[t,v]·H[t,j]|, the oracle's bound for
// the output part alone.
func tiedCheckRows(dst []float32, a embgrad.TiedArgs) error {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 16 {
		v := rng.IntN(a.V)
		for j := range a.D {
			var want, abs float64
			for t := range a.T {
				p := float64(a.DZ[t*a.V+v]) * float64(a.H[t*a.D+j])
				want += p
				abs += math.Abs(p)
			}
			got := float64(dst[v*a.D+j])
			if bound := reference.Gamma(a.T) * abs; !(math.Abs(got-want) <= bound) {
				return fmt.Errorf("dst[%d,%d] = %v, want %v within %.3g", v, j, got, want, bound)
			}
		}
	}
	return nil
}
