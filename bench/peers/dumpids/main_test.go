package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/embgrad/embgrad/bench"
)

// TestDump checks that the files hold exactly bench.IDs' ids and that the
// manifest describes them.
func TestDump(t *testing.T) {
	dir := t.TempDir()
	if _, err := dump(dir, "gpt2", "none"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Format != Format {
		t.Errorf("format %q, want %q", m.Format, Format)
	}
	if len(m.Backward) != len(bench.Dists()) {
		t.Fatalf("%d entries, want one per distribution (%d)", len(m.Backward), len(bench.Dists()))
	}
	g, _ := bench.ShapeByName("gpt2")
	for _, e := range m.Backward {
		want, err := bench.IDs(bench.Dist(e.Dist), e.V, e.N, bench.Seed)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int32, len(raw)/4)
		for i := range got {
			got[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ids differ from bench.IDs", e.File)
		}
		if e.V != g.V || e.D != g.D || e.N != g.N {
			t.Errorf("%s: V=%d D=%d N=%d, want the gpt2 shape %v", e.File, e.V, e.D, e.N, g)
		}
		u := len(slices.Compact(slices.Sorted(slices.Values(want))))
		if e.Distinct != u {
			t.Errorf("%s: distinct %d, want %d", e.File, e.Distinct, u)
		}
		if s := int64(4*e.N*e.D + 4*e.N + 4*e.V*e.D); e.Bytes["scratch"] != s {
			t.Errorf("%s: scratch bytes %d, want %d", e.File, e.Bytes["scratch"], s)
		}
		if a := int64(4*e.N*e.D + 4*e.N + 8*u*e.D); e.Bytes["accumulate"] != a {
			t.Errorf("%s: accumulate bytes %d, want %d", e.File, e.Bytes["accumulate"], a)
		}
	}
	if len(m.Tied) != 2 || m.Tied[0].T != 128 || m.Tied[1].T != 512 {
		t.Errorf("tied shapes %v, want T=128 and T=512 on gpt2", m.Tied)
	}
	if _, err := dump(t.TempDir(), "nosuchshape", "none"); err == nil {
		t.Error("unknown shape: no error")
	}
}

// TestDumpSparse checks the sparse inputs: bench.IDs' ids for every sparse
// shape and distribution asked for, with bench.SparseBytes.
func TestDumpSparse(t *testing.T) {
	dir := t.TempDir()
	m, err := dump(dir, "gpt2", "gpt2,v1e4")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Sparse) != 4 { // gpt2: uniform, zipf, text; v1e4: zipf
		t.Fatalf("%d sparse entries, want 4: %+v", len(m.Sparse), m.Sparse)
	}
	for _, e := range m.Sparse {
		want, err := bench.IDs(bench.Dist(e.Dist), e.V, e.N, bench.Seed)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int32, len(raw)/4)
		for i := range got {
			got[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ids differ from bench.IDs", e.File)
		}
		u := len(slices.Compact(slices.Sorted(slices.Values(want))))
		if b := int64(4*e.N*e.D + 4*e.N + 4*u*e.D + 4*u); e.Distinct != u || e.Bytes != b {
			t.Errorf("%s: distinct %d bytes %d, want %d and %d", e.File, e.Distinct, e.Bytes, u, b)
		}
	}
	if _, err := dump(t.TempDir(), "gpt2", "bert-base"); err == nil {
		t.Error("a shape that is not a sparse shape: no error")
	}
}

// BenchmarkCPUName does nothing: peers.py runs it (go test -run '^$'
// -bench '^BenchmarkCPUName$' -benchtime 1x ./bench/peers/dumpids) for the
// header go test prints, to label the peers' results with the same cpu line
// as the Go benchmarks' (Go reads the CPUID brand string, which may differ
// from /proc/cpuinfo's model name).
func BenchmarkCPUName(b *testing.B) {
	for b.Loop() {
	}
}
