// Package bench is embgrad's benchmark matrix: the shapes of real models'
// embedding tables, the token-id streams fed to them, and (in its tests)
// BenchmarkBackward over every kernel in impl/registry plus BenchmarkMemory,
// the memory-bandwidth probe that results are stated against.
//
// The benchmarks run with
//
//	go test -run '^$' -bench . ./bench                             # default shapes
//	go test -run '^$' -bench . ./bench -args -embgrad.shapes=all   # every shape (Llama-3: a 2.1 GB table)
//
// or through "embgrad bench", which writes results/<name>.txt. A -bench
// pattern has one expression per name level, so
// 'Backward/impl=simd/V=50257/././dist=zipf' selects one kernel, shape and
// distribution.
package bench

import (
	"fmt"
	"strings"
)

// Shape is an embedding table V×D and the number of ids N in one backward
// call. N is a realistic batch: sequences × sequence length for language
// models, lookups per batch for the recommender.
type Shape struct {
	Name    string // short name for flags: "gpt2", "llama3", ...
	V, D, N int
}

// Bytes returns the size of the float32 table in bytes.
func (s Shape) Bytes() int { return 4 * s.V * s.D }

func (s Shape) String() string { return fmt.Sprintf("%s (V=%d D=%d N=%d)", s.Name, s.V, s.D, s.N) }

// Shapes lists every benchmark shape, smallest table first.
func Shapes() []Shape {
	return []Shape{
		{Name: "bert-base", V: 30522, D: 768, N: 8192},  // 16 × 512 tokens; 94 MB table
		{Name: "gpt2", V: 50257, D: 768, N: 8192},       // 8 × 1024 tokens; 154 MB
		{Name: "recsys", V: 1_000_000, D: 64, N: 32768}, // small-D recommender table; 256 MB
		{Name: "llama2", V: 32000, D: 4096, N: 4096},    // 1 × 4096 tokens; 524 MB
		{Name: "llama3", V: 128256, D: 4096, N: 4096},   // 1 × 4096 tokens; 2.1 GB
	}
}

// DefaultShapeNames is the modest set run unless more is asked for: tables
// of at most 256 MB, so a run fits in minutes and a few hundred MB.
var DefaultShapeNames = []string{"bert-base", "gpt2", "recsys"}

// SelectShapes parses a shape set: "default", "all", or a comma-separated
// list of shape names, each at most once (a repeated shape would run twice
// under one name, which go test renames with a #01 suffix).
func SelectShapes(spec string) ([]Shape, error) {
	var names []string
	switch spec {
	case "", "default":
		names = DefaultShapeNames
	case "all":
		return Shapes(), nil
	default:
		names = strings.Split(spec, ",")
	}
	var out []Shape
	for _, n := range names {
		s, ok := ShapeByName(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("unknown shape %q (want default, all, or names from %s)", n, ShapeNames())
		}
		for _, o := range out {
			if o.Name == s.Name {
				return nil, fmt.Errorf("shape %q given twice", s.Name)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// ShapeByName returns the shape with the given name.
func ShapeByName(name string) (Shape, bool) {
	for _, s := range Shapes() {
		if s.Name == name {
			return s, true
		}
	}
	return Shape{}, false
}

// ShapeNames returns the shape names, comma-separated.
func ShapeNames() string {
	var n []string
	for _, s := range Shapes() {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}
