package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/reference"
)

// bagVariant is one pooling of BenchmarkBag: a mode, weighted or not.
type bagVariant struct {
	mode     embgrad.BagMode
	weighted bool
}

func (v bagVariant) weights() string {
	if v.weighted {
		return "random"
	}
	return "none"
}

var bagVariants = []bagVariant{{embgrad.BagSum, false}, {embgrad.BagSum, true}, {embgrad.BagMean, false}, {embgrad.BagMax, false}}

// BenchmarkBag times every registry.Bag() kernel on BagShapes, in every
// pooling (sum, weighted sum, mean, max), accumulating into dst and from
// scratch (embgrad.BagScratch), serial kernels at one worker and
// parallel ones (embgrad.BagParallel) at every count of WorkerCounts:
//
//	BenchmarkBag/impl=<k>/V=<v>/D=<d>/B=<b>/L=<l>/dist=<dist>/mode=<sum|mean|max>/dst=<accumulate|scratch>/weights=<none|random>/workers=<w>
//
// B/s is BagBytes' model, tokens/s is ids per second. With
// -embgrad.check (the default) each kernel's output is checked once,
// before timing, against the float64 oracle on the touched rows (within
// its bound) and on every other row (bit-for-bit unchanged, or +0 from
// scratch). The max indices come from embgrad.BagForward (not timed).
func BenchmarkBag(b *testing.B) {
	for _, s := range BagShapes() {
		var in *bagInputs
		for _, v := range bagVariants {
			for _, mode := range Modes() {
				for _, k := range registry.Bag() {
					workers := []int{1}
					if _, ok := k.(embgrad.BagParallel); ok {
						workers = WorkerCounts(runtime.GOMAXPROCS(0))
					}
					for _, w := range workers {
						kw := k
						if p, ok := k.(embgrad.BagParallel); ok {
							kw = p.WithBagWorkers(w)
						}
						name := Sub(BagKeys, k.Name(), s.V, s.D, s.B, s.L, s.Dist, v.mode, mode, v.weights(), w)
						b.Run(name, func(b *testing.B) {
							if in == nil {
								var err error
								if in, err = newBagInputs(s); err != nil {
									b.Fatal(err)
								}
							}
							benchBag(b, in, kw, v, mode)
						})
					}
				}
			}
		}
		in = nil
		runtime.GC()
		debug.FreeOSMemory()
	}
}

// bagInputs holds one shape's buffers, allocated on first use and shared by
// every variant and kernel.
type bagInputs struct {
	s            BagShape
	ids, offsets []int32
	gradOut, E   []float32
	weights, dw  []float32
	maxIndices   []int32
	dst          []float32
	rows         []int32 // the distinct ids, ascending
	elems        int     // distinct (max index, column) pairs
	checked      map[string]bool
}

func newBagInputs(s BagShape) (*bagInputs, error) {
	ids, offsets, err := BagInputs(s)
	if err != nil {
		return nil, err
	}
	in := &bagInputs{s: s, ids: ids, offsets: offsets, checked: map[string]bool{}}
	r := rand.New(rand.NewPCG(Seed, 7))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = 2*r.Float32() - 1
		}
		return x
	}
	in.gradOut, in.E, in.weights = fill(s.B*s.D), fill(s.V*s.D), fill(s.N())
	in.dw = make([]float32, s.N())
	in.dst = make([]float32, s.V*s.D)
	in.maxIndices = make([]int32, s.B*s.D)
	if err := embgrad.BagForward(make([]float32, s.B*s.D), in.maxIndices, in.E, s.V, s.D, ids, offsets, nil, embgrad.BagOptions{Mode: embgrad.BagMax}); err != nil {
		return nil, err
	}
	in.rows = slices.Compact(slices.Sorted(slices.Values(ids)))
	elems := map[int64]bool{}
	for k, m := range in.maxIndices {
		elems[int64(m)*int64(s.D)+int64(k%s.D)] = true
	}
	in.elems = len(elems)
	return in, nil
}

