package gradnorm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad/gradnorm"
)

// GPT-2's token table.
const benchV, benchD = 50257, 768

func benchTable() []float32 {
	rng := rand.New(rand.NewPCG(11, 11))
	x := make([]float32, benchV*benchD)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// BenchmarkRowNorms reads the table once: SetBytes is V·D·4.
func BenchmarkRowNorms(b *testing.B) {
	g := gradnorm.Dense(benchTable(), benchV, benchD)
	dst := make([]float64, benchV)
	b.Run(fmt.Sprintf("V=%d/D=%d", benchV, benchD), func(b *testing.B) {
		b.SetBytes(int64(benchV) * benchD * 4)
		for b.Loop() {
			if err := gradnorm.RowNorms(dst, g); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkClipGradNorm: clip=no only takes the norm (one read of the
// table); clip=yes also scales it (norm pass, then a read and a write), so
// its SetBytes is 3·V·D·4. Each clip=yes iteration clips to 0.999 of the
// current total, so that every iteration really multiplies (coefficient
// about 0.999, not 1) without the values drifting towards subnormals.
func BenchmarkClipGradNorm(b *testing.B) {
	tab := benchTable()
	grads := []gradnorm.Grad{gradnorm.Dense(tab, benchV, benchD)}
	n := int64(benchV) * benchD * 4
	b.Run(fmt.Sprintf("V=%d/D=%d/clip=no", benchV, benchD), func(b *testing.B) {
		b.SetBytes(n)
		for b.Loop() {
			if _, err := gradnorm.ClipGradNorm(grads, 1e30, 2, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("V=%d/D=%d/clip=yes", benchV, benchD), func(b *testing.B) {
		b.SetBytes(3 * n)
		cur, _ := gradnorm.TotalNorm(grads, 2)
		for b.Loop() {
			// After the clip the total is (to rounding) maxNorm.
			maxNorm := cur * 0.999
			if _, err := gradnorm.ClipGradNorm(grads, maxNorm, 2, true); err != nil {
				b.Fatal(err)
			}
			cur = maxNorm
		}
	})
}
