package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchproc"

	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/bench/benchfile"
)

// peaks returns BenchmarkPeak's median GFLOP/s per thread count, the best
// isa's at each.
func (d *Data) peaks() map[int]float64 {
	p := map[int]float64{}
	d.eachOther(bench.Peak, func(keys map[string]string, s samples) {
		t, err := strconv.Atoi(keys[bench.KeyThreads])
		if v := s[benchfile.GFLOPPerSec]; err == nil && len(v) > 0 {
			p[t] = max(p[t], median(v))
		}
	})
	return p
}

// eachOther calls f for each cell of the family among the other
// benchmarks, with the keys of its name (and "gomaxprocs", the name's
// suffix).
func (d *Data) eachOther(family string, f func(keys map[string]string, s samples)) {
	o := d.others
	for _, t := range o.tables {
		if "Benchmark"+t.StringValues() != family {
			continue
		}
		for _, r := range o.rows[t] {
			_, parts := benchfmt.Name(r.StringValues()).Parts()
			keys := map[string]string{}
			for _, p := range parts {
				if p[0] == '-' {
					keys["gomaxprocs"] = string(p[1:])
					continue
				}
				k, v, _ := strings.Cut(string(p[1:]), "=")
				keys[k] = v
			}
			for _, col := range o.cols {
				if s := o.cells[[3]benchproc.Key{t, r, col}]; s != nil {
					keys[bench.KeyImpl] = col.StringValues() // the row's is a wildcard
					f(keys, s)
				}
			}
		}
	}
}

// writePeak states the tied kernels (BenchmarkTied at GOMAXPROCS workers,
// BenchmarkTiedWorkers at each count) as fractions of the compute roofline
// measured in the same run: BenchmarkPeak's best isa at threads = workers.
// It writes nothing without BenchmarkPeak results.
func (d *Data) writePeak(w *bytes.Buffer) {
	peaks := d.peaks()
	if len(peaks) == 0 {
		return
	}
	var ts []int
	for t := range peaks {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	w.WriteString("\n## Compute roofline (BenchmarkPeak)\n\nThe peak is the best isa's median at each thread count: independent FMA chains from registers.\n\n| threads | peak GFLOP/s |\n|---|---|\n")
	for _, t := range ts {
		fmt.Fprintf(w, "| %d | %.1f |\n", t, peaks[t])
	}
	var rows []string
	for _, fam := range []string{bench.Tied, bench.TiedWorkers} {
		d.eachOther(fam, func(keys map[string]string, s samples) {
			v := s[benchfile.GFLOPPerSec]
			wk := keys[bench.KeyWorkers]
			if wk == "" {
				wk = keys["gomaxprocs"] // BenchmarkTied runs at GOMAXPROCS workers
			}
			n, err := strconv.Atoi(wk)
			peak, ok := peaks[n]
			if len(v) == 0 || err != nil || !ok || keys[bench.KeyImpl] == "" {
				return
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %d | %s | %.0f%% |\n", strings.TrimPrefix(fam, "Benchmark"), keys[bench.KeyImpl],
				keys[bench.KeyT], n, fmtSummary(v, benchfile.GFLOPPerSec), 100*median(v)/peak))
		})
	}
	if len(rows) > 0 {
		w.WriteString("\n| benchmark | impl | T | workers | GFLOP/s | of peak |\n|---|---|---|---|---|---|\n")
		w.WriteString(strings.Join(rows, ""))
	}
}
