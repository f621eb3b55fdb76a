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

// peerMatmul is torch's tied output part, dst += dZᵀ·H with OpenBLAS
// sgemm (bench/peers/peers.py): BenchmarkTied with the thread count as
// its name's suffix.
const peerMatmul = "torch-matmul"

// writePeak states the tied kernels (BenchmarkTied at GOMAXPROCS workers,
// BenchmarkTiedWorkers at each count) as fractions of the compute roofline
// measured in the same run, BenchmarkPeak's best isa at threads = workers,
// beside torch-matmul at the same T and thread count. Without BenchmarkPeak
// results it says so, if there are tied results to state.
func (d *Data) writePeak(w *bytes.Buffer) {
	type tiedRow struct {
		fam, impl, T string
		workers      int
		v            []float64
	}
	var rows []tiedRow
	for _, fam := range []string{bench.Tied, bench.TiedWorkers} {
		d.eachOther(fam, func(keys map[string]string, s samples) {
			v := s[benchfile.GFLOPPerSec]
			wk := keys[bench.KeyWorkers]
			if wk == "" {
				wk = keys["gomaxprocs"] // BenchmarkTied runs at GOMAXPROCS workers (torch-matmul: its threads)
			}
			n, err := strconv.Atoi(wk)
			if len(v) == 0 || err != nil || keys[bench.KeyImpl] == "" {
				return
			}
			rows = append(rows, tiedRow{strings.TrimPrefix(fam, "Benchmark"), keys[bench.KeyImpl], keys[bench.KeyT], n, v})
		})
	}
	peaks := d.peaks()
	if len(peaks) == 0 {
		if len(rows) > 0 {
			w.WriteString("\n## Compute roofline (BenchmarkPeak)\n\nNo BenchmarkPeak results in the inputs: no compute roofline for the tied kernels (`embgrad bench` runs the probe unless -peak=false).\n")
		}
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
	if len(rows) == 0 {
		return
	}
	w.WriteString(`
The tied kernels' output part (dst += dZᵀ·H, 2·V·D·T flops) as a fraction of
the peak at threads = workers, and **of torch** (ours over torch-matmul's
GFLOP/s at the same T and thread count; above 1 ours is faster). Target
(issue 17): tied ≥ 75% of the peak at 2 threads.

| benchmark | impl | T | workers | GFLOP/s | of peak | of torch |
|---|---|---|---|---|---|---|
`)
	torch := func(T string, n int) ([]float64, bool) {
		for _, r := range rows {
			if r.impl == peerMatmul && r.T == T && r.workers == n {
				return r.v, true
			}
		}
		return nil, false
	}
	anyTorch := false
	for _, r := range rows {
		of := "–"
		if peak, ok := peaks[r.workers]; ok {
			of = fmt.Sprintf("%.0f%%", 100*median(r.v)/peak)
		}
		vs := "–"
		if t, ok := torch(r.T, r.workers); ok && !isPeer(r.impl) {
			vs = fmt.Sprintf("×%.2f", median(r.v)/median(t))
		}
		anyTorch = anyTorch || r.impl == peerMatmul
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %s |\n", r.fam, r.impl, r.T, r.workers, fmtSummary(r.v, benchfile.GFLOPPerSec), of, vs)
	}
	if !anyTorch {
		w.WriteString("\nNo torch-matmul results (bench/peers/peers.py) in the inputs: no comparison with torch.\n")
	}
}
