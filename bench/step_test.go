package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/impl/fused"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/impl/sparse"
	"github.com/embgrad/embgrad/impl/step"
	"github.com/embgrad/embgrad/optim"
)

// The step benchmark's paths, named so a report can put them beside
// impl=torch-… peers:
//
//   - fused: impl/fused, the backward reduced and stepped row by row, no
//     gradient buffer;
//   - sparse+step: impl/sparse's coalesced gradient (serial), then
//     impl/step with the workers given;
//   - dense+sgd: the sharded kernel's dense gradient from scratch (V×D
//     cleared and scattered into), then SGD over the whole table, both
//     with the workers given: what a dense optimizer pays.
const (
	ImplFused      = "fused"
	ImplSparseStep = "sparse+step"
	ImplDenseSGD   = "dense+sgd"
)

// stepShape is a table the step benchmark runs on, with its distributions.
type stepShape struct {
	Shape
	dists []Dist
}

// stepShapes are GPT-2 and Llama-3 (N = 8192: 8 × 1024 and 2 × 4096
// tokens) with uniform, Zipf and text ids, and the vocabulary sweep
// V = 1e4, 1e5, 1e6 at D = 256, N = 8192, Zipf. Llama-3 (a 2.1 GB table,
// 6.3 GB with Adam's moments) runs only when -embgrad.shapes is "all" or
// names llama3; the sweep's largest table is 1 GB.
func stepShapes() []stepShape {
	lm := []Dist{Uniform, Zipf, Text}
	out := []stepShape{{Shape{Name: "gpt2", V: 50257, D: 768, N: 8192}, lm}}
	if *shapesFlag == "all" || slices.Contains(strings.Split(*shapesFlag, ","), "llama3") {
		out = append(out, stepShape{Shape{Name: "llama3", V: 128256, D: 4096, N: 8192}, lm})
	}
	for _, V := range []int{10_000, 100_000, 1_000_000} {
		out = append(out, stepShape{Shape{Name: fmt.Sprintf("sweep-%d", V), V: V, D: 256, N: 8192}, []Dist{Zipf}})
	}
	return out
}

// stepOptimizers are the settings benchmarked: plain SGD, row-wise Adagrad
// and Adam at their usual defaults.
func stepOptimizers() []optim.Optimizer {
	return []optim.Optimizer{
		optim.SGD{LR: 0.01},
		optim.Adagrad{LR: 0.01, Eps: 1e-8},
		optim.Adam{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
	}
}

// stepBytes is the bytes model of one step (b.SetBytes), the same for
// every path so that B/s compares like tokens/s: the compulsory traffic
// of a step that touches only the U distinct rows: ids (4·N) and gradOut
// (4·N·D) read, each touched row of w read and written (8·U·D), and its
// state read and written (Adagrad 8·U, Adam 16·U·D). The dense path moves
// far more (its whole gradient table and its whole weight table), which
// is why it is slower, not a reason to credit it with more bytes.
func stepBytes(s Shape, U int, o optim.Optimizer) int64 {
	b := 4*int64(s.N) + 4*int64(s.N)*int64(s.D) + 8*int64(U)*int64(s.D)
	switch o.(type) {
	case optim.Adagrad:
		b += 8 * int64(U)
	case optim.Adam:
		b += 16 * int64(U) * int64(s.D)
	}
	return b
}

// stepTable holds one shape's buffers, allocated when its first
// benchmark runs and dropped when the next shape starts.
type stepTable struct {
	shape   Shape
	w       []float32
	gradOut []float32
	grad    []float32 // dense+sgd's gradient, made on demand
	rows    []int32
	values  []float32
	states  map[string]*optim.State
}

// memAvailable is MemAvailable from /proc/meminfo in bytes, or -1.
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemAvailable: %d kB", &kb); n == 1 {
			return kb << 10
		}
	}
	return -1
}

// fits skips b unless n more bytes fit in memory with a quarter to spare
// (other processes share the machine), rather than let the run crash.
func fits(b *testing.B, n int64, what string) {
	if a := memAvailable(); a >= 0 && n > a-a/4 {
		b.Skipf("%s needs %d MB; %d MB available", what, n>>20, a>>20)
	}
}

func (t *stepTable) weights(b *testing.B) {
	if t.w != nil {
		return
	}
	s := t.shape
	fits(b, 4*int64(s.V)*int64(s.D)+8*int64(s.N)*int64(s.D), "the table")
	t.w = make([]float32, s.V*s.D)
	for i := range t.w {
		t.w[i] = 0.01 // touches every page before timing
	}
	t.gradOut = make([]float32, s.N*s.D)
	for i := range t.gradOut {
		t.gradOut[i] = float32(i%97-48) / 1024
	}
	t.rows, t.values = make([]int32, s.N), make([]float32, s.N*s.D)
	t.states = map[string]*optim.State{}
}

