//go:build ignore

// gen writes the synthetic benchmark result files the gate's golden tests
// read. Run from cmd/embgrad:
//
//	go run testdata/gate/gen.go
//
// Every file is deterministic (fixed PCG seeds). Timings are ns/op around a
// base value with uniform relative noise; MB/s and tokens/s follow from
// ns/op (bytes model: N·D·4 gradOut + N·4 ids + 2·rows touched·D·4, rows
// touched taken as N/2), except where a case changes one unit on purpose.
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

const (
	V, D, N = 50257, 768, 8192
	bytesOp = N*D*4 + N*4 + 2*(N/2)*D*4
)

type bench struct {
	impl   string
	dist   string
	ns     float64 // base ns/op
	allocs int
	bop    int
}

func (b bench) name() string {
	return fmt.Sprintf("BenchmarkBackward/impl=%s/V=%d/D=%d/N=%d/dist=%s/mode=accumulate-2", b.impl, V, D, N, b.dist)
}

var defaults = []bench{
	{impl: "loop", dist: "zipf", ns: 9.8e6},
	{impl: "scatter", dist: "zipf", ns: 6.1e6},
	{impl: "loop", dist: "uniform", ns: 11.2e6},
	{impl: "scatter", dist: "uniform", ns: 7.4e6},
}

// sample is one run's measurements; tokScale multiplies tokens/s only.
type sample struct {
	ns       float64
	tokScale float64
	allocs   int
	bop      int
}

type file struct {
	units []string // extra "Unit ..." lines
	lines []string
}

func header(f *file) {
	f.lines = append(f.lines,
		"goos: linux",
		"goarch: amd64",
		"pkg: github.com/embgrad/embgrad/bench",
		"cpu: Synthetic CPU @ 2.40GHz",
	)
	f.lines = append(f.lines, f.units...)
}

func result(b bench, s sample) string {
	mbs := float64(bytesOp) / s.ns * 1e3
	tok := float64(N) / (s.ns * 1e-9) * s.tokScale
	return fmt.Sprintf("%s \t     100\t %12.0f ns/op\t %9.2f MB/s\t %12.0f tokens/s\t %8d B/op\t %6d allocs/op",
		b.name(), s.ns, mbs, tok, s.bop, s.allocs)
}

// gen writes n samples of each benchmark, interleaved by round like
// -count=n, with relative noise ±noise; mod adjusts one benchmark's sample.
func gen(path string, seed uint64, n int, noise float64, benches []bench, mod func(b bench, s *sample)) {
	r := rand.New(rand.NewPCG(seed, 0x9a7e))
	f := &file{units: []string{"Unit tokens/s better=higher"}}
	header(f)
	for round := 0; round < n; round++ {
		for _, b := range benches {
			s := sample{ns: b.ns * (1 + noise*(2*r.Float64()-1)), tokScale: 1, allocs: b.allocs, bop: b.bop}
			if mod != nil {
				mod(b, &s)
			}
			f.lines = append(f.lines, result(b, s))
		}
	}
	f.lines = append(f.lines, "PASS", "ok  \tgithub.com/embgrad/embgrad/bench\t42.000s")
	write(path, strings.Join(f.lines, "\n")+"\n")
}

// genDrift is gen with a drift of the machine shared by the two runs of
// each interleaved pair: round i of every file made with the same driftSeed
// is scaled by the same factor in [0.7, 1.5], on top of ±noise per sample.
func genDrift(path string, seed, driftSeed uint64, n int, noise float64, benches []bench, mod func(b bench, s *sample)) {
	r := rand.New(rand.NewPCG(seed, 0x9a7e))
	dr := rand.New(rand.NewPCG(driftSeed, 0xd71f))
	f := &file{units: []string{"Unit tokens/s better=higher"}}
	header(f)
	for round := 0; round < n; round++ {
		drift := 0.7 + 0.8*dr.Float64()
		for _, b := range benches {
			s := sample{ns: b.ns * drift * (1 + noise*(2*r.Float64()-1)), tokScale: 1, allocs: b.allocs, bop: b.bop}
			if mod != nil {
				mod(b, &s)
			}
			f.lines = append(f.lines, result(b, s))
		}
	}
	f.lines = append(f.lines, "PASS", "ok  \tgithub.com/embgrad/embgrad/bench\t42.000s")
	write(path, strings.Join(f.lines, "\n")+"\n")
}

func write(path, s string) {
	if err := os.WriteFile(filepath.Join("testdata", "gate", path), []byte(s), 0o644); err != nil {
		panic(err)
	}
}

