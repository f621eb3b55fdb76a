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

// A pool of pair:/side: runs is read as pairs, OLD first whatever the
// order; two runs of one side in a row are an error.
func TestReadPairs(t *testing.T) {
	run := func(pair int, side string, ns int) string {
		return fmt.Sprintf("pair: %d\nside: %s\nBenchmarkX-2 1 %d ns/op\n", pair, side, ns)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("goos: linux\n"+run(1, "old", 100)+run(1, "new", 200)+run(2, "new", 300)+run(2, "old", 400)), 0o644)
	pairs, err := readPool(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 {
		t.Fatalf("%d pairs, want 2", len(pairs))
	}
	for i, want := range [][2]float64{{100, 200}, {400, 300}} {
		if o, n := pairs[i][0][0].Values[0].OrigValue, pairs[i][1][0].Values[0].OrigValue; o != want[0] || n != want[1] {
			t.Errorf("pair %d: OLD %g NEW %g, want %g %g", i+1, o, n, want[0], want[1])
		}
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("goos: linux\n"+run(1, "old", 100)+run(2, "old", 200)), 0o644)
	if _, err := readPool(bad); err == nil || !strings.Contains(err.Error(), "not the two sides of one pair") {
		t.Errorf("two OLD runs: %v, want a pairing error", err)
	}
}
