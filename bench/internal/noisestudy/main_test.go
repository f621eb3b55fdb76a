package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStats(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v, want 2", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v, want 2.5", m)
	}
	// |x - 10| = 0 0 1 1 10 → MAD 1, relative 0.1.
	if r := relMAD([]float64{10, 10, 11, 9, 20}); r != 0.1 {
		t.Errorf("relMAD = %v, want 0.1", r)
	}
	v := []sample{{"a", 1}, {"b", 2}, {"a", 3}, {"b", 4}, {"b", 5}}
	if got := fmt.Sprint(byProc(v)); got != "[[1 3] [2 4 5]]" {
		t.Errorf("byProc = %s", got)
	}
	if k := perProc(v); k != 2 {
		t.Errorf("perProc = %d, want 2 (the smallest process)", k)
	}
}

// write makes a raw file of one setting: procs processes of per samples,
// process p's values base·(1+p/10), ns/op.
func write(t *testing.T, dir, setting string, procs, per int, base float64) string {
	var b strings.Builder
	for p := range procs {
		fmt.Fprintf(&b, "setting: %s\nproc: p%d\n", setting, p)
		for i := range per {
			ns := base * (1 + float64(p)/10) * (1 + float64(i)/1000)
			fmt.Fprintf(&b, "BenchmarkX/impl=a-2 \t 10\t %.0f ns/op\n", ns)
		}
	}
	path := filepath.Join(dir, setting+".txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "one", 10, 1, 1e6)
	b := write(t, dir, "nested", 3, 6, 2e6)
	var out strings.Builder
	if err := run(&out, []string{a, b}, 6, "sec/op"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	// Columns in first-seen order; "one": 10 processes at 1.0 … 1.9 ms,
	// the first n = 6 of them 1.0 … 1.5 → median 1.25 ms.
	for _, want := range []string{"| benchmark | one | nested |", "| X/impl=a | 1.25 ms", "(10)", "| X/impl=a | nested | 3 × 6 |"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// Within a process the values step by 0.1 % (relative MAD 0.15 %),
	// between processes by 10 % (medians 2.005, 2.2055, 2.4066 ms: MAD
	// 0.2005 / 2.2055 = 9.1 %): the split must show both.
	if !strings.Contains(got, "| 0.1% | 9.1% |") {
		t.Errorf("within/between split wrong:\n%s", got)
	}
	if err := run(&out, nil, 6, "sec/op"); err == nil {
		t.Error("no files: want an error")
	}
	if err := run(&out, []string{a}, 6, "B/s"); err == nil || !strings.Contains(err.Error(), "B/s") {
		t.Errorf("a unit no file has: err = %v, want one naming it", err)
	}
}