func scatter(b bench) bool { return b.impl == "scatter" && b.dist == "zipf" }

func main() {
	const noise = 0.02
	gen("old.txt", 1, 10, noise, defaults, nil)
	// Clear regression: scatter/zipf 15 % slower.
	gen("new-regression.txt", 2, 10, noise, defaults, func(b bench, s *sample) {
		if scatter(b) {
			s.ns *= 1.15
		}
	})
	// Clear improvement: scatter/zipf 15 % faster.
	gen("new-improvement.txt", 3, 10, noise, defaults, func(b bench, s *sample) {
		if scatter(b) {
			s.ns /= 1.15
		}
	})
	// Noise only: the same distributions, fresh draws.
	gen("new-noise.txt", 4, 10, noise, defaults, nil)
	// Small but significant: scatter/zipf 3 % slower, under the 5 % threshold.
	gen("new-small.txt", 5, 10, 0.005, defaults, func(b bench, s *sample) {
		if scatter(b) {
			s.ns *= 1.03
		}
	})
	// Exact unit: scatter/zipf starts allocating (ns/op unchanged).
	gen("new-allocs.txt", 6, 10, noise, defaults, func(b bench, s *sample) {
		if scatter(b) {
			s.allocs, s.bop = 1, 64
		}
	})
	// Higher-is-better unit: tokens/s of scatter/zipf drops 10 % (ns/op as
	// before), while loop/zipf's tokens/s rises 10 % (an improvement).
	gen("new-tokens.txt", 7, 10, noise, defaults, func(b bench, s *sample) {
		if scatter(b) {
			s.tokScale = 0.9
		}
		if b.impl == "loop" && b.dist == "zipf" {
			s.tokScale = 1.1
		}
	})
	// B/op that varies run to run on both sides (as a kernel with pooled
	// buffers shows: 0 in most runs, a buffer's worth in others), with
	// ns/op noise only: the exact comparison does not apply, and the
	// statistical one finds nothing.
	vary := func(seed uint64) func(b bench, s *sample) {
		r := rand.New(rand.NewPCG(seed, 7))
		return func(b bench, s *sample) {
			if scatter(b) {
				s.bop = []int{0, 0, 0, 1585, 996, 9907}[r.IntN(6)]
			}
		}
	}
	gen("old-vary.txt", 14, 10, noise, defaults, vary(14))
	gen("new-vary.txt", 15, 10, noise, defaults, vary(15))
	// Too few samples: 3 per side (Mann–Whitney's best p is 0.1).
	gen("old-few.txt", 8, 3, noise, defaults, nil)
	gen("new-few.txt", 9, 3, noise, defaults, func(b bench, s *sample) {
		if scatter(b) {
			s.ns *= 1.5
		}
	})
	// Mismatched sets: loop/uniform is gone, sorted/zipf is new.
	mism := append([]bench{}, defaults[:2]...)
	mism = append(mism, defaults[3], bench{impl: "sorted", dist: "zipf", ns: 4.2e6})
	gen("new-mismatch.txt", 10, 10, noise, mism, nil)
	// Only additions (for -allow-new).
	gen("new-added.txt", 11, 10, noise, append(append([]bench{}, defaults...), bench{impl: "sorted", dist: "zipf", ns: 4.2e6}), nil)
	// Empty file.
	write("empty.txt", "")
	// Malformed: a non-numeric measurement on line 11, and the file cut off
	// in the middle of its last benchmark line.
	gen("new-malformed.txt", 12, 10, noise, defaults, nil)
	b, _ := os.ReadFile(filepath.Join("testdata", "gate", "new-malformed.txt"))
	lines := strings.Split(string(b), "\n")
	lines[10] = defaults[1].name() + " \t     100\t   6100000 ns/op\t  abc MB/s"
	cut := lines[:len(lines)-3] // drop PASS, ok and the final empty string
	cut[len(cut)-1] = cut[len(cut)-1][:60]
	write("new-malformed.txt", strings.Join(cut, "\n"))
	// A run in which one benchmark failed.
	gen("new-failed.txt", 13, 10, noise, defaults, nil)
	b2, _ := os.ReadFile(filepath.Join("testdata", "gate", "new-failed.txt"))
	failed := strings.Replace(string(b2), "PASS\n", "--- FAIL: BenchmarkBackward/impl=sorted/V=50257/D=768/N=8192/dist=zipf/mode=accumulate\n"+
		"    backward_test.go:123: sorted: output differs from reference at row 17\nFAIL\n", 1)
	write("new-failed.txt", failed)
	// Bad unit metadata.
	bad := strings.Replace(string(b), "Unit tokens/s better=higher", "Unit tokens/s better=sideways", 1)
	write("new-badunit.txt", bad)
	// Hostile files: each must be refused (exit 2) naming file and line.
	// A negative time on one line (an improvement of ∞ % if read).
	gen("new-negative.txt", 16, 10, noise, defaults, func(b bench, s *sample) {
		if scatter(b) && s.ns < 6.1e6 && s.ns > 6.05e6 {
			s.ns = -s.ns
		}
	})
	// Every timing zero.
	gen("new-zero.txt", 17, 10, noise, defaults, nil)
	bz, _ := os.ReadFile(filepath.Join("testdata", "gate", "new-zero.txt"))
	zl := strings.Split(string(bz), "\n")
	for i, l := range zl {
		if f := strings.Split(l, "\t"); strings.HasPrefix(l, "Benchmark") {
			f[2], f[3], f[4] = "            0 ns/op", "      0.00 MB/s", "            0 tokens/s"
			zl[i] = strings.Join(f, "\t")
		}
	}
	write("new-zero.txt", strings.Join(zl, "\n"))
	// NEW 50 % slower, declaring ns/op higher-is-better.
	gen("new-direction.txt", 18, 10, noise, defaults, func(b bench, s *sample) { s.ns *= 1.5 })
	bd, _ := os.ReadFile(filepath.Join("testdata", "gate", "new-direction.txt"))
	write("new-direction.txt", strings.Replace(string(bd), "Unit tokens/s better=higher", "Unit tokens/s better=higher\nUnit ns/op better=higher", 1))
	// Cut after a value of the last result: "... ns/op\t", no newline,
	// the MB/s, tokens/s, B/op and allocs/op that followed lost.
	gen("new-cut.txt", 19, 10, noise, defaults, nil)
	bc, _ := os.ReadFile(filepath.Join("testdata", "gate", "new-cut.txt"))
	cl := strings.Split(string(bc), "\n")
	cl = cl[:len(cl)-3]
	last := cl[len(cl)-1]
	cl[len(cl)-1] = last[:strings.Index(last, "ns/op")+len("ns/op\t")]
	write("new-cut.txt", strings.Join(cl, "\n"))
	// Binary junk after the run's output.
	gen("new-junk.txt", 20, 10, noise, defaults, nil)
	bj, _ := os.ReadFile(filepath.Join("testdata", "gate", "new-junk.txt"))
	write("new-junk.txt", string(bj)+"\x00\x00\x7fELF\x02\x01\x01\xff\xfe\n")
	// A result of 0 iterations.
	gen("new-iters0.txt", 21, 10, noise, defaults, nil)
	bi, _ := os.ReadFile(filepath.Join("testdata", "gate", "new-iters0.txt"))
	il := strings.Split(string(bi), "\n")
	il[7] = strings.Replace(il[7], "\t     100\t", "\t       0\t", 1)
	write("new-iters0.txt", strings.Join(il, "\n"))
	// Noise with many comparisons: 16 benchmarks, ±12 % noise. Seed chosen
	// (by hand, see gate_test.go TestGateHolmMatters) so that one raw
	// p-value is below 0.05 with a median change above 5 % — a false alarm
	// without the Holm correction.
	var many []bench
	for _, impl := range []string{"loop", "scatter", "sorted", "sharded"} {
		for _, dist := range []string{"uniform", "zipf", "same", "text"} {
			many = append(many, bench{impl: impl, dist: dist, ns: 5e6})
		}
	}
	gen("old-many.txt", manySeedOld, 10, 0.12, many, nil)
	gen("new-many.txt", manySeedNew, 10, 0.12, many, nil)
	// Paired: a drift of the machine shared by both runs of each pair
	// (factor 0.7–1.5 per round, ±1 % per sample), 12 pairs; scatter/zipf
	// 8 % slower. The unpaired test cannot see it under the drift, the
	// paired one must; the A/A pair must pass.
	genDrift("old-drift.txt", 22, 99, 12, 0.01, defaults, nil)
	genDrift("new-drift-slow.txt", 23, 99, 12, 0.01, defaults, func(b bench, s *sample) {
		if scatter(b) {
			s.ns *= 1.08
		}
	})
	genDrift("new-drift-aa.txt", 24, 99, 12, 0.01, defaults, nil)
}

const manySeedOld, manySeedNew = 100, 101
