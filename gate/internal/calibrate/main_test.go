package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun: on a pool of low-noise synthetic samples, a 50 % slowdown of the
// target is caught by every rule in every draw, and identical code (0 %)
// never fails; a pool too small for the asked n is an error.
func TestRun(t *testing.T) {
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: amd64\n")
	for r := range 40 {
		fmt.Fprintf(&b, "round: %d\n", r+1)
		for _, impl := range []string{"scatter", "simd"} {
			fmt.Fprintf(&b, "BenchmarkBackward/impl=%s/V=1-2 1 %d ns/op %d MB/s\n", impl, 1000+(r*37)%50, 100000/(1000+(r*37)%50))
		}
	}
	pool := filepath.Join(t.TempDir(), "pool.txt")
	if err := os.WriteFile(pool, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(&out, []string{"-pool", pool, "-draws", "20", "-slow", "0,50"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| 0 % | 0/20 = 0.0 % | 0/20 = 0.0 % | 0/20 = 0.0 % | 0/20 = 0.0 % | 0/20 = 0.0 % | 0/20 = 0.0 % | 0 % |",
		"| 50 % | 20/20 = 100.0 % | 20/20 = 100.0 % | 20/20 = 100.0 % | 20/20 = 100.0 % | 20/20 = 100.0 % | 20/20 = 100.0 % | 100 % |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, &out)
		}
	}
	if err := run(&out, []string{"-pool", pool, "-n", "30"}); err == nil {
		t.Error("n = 30 on 20 pairs: no error")
	}
}
