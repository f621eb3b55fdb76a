package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reportOf runs embgrad report on the files and returns REPORT.md.
func reportOf(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, append([]string{"report", "-dir", dir}, files...)); err != nil {
		t.Fatalf("report: %v\n%s", err, &stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(md)
}

// TestReportParallelGolden reports a synthetic quiet run (sharded, a
// sparse and a tied kernel at 1 and 2 workers, the copy probe and the
// compute peak at 1 and 2 threads), torch's peers, and a run beside one
// CPU hog: the scaling section states each kernel against the machine's
// ratio, the load section puts quiet and loaded side by side, the scratch
// section and the compute roofline state torch beside ours. The figures
// asserted here follow from the inputs by hand: copy 15000/10000 MB/s =
// 1.50×, sharded 1 ms → 0.6 ms = 1.67×, 1.67/1.50 = 111%, peak 190/100.
func TestReportParallelGolden(t *testing.T) {
	md := reportOf(t, "testdata/report/parallel.txt", "testdata/report/peers-parallel.txt", "testdata/report/loaded.txt")
	matchGolden(t, filepath.Join("testdata", "report", "REPORT-parallel.golden.md"), []byte(md))
	for _, want := range []string{
		"| 2 | 13.97GiB/s | 1.50× | 190.0 | 1.90× |",
		"| sharded | gpt2 dist=zipf mode=accumulate | 1.000m ±∞ | 600.0µ ±∞ | 1.67× | 75% | 83% | 1.50× | 111% |",
		"| tied | V=50257 D=768 T=128 | 123.5m ±∞ | 65.87m ±∞ | 1.88× | 80% | 79% | 1.90× | 99% |",
		// loaded: 1.3/1.1 = 1.18 > 1.10; 11.5/11 = 1.05.
		"| sharded | gpt2 dist=zipf mode=accumulate | 1.000m ±∞ | 600.0µ ±∞ | 0.60 | 1.100m ±∞ | 1.300m ±∞ | 1.18 | no |",
		"| sharded | gpt2 dist=zipf mode=scratch | 10.00m ±∞ | 6.000m ±∞ | 0.60 | 11.00m ±∞ | 11.50m ±∞ | 1.05 | yes |",
		// a loaded case without a quiet one
		"| bagsharded | V=50257 D=768 B=512 L=16 dist=zipf mode=sum dst=scratch weights=none | – | – | – | 3.000m ±∞ | 3.100m ±∞ | 1.03 | yes |",
		"hog-cpu: 0.98–1.00 over 4 runs",
		// scratch: 6.6 ms / 6 ms, 300 ms / 6 ms
		"| zipf | 2 | | roof 67% · ×50 dense · ×1.1 reuse | 300.0m ±∞ · roof 1% | 6.600m ±∞ · roof 61% |",
		"- sharded: 67% of the scratch roofline (≥ 85%: not met); ×1.1 against torch-dense-reuse (faster: met)",
		// tied 150 over torch-matmul's 140 at 2 threads, 80/75 at 1
		"| Tied | tied | 128 | 2 | 150.0 ±∞ | 79% | ×1.07 |",
		"| TiedWorkers | tied | 128 | 1 | 80.00 ±∞ | 80% | ×1.07 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("REPORT.md lacks %q", want)
		}
	}
}

// The loaded file's samples are never pooled with the quiet ones: every
// section before the parallel ones reads the same with and without it (its
// copy bandwidth and sharded times differ from the quiet file's, so pooling
// would change the memory table and the throughput tables).
func TestReportLoadedNotPooled(t *testing.T) {
	section := func(md string) string {
		i, j := strings.Index(md, "## Memory bandwidth"), strings.Index(md, "## Parallel scaling")
		if i < 0 || j < i {
			t.Fatalf("no memory or scaling section in\n%s", md)
		}
		return md[i:j]
	}
	quiet := reportOf(t, "testdata/report/parallel.txt", "testdata/report/peers-parallel.txt")
	both := reportOf(t, "testdata/report/parallel.txt", "testdata/report/peers-parallel.txt", "testdata/report/loaded.txt")
	if a, b := section(quiet), section(both); a != b {
		t.Errorf("the loaded file changed the quiet tables:\n--- quiet\n%s\n--- with loaded\n%s", a, b)
	}
	if !strings.Contains(quiet, "No run beside CPU hogs in the inputs") || strings.Contains(quiet, "## Under load") {
		t.Error("a report without a loaded file does not say it has no figures under load")
	}
	// A loaded file alone: nothing in the quiet tables, the load section
	// with its quiet columns empty.
	alone := reportOf(t, "testdata/report/loaded.txt")
	if strings.Contains(alone, "## gpt2") || !strings.Contains(alone, "| sharded | gpt2 dist=zipf mode=scratch | – | – | – | 11.00m ±∞ | 11.50m ±∞ | 1.05 | yes |") {
		t.Errorf("report of a loaded file alone:\n%s", alone)
	}
}

// Without BenchmarkMemory at 2 threads and without BenchmarkPeak, the
// sections say so and state no ratio or fraction from another count.
func TestReportParallelMissing(t *testing.T) {
	md := reportOf(t, "testdata/report/nocopy2.txt")
	for _, want := range []string{
		"No BenchmarkMemory op=copy at threads=2 in the inputs",
		"| 2 | – | – | – | – |",
		"| sharded | gpt2 dist=zipf mode=accumulate | 1.000m ±∞ | 600.0µ ±∞ | 1.67× | 75% | – | – | – |",
		"| tied | V=50257 D=768 T=128 | 123.5m ±∞ | 65.87m ±∞ | 1.88× | – | – | – | – |",
		"No run beside CPU hogs in the inputs",
		"No BenchmarkPeak results in the inputs",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("REPORT.md lacks %q:\n%s", want, md)
		}
	}
	// The main table may fall back to the 1-thread probe (its documented
	// rule); the scaling section must not.
	if i := strings.Index(md, "## Parallel scaling"); i < 0 || strings.Contains(md[i:], "1.50×") || strings.Contains(md[i:], "83%") {
		t.Errorf("a ratio or fraction at 2 threads without the 2-thread probe:\n%s", md[i:])
	}
}

// TestReportForms: BenchmarkBag and BenchmarkBackward16 get their own
// tables (not the generic ones), with the roofline fraction where the
// probe ran at the cell's worker count (here only at 1 thread: none at 2)
// and torch's time over ours in the same row.
func TestReportForms(t *testing.T) {
	md := reportOf(t, "testdata/report/forms.txt")
	for _, want := range []string{
		"## EmbeddingBag backward (BenchmarkBag)",
		"### V=1000000 D=64 B=512 L=16 dist=zipf",
		"| mode=sum dst=scratch weights=none workers=1 | 40.00m ±∞ · roof 70% · ×1.25 bag-reuse | 50.00m ±∞ |",
		"| mode=sum dst=scratch weights=none workers=2 | 30.00m ±∞ · ×1.5 bag-reuse | 45.00m ±∞ |",
		"## 16-bit gradients (BenchmarkBackward16)",
		"| dtype=bf16 dst=16 | 1.000m ±∞ · roof 50% · ×1200 dense | 1.200 ±∞ |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("REPORT.md lacks %q:\n%s", want, md)
		}
	}
	for _, not := range []string{"\n## BenchmarkBag", "\n## BenchmarkBackward16"} {
		if strings.Contains(md, not) {
			t.Errorf("REPORT.md has the generic table %q too", not)
		}
	}
}
