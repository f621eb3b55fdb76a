package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReportSparseGolden reports a synthetic run of BenchmarkSparse (ours
// and torch's, at GPT-2 and over a V sweep) and BenchmarkStep (a fused
// step beside torch's, over the sweep): the sparse section of REPORT.md is
// golden, its ratios to torch and its sweep plots are there, and the
// families do not also appear in the generic tables.
func TestReportSparseGolden(t *testing.T) {
	dir := t.TempDir()
	files := []string{"testdata/report/sparse.txt"}
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, append([]string{"report", "-dir", dir}, files...)); err != nil {
		t.Fatalf("report: %v\n%s", err, &stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	matchGolden(t, filepath.Join("testdata", "report", "REPORT-sparse.golden.md"), md)
	for _, s := range []string{"## Sparse gradients and optimizer steps", "· ×4.5 sparse-coalesce", "| sgd-fused sgd w=2 | 10000–1000000 | 1 |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("REPORT.md lacks %q", s)
		}
	}
	for _, s := range []string{"\n## BenchmarkSparse", "\n## BenchmarkStep"} {
		if strings.Contains(string(md), s) {
			t.Errorf("REPORT.md has the generic table %q too", s)
		}
	}
	written, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
	for i := range written {
		written[i] = filepath.Base(written[i])
	}
	slices.Sort(written)
	want := []string{"sparse-sweep-D256-N8192-zipf.svg", "step-sweep-D256-N8192-zipf.svg"}
	if !slices.Equal(written, want) {
		t.Errorf("plots %v, want %v", written, want)
	}
	for _, name := range written {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		var doc struct{ XMLName xml.Name }
		if err := xml.Unmarshal(data, &doc); err != nil || doc.XMLName.Local != "svg" {
			t.Errorf("%s: not an SVG document: %v", name, err)
		}
		if !strings.Contains(string(md), "]("+name+")") {
			t.Errorf("%s is not linked from REPORT.md", name)
		}
	}
}
