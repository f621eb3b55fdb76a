package bench

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/bench/benchfile"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/reference"
)

var (
	shapesFlag = flag.String(FlagShapes, "default",
		`shapes to benchmark: "default" (tables ≤ 256 MB), "all" (up to Llama-3's 2.1 GB), or names such as "gpt2,llama2"`)
	checkFlag = flag.Bool(FlagCheck, true,
		"check each kernel's output against the float64 oracle before timing it (embgrad bench checks in its first round only)")
)

// bytesPerOp is the bytes model behind B/s (b.SetBytes): the compulsory
// memory traffic of one call, what an ideal kernel moves.
//
//   - accumulate: read gradOut (4·N·D) and ids (4·N), and read and write
//     each distinct touched row once (2·4·U·D for U distinct rows);
//   - scratch: read gradOut and ids, and write the whole table once
//     (4·V·D); a touched row need not be read, since it starts from zero.
//
// A kernel that rereads rows, or clears the table and then adds into it,
// moves more than this, so B/s divided by the measured copy bandwidth
// (BenchmarkMemory op=copy, which also counts bytes read plus bytes
// written) is the fraction of the memory roofline the kernel attains.
func bytesPerOp(s Shape, distinct int, mode Mode) int64 {
	b := 4*int64(s.N)*int64(s.D) + 4*int64(s.N)
	if mode == Scratch {
		return b + 4*int64(s.V)*int64(s.D)
	}
	return b + 8*int64(distinct)*int64(s.D)
}

// BenchmarkBackward runs the matrix of Cases over every registry kernel
// and the shapes selected by -embgrad.shapes:
//
//	BenchmarkBackward/impl=<k>/V=<v>/D=<d>/N=<n>/dist=<dist>/mode=<mode>/workers=<w>
//
// Each shape's buffers are allocated once, when its first benchmark runs,
// and shared by all kernels; each kernel's output is checked against the
// float64 oracle once before it is timed.
func BenchmarkBackward(b *testing.B) {
	shapes, err := SelectShapes(*shapesFlag)
	if err != nil {
		b.Fatal(err)
	}
	var in *inputs
	var c *distCase
	for _, cs := range Cases(shapes, registry.Kernels(), runtime.GOMAXPROCS(0)) {
		if in == nil || in.shape != cs.Shape {
			c = nil
			if in != nil {
				in.release()
			}
			in = &inputs{shape: cs.Shape}
		}
		if c == nil || c.dist != cs.Dist {
			c = &distCase{in: in, dist: cs.Dist}
		}
		dc := c
		b.Run(cs.Name(), func(b *testing.B) { benchBackward(b, dc, cs.Kernel, cs.Mode) })
	}
}

func benchBackward(b *testing.B, c *distCase, k embgrad.Kernel, mode Mode) {
	s := c.in.shape
	// Check the output once per benchmark and process (the function runs
	// once per -count).
	if *checkFlag && !c.in.validated[b.Name()] {
		if err := validate(c, k, mode); err != nil {
			b.Fatalf("not timing %s: %v", k.Name(), err)
		}
		c.in.validated[b.Name()] = true
	}
	dst, gradOut := c.in.buffers()
	ids, err := c.setup()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bytesPerOp(s, len(c.rows), mode))
	if err := warmUp(func() error { return call(k, mode, dst, s, ids, gradOut) }); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if err := call(k, mode, dst, s, ids, gradOut); err != nil {
			b.Fatal(err)
		}
		slowdown(t0) // -embgrad.slowdown, for gate calibration only
		n++
	}
	b.ReportMetric(float64(n)*float64(s.N)/b.Elapsed().Seconds(), benchfile.TokensPerSec)
}

// call runs k once in mode: Backward, or embgrad.Scratch.
func call(k embgrad.Kernel, mode Mode, dst []float32, s Shape, ids []int32, gradOut []float32) error {
	if mode == Scratch {
		return embgrad.Scratch(k, dst, s.V, s.D, ids, gradOut, embgrad.Options{})
	}
	return k.Backward(dst, s.V, s.D, ids, gradOut, embgrad.Options{})
}

// base is what the table holds before the checked call: ones in accumulate
// mode, which a kernel must add to; NaN in scratch mode, which it must
// overwrite.
func base(mode Mode) float32 {
	if mode == Scratch {
		return float32(math.NaN())
	}
	return 1
}