// args are the call's arguments for variant v.
func (in *bagInputs) args(v bagVariant) (embgrad.BagArgs, []float32) {
	s := in.s
	a := embgrad.BagArgs{V: s.V, D: s.D, IDs: in.ids, Offsets: in.offsets, GradOut: in.gradOut, Opt: embgrad.BagOptions{Mode: v.mode}}
	var dw []float32
	if v.weighted {
		a.Weights, a.E, dw = in.weights, in.E, in.dw
	}
	if v.mode == embgrad.BagMax {
		a.MaxIndices = in.maxIndices
	}
	return a, dw
}

func bagCall(k embgrad.BagKernel, mode Mode, dst, dw []float32, a embgrad.BagArgs) error {
	if mode == Scratch {
		return embgrad.BagScratch(k, dst, dw, a)
	}
	return k.BagBackward(dst, dw, a)
}

func benchBag(b *testing.B, in *bagInputs, k embgrad.BagKernel, v bagVariant, mode Mode) {
	s := in.s
	a, dw := in.args(v)
	if *checkFlag && !in.checked[b.Name()] {
		if err := in.check(k, v, mode); err != nil {
			b.Fatalf("not timing %s: %v", k.Name(), err)
		}
		in.checked[b.Name()] = true
	}
	b.SetBytes(BagBytes(s, v.mode, v.weighted, mode == Scratch, len(in.rows), in.elems))
	n := 0
	for b.Loop() {
		if err := bagCall(k, mode, in.dst, dw, a); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)*float64(s.N())/b.Elapsed().Seconds(), benchfile.TokensPerSec)
}

// check runs k once from base(mode) and compares the touched rows with the
// float64 oracle run on the compacted problem (the distinct ids renumbered
// 0…U−1, so its tables are U×D, not V×D), and every other row with what it
// must hold.
func (in *bagInputs) check(k embgrad.BagKernel, v bagVariant, mode Mode) error {
	s := in.s
	a, dw := in.args(v)
	for i := range in.dst {
		in.dst[i] = base(mode)
	}
	if err := bagCall(k, mode, in.dst, dw, a); err != nil {
		return err
	}
	// The compacted problem.
	U, D := len(in.rows), s.D
	index := make(map[int32]int32, U)
	for u, id := range in.rows {
		index[id] = int32(u)
	}
	c := a
	c.V = U
	c.IDs = make([]int32, len(a.IDs))
	for i, id := range a.IDs {
		c.IDs[i] = index[id]
	}
	c.E = nil
	if a.E != nil {
		c.E = make([]float32, U*D)
		for u, id := range in.rows {
			copy(c.E[u*D:(u+1)*D], a.E[int(id)*D:])
		}
	}
	if a.MaxIndices != nil {
		c.MaxIndices = make([]int32, len(a.MaxIndices))
		for k, m := range a.MaxIndices {
			c.MaxIndices[k] = index[m]
		}
	}
	start := make([]float32, U*D)
	if mode == Accumulate {
		for i := range start {
			start[i] = base(mode)
		}
	}
	var dw0 []float32
	if dw != nil {
		dw0 = make([]float32, len(dw))
	}
	want, err := reference.BagOracle(start, dw0, c)
	if err != nil {
		return err
	}
	got := make([]float32, U*D)
	for u, id := range in.rows {
		copy(got[u*D:(u+1)*D], in.dst[int(id)*D:])
	}
	if err := want.Check(got, dw); err != nil {
		return fmt.Errorf("%s, mode=%v, dst=%s: %w (rows renumbered by rank among the distinct ids)", s, v.mode, mode, err)
	}
	untouched := float32(0)
	if mode == Accumulate {
		untouched = base(mode)
	}
	next := 0
	for r := range s.V {
		if next < U && int(in.rows[next]) == r {
			next++
			continue
		}
		for j, x := range in.dst[r*D : (r+1)*D] {
			if math.Float32bits(x) != math.Float32bits(untouched) {
				return fmt.Errorf("%s, mode=%v, dst=%s: row %d col %d: got %v, want %v: no id names this row", s, v.mode, mode, r, j, x, untouched)
			}
		}
	}
	return nil
}