func (t *stepTable) state(b *testing.B, o optim.Optimizer) *optim.State {
	if st, ok := t.states[o.Name()]; ok {
		return st
	}
	for name := range t.states { // one optimizer's state at a time
		delete(t.states, name)
	}
	t.grad = nil // dense+sgd's gradient is only needed with SGD
	release()
	s := t.shape
	if _, ok := o.(optim.Adam); ok {
		fits(b, 8*int64(s.V)*int64(s.D), "Adam's moments")
	}
	st := o.NewState(s.V, s.D)
	t.states[o.Name()] = &st
	return &st
}

func release() {
	runtime.GC()
	debug.FreeOSMemory()
}

// BenchmarkStep runs every step path on every step shape, distribution,
// optimizer (dense+sgd: SGD only) and worker count:
//
//	BenchmarkStep/impl=<fused|sparse+step|dense+sgd>/V=/D=/N=/dist=/optim=<sgd|adagrad|adam>/workers=<w>
//
// The table and state are updated in place call after call (lr is small
// and the values stay finite). The kernels are verified by the suites
// (impl/fused, impl/step), not here: a Llama-3 step is too big for the
// float64 reference.
func BenchmarkStep(b *testing.B) {
	var t *stepTable
	for _, ss := range stepShapes() {
		if t != nil {
			*t = stepTable{}
			release()
		}
		t = &stepTable{shape: ss.Shape}
		tt := t
		s := ss.Shape
		for _, o := range stepOptimizers() {
			for _, d := range ss.dists {
				var ids []int32
				U := -1
				setup := func(b *testing.B) []int32 {
					if ids == nil {
						var err error
						if ids, err = IDs(d, s.V, s.N, Seed); err != nil {
							b.Fatal(err)
						}
						U = distinctIDs(ids)
					}
					return ids
				}
				impls := []string{ImplFused, ImplSparseStep}
				if _, ok := o.(optim.SGD); ok {
					impls = append(impls, ImplDenseSGD)
				}
				for _, impl := range impls {
					for _, w := range WorkerCounts(runtime.GOMAXPROCS(0)) {
						b.Run(Sub(StepKeys, impl, s.V, s.D, s.N, d, o.Name(), w), func(b *testing.B) {
							tt.weights(b)
							st := tt.state(b, o)
							ids := setup(b)
							benchStep(b, tt, impl, w, o, st, ids, U)
						})
					}
				}
			}
		}
	}
	if t != nil {
		*t = stepTable{}
		release()
	}
}

func distinctIDs(ids []int32) int {
	seen := map[int32]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	return len(seen)
}

func benchStep(b *testing.B, t *stepTable, impl string, workers int, o optim.Optimizer, st *optim.State, ids []int32, U int) {
	s := t.shape
	var run func() error
	switch impl {
	case ImplFused:
		k := fused.Kernel{}.WithWorkers(workers)
		run = func() error { return k.Fused(t.w, st, s.V, s.D, ids, t.gradOut, embgrad.Options{}, o) }
	case ImplSparseStep:
		k := step.Kernel{}.WithWorkers(workers)
		run = func() error {
			u, err := sparse.Kernel{}.Sparse(t.rows, t.values, s.V, s.D, ids, t.gradOut, embgrad.Options{})
			if err != nil {
				return err
			}
			return k.Step(t.w, st, s.V, s.D, t.rows, t.values, u, o)
		}
	case ImplDenseSGD:
		if t.grad == nil {
			fits(b, 4*int64(s.V)*int64(s.D), "the dense gradient")
			t.grad = make([]float32, s.V*s.D)
		}
		sh, ok := registry.Lookup("sharded")
		if !ok {
			b.Fatal("no sharded kernel in the registry")
		}
		k := sh.(embgrad.Parallel).WithWorkers(workers)
		lr := o.(optim.SGD).LR
		run = func() error {
			if err := embgrad.Scratch(k, t.grad, s.V, s.D, ids, t.gradOut, embgrad.Options{}); err != nil {
				return err
			}
			denseSGD(workers, t.w, t.grad, lr)
			return nil
		}
	}
	if err := run(); err != nil { // warm: pools, helpers, pages
		b.Fatal(err)
	}
	b.SetBytes(stepBytes(s, U, o))
	n := 0
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)*float64(s.N)/b.Elapsed().Seconds(), benchfile.TokensPerSec)
}

// denseSGD is w −= lr·g over the whole table, in workers contiguous parts:
// the dense optimizer step torch's optim.SGD takes on a dense gradient.
func denseSGD(workers int, w, g []float32, lr float32) {
	f := func(w, g []float32) {
		g = g[:len(w)]
		for i, x := range g {
			w[i] = w[i] - float32(lr*x)
		}
	}
	if workers <= 1 {
		f(w, g)
		return
	}
	var wg sync.WaitGroup
	part := (len(w)/workers + 15) &^ 15
	for lo := 0; lo < len(w); lo += part {
		hi := min(lo+part, len(w))
		wg.Go(func() { f(w[lo:hi], g[lo:hi]) })
	}
	wg.Wait()
}
