package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWritePeak states the tied rows against the peak at their worker
// count: BenchmarkTied at the GOMAXPROCS suffix, BenchmarkTiedWorkers at
// its workers key, the best isa's median as the peak.
func TestWritePeak(t *testing.T) {
	in := `goos: linux
goarch: amd64
BenchmarkPeak/isa=avx512/threads=1-2 1 1 ns/op 100 GFLOP/s
BenchmarkPeak/isa=avx512/threads=2-2 1 1 ns/op 200 GFLOP/s
BenchmarkPeak/isa=avx2/threads=2-2 1 1 ns/op 50 GFLOP/s
BenchmarkTied/impl=tied/V=50257/D=768/T=128-2 1 1 ns/op 150 GFLOP/s
BenchmarkTiedWorkers/impl=tied/V=50257/D=768/T=128/workers=1-2 1 1 ns/op 80 GFLOP/s
`
	path := filepath.Join(t.TempDir(), "r.txt")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Read([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	d.writePeak(&w)
	for _, want := range []string{
		"| 1 | 100.0 |", "| 2 | 200.0 |",
		"| Tied | tied | 128 | 2 | 150.0 ±∞ | 75% | – |",
		"| TiedWorkers | tied | 128 | 1 | 80.00 ±∞ | 80% | – |",
		"No torch-matmul results",
	} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("no %q in\n%s", want, &w)
		}
	}
}
