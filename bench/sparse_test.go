package bench

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/reference"
)

var sparseShapesFlag = flag.String(FlagSparseShapes, "",
	`BenchmarkSparse shapes: "default"/"all", "sweep", or names from gpt2, llama3, v1e4, v1e5, v1e6 (default: those -`+FlagShapes+` names, all for default/all)`)

// BenchmarkSparse runs every registry sparse kernel on SparseShapes with
// SparseDists, the parallel ones (embgrad.SparseParallel) at every count of
// WorkerCounts:
//
//	BenchmarkSparse/impl=<k>/V=<v>/D=<d>/N=<n>/dist=<dist>/workers=<w>
//
// B/s is SparseBytes (touched rows only); tokens/s counts ids. Each
// kernel's output is checked once against the float64 oracle, run on the
// touched rows relabelled 0..U−1 (no V×D table is ever allocated).
func BenchmarkSparse(b *testing.B) {
	spec := *sparseShapesFlag
	if spec == "" {
		spec = *shapesFlag
	}
	shapes, err := SelectSparseShapes(spec, true)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range shapes {
		gradOut := make([]float32, s.N*s.D)
		r := rand.New(rand.NewPCG(Seed, 0))
		for i := range gradOut {
			gradOut[i] = 2*r.Float32() - 1
		}
		rows, values := make([]int32, s.N), make([]float32, s.N*s.D)
		for _, d := range SparseDists(s) {
			ids, err := IDs(d, s.V, s.N, Seed)
			if err != nil {
				b.Fatal(err)
			}
			want, distinct := sparseOracle(b, s, ids, gradOut)
			for _, k := range registry.Sparse() {
				for _, w := range WorkerCounts(runtime.GOMAXPROCS(0)) {
					kw := k
					if p, ok := k.(embgrad.SparseParallel); ok {
						kw = p.WithSparseWorkers(w)
					} else if w > 1 {
						break
					}
					name := Sub(SparseKeys, k.Name(), s.V, s.D, s.N, d, w)
					b.Run(name, func(b *testing.B) {
						if *checkFlag {
							U, err := kw.Sparse(rows, values, s.V, s.D, ids, gradOut, embgrad.Options{})
							if err == nil {
								err = want.Check(rows, values, U)
							}
							if err != nil {
								b.Fatalf("not timing %s: %s dist=%s: %v", k.Name(), s, d, err)
							}
						}
						b.SetBytes(SparseBytes(s, distinct))
						n := 0
						for b.Loop() {
							if _, err := kw.Sparse(rows, values, s.V, s.D, ids, gradOut, embgrad.Options{}); err != nil {
								b.Fatal(err)
							}
							n++
						}
						b.ReportMetric(float64(n)*float64(s.N)/b.Elapsed().Seconds(), benchfile.TokensPerSec)
					})
				}
			}
		}
	}
}

// compactOracle is the sparse oracle on the touched rows relabelled 0..U−1,
// with the rows mapped back: a Llama-3 float64 V×D oracle would need 4 GB.
type compactOracle struct {
	rows []int32
	res  *reference.SparseResult
}

func sparseOracle(b *testing.B, s Shape, ids []int32, gradOut []float32) (*compactOracle, int) {
	rows := slices.Compact(slices.Sorted(slices.Values(ids)))
	compact := make([]int32, len(ids))
	for i, id := range ids {
		r, _ := slices.BinarySearch(rows, id)
		compact[i] = int32(r)
	}
	res, err := reference.SparseOracle(len(rows), s.D, compact, gradOut, embgrad.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return &compactOracle{rows: rows, res: res}, len(rows)
}

// Check compares a kernel's rows with the distinct ids and its values with
// the compacted oracle's bound.
func (o *compactOracle) Check(rows []int32, values []float32, U int) error {
	if U != len(o.rows) || !slices.Equal(rows[:U], o.rows) {
		return fmt.Errorf("U = %d rows, want the %d distinct ids ascending", U, len(o.rows))
	}
	relabelled := make([]int32, U)
	for u := range relabelled {
		relabelled[u] = int32(u)
	}
	return o.res.Check(relabelled, values, U)
}
