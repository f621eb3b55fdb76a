package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReportGolden reports a synthetic run of ours (two kernels, one at two
// worker counts, the memory probe, a tied benchmark) with a peers' file
// that has no B/s: REPORT.md is golden, and every plot it links is a
// well-formed SVG written beside it.
func TestReportGolden(t *testing.T) {
	dir := t.TempDir()
	files := []string{"testdata/report/ours.txt", "testdata/report/peers.txt"}
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, append([]string{"report", "-dir", dir}, files...)); err != nil {
		t.Fatalf("report: %v\n%s", err, &stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	matchGolden(t, filepath.Join("testdata", "report", "REPORT.golden.md"), md)

	var linked []string
	for _, line := range strings.Split(string(md), "\n") {
		if i := strings.Index(line, "]("); strings.HasPrefix(line, "![") && i > 0 {
			linked = append(linked, strings.TrimSuffix(line[i+2:], ")"))
		}
	}
	written, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
	for i := range written {
		written[i] = filepath.Base(written[i])
	}
	slices.Sort(written)
	want := []string{
		"roofline-accumulate.svg", "roofline-scratch.svg", "scaling-gpt2.svg",
		"throughput-gpt2-accumulate.svg", "throughput-gpt2-scratch.svg",
	}
	if !slices.Equal(written, want) || len(linked) != len(want) {
		t.Errorf("plots written %v, linked %v; want %v", written, linked, want)
	}
	for _, name := range written {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		var doc struct {
			XMLName xml.Name
		}
		if err := xml.Unmarshal(data, &doc); err != nil || doc.XMLName.Local != "svg" {
			t.Errorf("%s: not an SVG document: %v", name, err)
		}
	}
	if !strings.Contains(stdout.String(), "REPORT.md") {
		t.Errorf("stdout %q does not name the report", &stdout)
	}
}

func TestReportErrors(t *testing.T) {
	td := func(f string) string { return filepath.Join("testdata", "report", f) }
	for _, tc := range []struct {
		name  string
		files []string
		want  string
	}{
		{"malformed", []string{td("ours.txt"), td("malformed.txt")}, td("malformed.txt") + ":4: "},
		{"empty", []string{td("empty.txt")}, td("empty.txt") + ": no benchmark result lines"},
		{"NaN", []string{td("nan.txt")}, td("nan.txt") + ":4: BenchmarkBackward/impl=loop/V=50257/D=768/N=8192/dist=zipf/mode=accumulate/workers=1-2: value NaN MB/s is not a finite number"},
		{"negative", []string{td("negative.txt")}, td("negative.txt") + ":3: BenchmarkBackward/impl=loop/V=50257/D=768/N=8192/dist=zipf/mode=accumulate/workers=1-2: value -1.024e+06 tokens/s is negative"},
		{"Inf", []string{td("inf.txt")}, td("inf.txt") + ":3: BenchmarkBackward/impl=loop/V=50257/D=768/N=8192/dist=zipf/mode=accumulate/workers=1-2: value +Inf tokens/s is not a finite number"},
		{"same-file-twice", []string{td("ours.txt"), td("peers.txt"), "testdata/../" + td("ours.txt")},
			"testdata/../testdata/report/ours.txt is the same file as testdata/report/ours.txt (argument 1 and 3)"},
		{"missing", []string{td("nonexistent.txt")}, "nonexistent.txt"},
		{"bad-unit", []string{td("badunit.txt")}, td("badunit.txt") + ":2: unit tokens/s: better=sideways"},
		{"bad-hog", []string{td("ours.txt"), td("badhog.txt")}, td("badhog.txt") + `:3: config line hog: "many" is not a count of CPU hogs`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			err := run(&stdout, &stderr, append([]string{"report", "-dir", dir}, tc.files...))
			var ee *exitError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ee) || ee.code != 2 {
				t.Fatalf("err = %v, want exit status 2 and %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "REPORT.md")); err == nil {
				t.Error("REPORT.md written from bad input")
			}
		})
	}
}

// TestReportCommitted regenerates results/REPORT.md and its plots from the
// committed results with the command the report names, byte for byte.
func TestReportCommitted(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	dir := t.TempDir()
	files := []string{"results/baseline.txt", "results/peers-reuse.txt", "results/peers.txt", "results/baseline-hog1.txt"}
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, append([]string{"report", "-dir", dir}, files...)); err != nil {
		t.Fatalf("report: %v\n%s", err, &stderr)
	}
	written, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(written) < 2 {
		t.Fatalf("wrote %v", written)
	}
	for _, path := range written {
		got, _ := os.ReadFile(path)
		want, err := os.ReadFile(filepath.Join("results", filepath.Base(path)))
		if err != nil {
			t.Errorf("%s: not committed: %v", filepath.Base(path), err)
			continue
		}
		if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); d != "" {
			t.Errorf("results/%s differs from a fresh report (-committed +fresh):\n%s", filepath.Base(path), d)
		}
	}
}

// A results file without BenchmarkBackward lines (embgrad bench -kernels
// tied -report) gets a report of what it has; plotting once indexed the
// first of no cells.
func TestReportTiedOnly(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, []string{"report", "-dir", dir, "testdata/bench/tied.out"}); err != nil {
		t.Fatalf("report: %v\n%s", err, &stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## BenchmarkTied (sec/op)", "| */V=50257/D=768/T=128/workers=1-2 | 100.0m ±∞ |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("REPORT.md lacks %q:\n%s", want, md)
		}
	}
}
