package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGatePool: the pooled file holds the first run's samples of the
// suspects only, then every re-run sample, and the unit metadata.
func TestGatePool(t *testing.T) {
	dir := t.TempDir()
	first := "goos: linux\nUnit tokens/s better=higher\nBenchmarkA-2 1 10 ns/op\nBenchmarkB-2 1 20 ns/op\nBenchmarkA-2 1 11 ns/op\n"
	rerun := "goos: linux\nBenchmarkA-2 1 12 ns/op\n"
	p1, p2, out := filepath.Join(dir, "1"), filepath.Join(dir, "2"), filepath.Join(dir, "out")
	os.WriteFile(p1, []byte(first), 0o644)
	os.WriteFile(p2, []byte(rerun), 0o644)
	if err := gatePool(p1, p2, out, []string{"BenchmarkA-2"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Count(got, "BenchmarkA-2") != 3 || strings.Contains(got, "BenchmarkB") || !strings.Contains(got, "better=higher") {
		t.Errorf("pooled file:\n%s\nwant the 3 A samples, no B, the unit metadata", got)
	}
	for _, v := range []string{" 10 ns/op", " 11 ns/op", " 12 ns/op"} {
		if !strings.Contains(got, v) {
			t.Errorf("pooled file lacks%s:\n%s", v, got)
		}
	}
}
