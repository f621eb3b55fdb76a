package bench

import (
	"fmt"
	"slices"
	"strings"
)

// SparseShapes lists the shapes of BenchmarkSparse (and of the sparse and
// step peers, bench/peers): the GPT-2 and Llama-3 tables with a batch of
// 8192 ids — the batch of issue 12's targets, so Llama-3 here is 2 × 4096
// tokens where Shapes' llama3 is 1 × 4096 — and a vocabulary sweep at
// D = 256, N = 8192, whose Zipf batches name about the same rows whatever V
// is, so a sparse kernel's cost should not grow with V. No V×D table is
// needed for the sparse form: Llama-3 costs the two N×D buffers (134 MB
// each).
func SparseShapes() []Shape {
	return []Shape{
		{Name: "gpt2", V: 50257, D: 768, N: 8192},
		{Name: "llama3", V: 128256, D: 4096, N: 8192},
		{Name: "v1e4", V: 10_000, D: 256, N: 8192},
		{Name: "v1e5", V: 100_000, D: 256, N: 8192},
		{Name: "v1e6", V: 1_000_000, D: 256, N: 8192},
	}
}

// SweepShapeNames are SparseShapes' vocabulary sweep.
var SweepShapeNames = []string{"v1e4", "v1e5", "v1e6"}

// SparseDists returns the distributions a sparse shape runs with: uniform,
// Zipf and text on the model tables, Zipf alone on the sweep.
func SparseDists(s Shape) []Dist {
	if slices.Contains(SweepShapeNames, s.Name) {
		return []Dist{Zipf}
	}
	return []Dist{Uniform, Zipf, Text}
}

// SelectSparseShapes parses a sparse shape set: "default" or "all" (every
// SparseShapes entry), or comma-separated names of SparseShapes, plus
// "sweep" for the three sweep shapes. Names of Shapes that are not sparse
// shapes (bert-base, ...) are ignored when lenient, so that one shape list
// can serve BenchmarkBackward and BenchmarkSparse.
func SelectSparseShapes(spec string, lenient bool) ([]Shape, error) {
	if spec == "" || spec == "default" || spec == "all" {
		return SparseShapes(), nil
	}
	var names []string
	for _, n := range strings.Split(spec, ",") {
		n = strings.TrimSpace(n)
		if n == "sweep" {
			names = append(names, SweepShapeNames...)
			continue
		}
		names = append(names, n)
	}
	var out []Shape
	for _, s := range SparseShapes() {
		if slices.Contains(names, s.Name) {
			out = append(out, s)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(s Shape) bool { return s.Name == n }) {
			if _, ok := ShapeByName(n); lenient && ok {
				continue
			}
			return nil, fmt.Errorf("unknown sparse shape %q (want default, all, sweep, or names from gpt2, llama3, v1e4, v1e5, v1e6)", n)
		}
	}
	return out, nil
}

// SparseBytes is the bytes model of one sparse backward call, the
// compulsory traffic of the touched rows only: read gradOut (4·N·D) and the
// ids (4·N), write the U distinct rows' values (4·U·D) and their ids (4·U).
// No V×D table is read or written.
func SparseBytes(s Shape, distinct int) int64 {
	return 4*int64(s.N)*int64(s.D) + 4*int64(s.N) + 4*int64(distinct)*int64(s.D) + 4*int64(distinct)
}