// validate runs k once in mode on c's ids, from base(mode), and compares the
// table with the float64 oracle: touched rows within the summation bound,
// every other row bit-for-bit what it must be (1 when accumulating, +0 from
// scratch).
func validate(c *distCase, k embgrad.Kernel, mode Mode) error {
	s := c.in.shape
	dst, gradOut := c.in.buffers()
	ids, err := c.setup()
	if err != nil {
		return err
	}
	for i := range dst {
		dst[i] = base(mode)
	}
	if err := call(k, mode, dst, s, ids, gradOut); err != nil {
		return err
	}
	want, err := c.oracle(mode)
	if err != nil {
		return err
	}
	D := s.D
	for r, id := range c.rows {
		copy(c.got[r*D:(r+1)*D], dst[int(id)*D:])
	}
	if err := want.Check(c.got); err != nil {
		var m *reference.Mismatch
		if errors.As(err, &m) {
			m.Row = int(c.rows[m.Row])
		}
		return fmt.Errorf("%s, dist=%s, mode=%s: %w", s, c.dist, mode, err)
	}
	untouched := float32(0)
	if mode == Accumulate {
		untouched = base(mode)
	}
	for v, t := range c.touched {
		if t {
			continue
		}
		for j, x := range dst[v*D : (v+1)*D] {
			if math.Float32bits(x) != math.Float32bits(untouched) {
				return fmt.Errorf("%s, dist=%s, mode=%s: row %d col %d: got %v, want %v: no id names this row",
					s, c.dist, mode, v, j, x, untouched)
			}
		}
	}
	return nil
}

// inputs holds one shape's buffers, allocated on first use.
type inputs struct {
	shape     Shape
	dst       []float32 // V×D gradient buffer
	gradOut   []float32 // N×D upstream gradient
	validated map[string]bool

	freeDst, freeGrad func() // release dst and gradOut (bench.Big)
}

func (in *inputs) buffers() (dst, gradOut []float32) {
	if in.dst == nil {
		s := in.shape
		var err error
		if in.dst, in.freeDst, err = bigFloat32s(s.V * s.D); err != nil {
			panic(err) // only with -embgrad.hugepages, which checked the system at start
		}
		// Fault the table's pages in now: the first timed call must
		// not pay for them (benchmarks after round 1 run unchecked).
		clear(in.dst)
		if in.gradOut, in.freeGrad, err = bigFloat32s(s.N * s.D); err != nil {
			panic(err)
		}
		r := rand.New(rand.NewPCG(Seed, 0))
		for i := range in.gradOut {
			in.gradOut[i] = 2*r.Float32() - 1
		}
		in.validated = make(map[string]bool)
		// Finish the GC cycle these allocations started (at 147 MB for
		// GPT-2): go test collects before each benchmark, not after its
		// setup, so its concurrent mark ran on into the first timed loop
		// (results/noise/NOISE.md, gctrace).
		runtime.GC()
	}
	return in.dst, in.gradOut
}

// release drops the buffers and returns their memory to the system before
// the next shape allocates its own.
func (in *inputs) release() {
	if in.dst != nil {
		in.dst, in.gradOut = nil, nil
		in.freeDst()
		in.freeGrad()
		debug.FreeOSMemory()
	}
}

// distCase is one shape's ids for one distribution and the oracles for
// them, made on first use. The oracles run on the touched rows only,
// relabelled 0..U-1: a float64 V×D oracle for Llama-3 would need 8 GB.
type distCase struct {
	in      *inputs
	dist    Dist
	ids     []int32
	rows    []int32 // the distinct ids, ascending
	compact []int32 // ids relabelled to indices into rows
	touched []bool  // V: row named by some id
	want    map[Mode]*reference.Result
	got     []float32 // dst's touched rows, compacted
}

func (c *distCase) setup() ([]int32, error) {
	if c.ids != nil {
		return c.ids, nil
	}
	s := c.in.shape
	ids, err := IDs(c.dist, s.V, s.N, Seed)
	if err != nil {
		return nil, err
	}
	c.rows = slices.Compact(slices.Sorted(slices.Values(ids)))
	c.touched = make([]bool, s.V)
	for _, id := range c.rows {
		c.touched[id] = true
	}
	c.compact = make([]int32, len(ids))
	for i, id := range ids {
		r, _ := slices.BinarySearch(c.rows, id)
		c.compact[i] = int32(r)
	}
	c.got = make([]float32, len(c.rows)*s.D)
	c.want = make(map[Mode]*reference.Result)
	c.ids = ids
	return ids, nil
}

// oracle returns the oracle for mode's call on the touched rows: from zero
// in scratch mode, from base(Accumulate) otherwise.
func (c *distCase) oracle(mode Mode) (*reference.Result, error) {
	if r := c.want[mode]; r != nil {
		return r, nil
	}
	_, gradOut := c.in.buffers()
	start := make([]float32, len(c.got))
	if mode == Accumulate {
		for i := range start {
			start[i] = base(mode)
		}
	}
	r, err := reference.Oracle(start, len(c.rows), c.in.shape.D, c.compact, gradOut, embgrad.Options{})
	c.want[mode] = r
	return r, err
}
