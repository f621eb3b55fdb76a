// Package report renders benchmark result files as REPORT.md:
// benchstat-style tables (median ± 95% confidence interval, pivoted by
// impl) per shape, distribution and mode, the fraction of the memory
// roofline measured by BenchmarkMemory in the same run, and SVG plots
// beside it; then every kernel measured at several worker counts against
// the machine's own bandwidth (or compute-peak) ratio (scaling.go), quiet
// and loaded runs side by side (files with a "hog: N" config line, kept
// apart from the quiet results), mode=scratch against torch's dense
// backward with and without memory reuse (scratch.go), the sparse, bag and
// 16-bit families (sparse.go, forms.go) and the tied kernels against the
// compute peak and torch-matmul (peak.go). The files are read with
// bench/benchfile.
package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchproc"
	"golang.org/x/perf/benchunit"

	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/bench/benchfile"
)

// Write renders the report of d into dir/REPORT.md with its plots beside
// it; files are the inputs as the user named them (the report records its
// command). It returns the report's path and the number of plots.
func (d *Data) Write(dir string, files []string) (string, int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	var md bytes.Buffer
	svgs, err := d.write(&md, files)
	if err != nil {
		return "", 0, err
	}
	for _, s := range svgs {
		if err := os.WriteFile(filepath.Join(dir, s.name), s.data, 0o644); err != nil {
			return "", 0, err
		}
	}
	path := filepath.Join(dir, "REPORT.md")
	return path, len(svgs), os.WriteFile(path, md.Bytes(), 0o644)
}

// svg is one plot file.
type svg struct {
	name string
	data []byte
}

// write renders the report and returns its plots.
func (d *Data) write(w *bytes.Buffer, files []string) ([]svg, error) {
	cells := d.cells()
	fmt.Fprintf(w, "# embgrad benchmark report\n\n")
	if cmd := d.files[0].config["command"]; cmd != "" {
		fmt.Fprintf(w, "The results in %s come from\n\n```\n%s\n```\n\n", files[0], cmd)
	}
	fmt.Fprintf(w, "This report was made by\n\n```\ngo run ./cmd/embgrad report %s\n```\n\n", strings.Join(files, " "))
	w.WriteString("Run them again to reproduce it (`embgrad bench -report` runs both); compare runs only\nfrom one machine and session.")
	fmt.Fprintf(w, "\n\n## Inputs\n\n| file | results | commit | go | cpu | gomaxprocs | date | load average |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range d.files {
		c := f.config
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", f.path, f.results,
			orDash(shortCommit(c["commit"])), orDash(c["go"]), orDash(c["cpu"]), orDash(c["gomaxprocs"]), orDash(c["date"]), orDash(c["loadavg"]))
	}
	w.WriteString("\nThe load average (1, 5, 15 minutes) is the machine's at the start of the run: above\n" +
		"its GOMAXPROCS, other work shared the cores and the results are noisy.\n")
	for _, f := range d.files {
		if f.hog > 0 {
			fmt.Fprintf(w, "\n%s ran beside %d CPU hog%s (config line hog: %d): its results appear only in the section under load, never pooled with the quiet ones.\n",
				f.path, f.hog, plural(f.hog), f.hog)
		}
	}
	w.WriteString(`
Cells show the median over the runs ± the 95% confidence interval of the
median (benchmath, as benchstat prints it; ± ∞ means fewer than 6 runs).
Throughput is tokens/s (ids processed per second). **roof** is the fraction
of the memory roofline: the kernel's B/s from the bytes model of
bench/backward_test.go (compulsory traffic: accumulate reads gradOut and ids
and reads and writes each touched row once; scratch reads gradOut and ids and
writes the whole table once) over the copy bandwidth BenchmarkMemory measured
in the same run at the kernel's worker count (bytes read plus bytes written).
For results without B/s (peers' files), B/s is the bytes model of the same
case over their time per call. Above 100% the kernel's data stayed in cache
(dist=same touches one row; small tables fit) or the probe ran under more
load than the kernel.
`)

	var svgs []svg
	if len(d.memory.cells) > 0 {
		d.writeMemory(w)
	} else {
		w.WriteString("\nNo BenchmarkMemory results in the inputs: no roofline fractions.\n")
	}

	type tableID struct{ shape, mode string }
	var tables []tableID
	for _, c := range cells {
		if id := (tableID{c.shape, c.mode}); !slices.Contains(tables, id) {
			tables = append(tables, id)
		}
	}
	shapeDone := map[string]bool{}
	for _, t := range tables {
		var tc []bwCell
		for _, c := range cells {
			if c.shape == t.shape && c.mode == t.mode {
				tc = append(tc, c)
			}
		}
		if !shapeDone[t.shape] {
			shapeDone[t.shape] = true
			fmt.Fprintf(w, "\n## %s: V=%d, D=%d, N=%d\n", t.shape, tc[0].V, tc[0].D, tc[0].N)
		}
		fmt.Fprintf(w, "\n### mode=%s\n\n", t.mode)
		d.writeBackwardTable(w, cells, tc)
		name := fmt.Sprintf("throughput-%s-%s.svg", t.shape, t.mode)
		data, err := throughputPlot(fmt.Sprintf("%s, %s: tokens/s by kernel", t.shape, t.mode), tc)
		if err != nil {
			return nil, err
		}
		svgs = append(svgs, svg{name, data})
		fmt.Fprintf(w, "\n![throughput, %s, %s](%s)\n", t.shape, t.mode, name)
	}

	scaling, err := scalingPlots(cells)
	if err != nil {
		return nil, err
	}
	roof, err := d.rooflinePlots(cells) // none without BenchmarkMemory
	if err != nil {
		return nil, err
	}
	for _, sec := range []struct {
		title, intro string
		plots        []svg
	}{
		{"Scaling with workers", "Kernels measured at more than one worker count", scaling},
		{"Fraction of the roofline", "Every kernel at each worker count", roof},
	} {
		if len(sec.plots) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n## %s\n\n%s, dist=%s.\n", sec.title, sec.intro, plotDist(cells))
		for _, s := range sec.plots {
			fmt.Fprintf(w, "\n![%s](%s)\n", strings.ToLower(sec.title), s.name)
		}
		svgs = append(svgs, sec.plots...)
	}
	d.writeScaling(w) // scaling.go; nothing without a kernel at two worker counts
	d.writeLoad(w)    // nothing without a file run beside CPU hogs
	d.writeScratch(w, cells)
	sparse, err := d.writeSparse(w) // sparse.go; nothing without its families
	if err != nil {
		return nil, err
	}
	svgs = append(svgs, sparse...)
	d.writeForms(w) // forms.go; nothing without BenchmarkBag or BenchmarkBackward16
	if len(d.others.cells) > 0 {
		d.writeOthers(w)
		d.writePeak(w)
	}
	return svgs, nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func shortCommit(c string) string {
	base := strings.TrimSuffix(c, "-dirty")
	if len(base) == 40 {
		return base[:12] + c[len(base):]
	}
	return c
}

