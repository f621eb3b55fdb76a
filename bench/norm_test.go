package bench

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/normpar"
	"github.com/embgrad/embgrad/impl/registry"
)

// normShapes are the tables the norm benchmarks run on, among those
// -embgrad.shapes selects: GPT-2's, and Llama-3's with -embgrad.shapes=all
// or =gpt2,llama3.
var normShapes = []string{"gpt2", "llama3"}

// BenchmarkNorm times gradnorm's operations on a whole table's gradient:
//
//	BenchmarkNorm/impl=<serial|parallel>/V=<v>/D=<d>/op=<rownorm|total|clip>/workers=<w>
//
// Bytes model (SetBytes): rownorm and total read the table once (4·V·D);
// clip reads it for the norm and then reads and writes it to scale
// (3·4·V·D). So rownorm and total are compared with BenchmarkMemory
// op=read at threads=w, and clip with the time of one read pass plus one
// copy pass (its roofline: 4·V·D/read + 8·V·D/copy).
//
// Each clip iteration clips to 0.999 of the current total, so every
// iteration really multiplies without the values drifting towards
// subnormals.
func BenchmarkNorm(b *testing.B) {
	shapes, err := SelectShapes(*shapesFlag)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range shapes {
		if !slices.Contains(normShapes, s.Name) {
			continue
		}
		tab := normTable(s.V * s.D)
		g := gradnorm.Dense(tab, s.V, s.D)
		n := int64(s.V) * int64(s.D) * 4
		for _, k := range registry.Norms() {
			ws := []int{1}
			if p, ok := k.(normpar.Impl); ok {
				ws = WorkerCounts(runtime.GOMAXPROCS(0))
				_ = p
			}
			for _, w := range ws {
				impl := k
				if p, ok := k.(normpar.Impl); ok {
					impl = p.WithWorkers(w)
				}
				b.Run(Sub(NormKeys, k.Name(), s.V, s.D, "rownorm", w), func(b *testing.B) {
					dst := make([]float64, s.V)
					b.SetBytes(n)
					for b.Loop() {
						if err := impl.RowNorms(dst, g); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run(Sub(NormKeys, k.Name(), s.V, s.D, "total", w), func(b *testing.B) {
					b.SetBytes(n)
					for b.Loop() {
						if _, err := impl.TotalNorm([]gradnorm.Grad{g}, 2); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run(Sub(NormKeys, k.Name(), s.V, s.D, "clip", w), func(b *testing.B) {
					grads := []gradnorm.Grad{g}
					cur, _ := impl.TotalNorm(grads, 2)
					b.SetBytes(3 * n)
					for b.Loop() {
						maxNorm := cur * 0.999
						if _, err := impl.ClipGradNorm(grads, maxNorm, 2, true); err != nil {
							b.Fatal(err)
						}
						cur = maxNorm // the total after the clip, to rounding
					}
				})
			}
		}
		tab = nil
		runtime.GC()
	}
}

func normTable(n int) []float32 {
	rng := rand.New(rand.NewPCG(Seed, 16))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}