// fmtSummary formats a median ± CI with the unit class's prefixes.
func fmtSummary(v []float64, unit string) string {
	s := summary(v)
	return benchunit.Scale(s.Center, benchunit.ClassOf(unit)) + " ±" + s.PctRangeString()
}

func (d *Data) writeMemory(w *bytes.Buffer) {
	w.WriteString("\n## Memory bandwidth (BenchmarkMemory)\n\n| op | size | threads | B/s |\n|---|---|---|---|\n")
	m := d.memory
	for _, t := range m.tables {
		for _, r := range m.rows[t] {
			for _, col := range m.cols {
				if s := m.cells[[3]benchproc.Key{t, r, col}]; s != nil {
					size, _ := strconv.ParseFloat(get(r, "/"+bench.KeySize), 64)
					fmt.Fprintf(w, "| %s | %sB | %s | %s |\n", get(r, "/"+bench.KeyOp), benchunit.Scale(size, benchunit.Binary),
						get(r, "/"+bench.KeyThreads), fmtSummary(s["B/s"], "B/s"))
				}
			}
		}
	}
}

// writeBackwardTable writes one shape and mode: a row per distribution and
// worker count, a column per kernel.
func (d *Data) writeBackwardTable(w *bytes.Buffer, all, tc []bwCell) {
	var impls []string
	type rowID struct {
		dist    string
		workers int
	}
	var rows []rowID
	for _, c := range tc {
		impls = appendNew(impls, c.impl)
		if r := (rowID{c.dist, c.workers}); !slices.Contains(rows, r) {
			rows = append(rows, r)
		}
	}
	fmt.Fprintf(w, "| dist | workers | %s |\n|---|---|%s\n", strings.Join(impls, " | "), strings.Repeat("---|", len(impls)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d |", r.dist, r.workers)
		for _, impl := range impls {
			i := slices.IndexFunc(tc, func(c bwCell) bool { return c.impl == impl && c.dist == r.dist && c.workers == r.workers })
			if i < 0 {
				w.WriteString(" |")
				continue
			}
			cell := fmtSummary(tc[i].tokensPerSec(), benchfile.TokensPerSec)
			if f, ok := d.fraction(all, tc[i]); ok {
				cell += fmt.Sprintf(" · roof %.0f%%", 100*f)
			}
			fmt.Fprintf(w, " %s |", cell)
		}
		w.WriteString("\n")
	}
	w.WriteString("\n(tokens/s)\n")
}

// writeOthers writes the other benchmarks (BenchmarkTied, ...) as
// benchstat would with -col /impl: a table per benchmark and unit.
func (d *Data) writeOthers(w *bytes.Buffer) {
	o := d.others
	for _, t := range o.tables {
		var units []string
		for _, r := range o.rows[t] {
			for _, col := range o.cols {
				for u := range o.cells[[3]benchproc.Key{t, r, col}] {
					units = appendNew(units, u)
				}
			}
		}
		slices.Sort(units)
		for _, u := range units {
			fmt.Fprintf(w, "\n## Benchmark%s (%s)\n\n| name |", t.StringValues(), u)
			var cols []benchproc.Key
			for _, col := range o.cols {
				for _, r := range o.rows[t] {
					if o.cells[[3]benchproc.Key{t, r, col}] != nil && !slices.Contains(cols, col) {
						cols = append(cols, col)
					}
				}
			}
			for _, col := range cols {
				fmt.Fprintf(w, " %s |", col.StringValues())
			}
			fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(cols)))
			for _, r := range o.rows[t] {
				fmt.Fprintf(w, "| %s |", r.StringValues())
				for _, col := range cols {
					if v := o.cells[[3]benchproc.Key{t, r, col}][u]; len(v) > 0 {
						fmt.Fprintf(w, " %s |", fmtSummary(v, u))
					} else {
						w.WriteString(" |")
					}
				}
				w.WriteString("\n")
			}
		}
	}
}
