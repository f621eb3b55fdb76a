package report

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchproc"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/embgrad/embgrad/bench"
)

// The sparse section: BenchmarkSparse (sparse backward) and BenchmarkStep
// (a training step: gradient and optimizer update), ours beside the torch
// peers, whatever of the two families the inputs hold. Its tables show the
// time per call, the figure the targets are stated in, with the
// torch peer's time over ours beside each of our kernels; its plots show
// time per call against V where a family was run at several V with the
// same D, N and distribution (the vocabulary sweep).

// Top-level names of the step family, which another part of the code
// defines (its keys lead with impl, V, D, N, dist, then optim).
const (
	stepFamily = "BenchmarkStep"
	keyOptim   = "optim"
)

// sparseData collects the two families.
type sparseData struct {
	sparse *collector // table V+D+N, row dist+workers, col impl
	step   *collector // table V+D+N+optim, row dist+workers, col impl
}

func newSparseData() *sparseData {
	key := func(keys ...string) string { return "/" + strings.Join(keys, ",/") }
	return &sparseData{
		sparse: newCollector(".name:"+strings.TrimPrefix(bench.Sparse, "Benchmark"),
			key(bench.KeyV+"@num", bench.KeyD+"@num", bench.KeyN+"@num"),
			key(bench.KeyDist, bench.KeyWorkers+"@num"), key(bench.KeyImpl)),
		step: newCollector(".name:"+strings.TrimPrefix(stepFamily, "Benchmark"),
			key(bench.KeyV+"@num", bench.KeyD+"@num", bench.KeyN+"@num", keyOptim),
			key(bench.KeyDist, bench.KeyWorkers+"@num"), key(bench.KeyImpl)),
	}
}

// collectors lists the section's collectors, for Read.
func (s *sparseData) collectors() []*collector { return []*collector{s.sparse, s.step} }

// othersFilter excludes the section's families from the generic tables.
const othersFilter = " -.name:" + "Sparse" + " -.name:" + "Step"

// spCell is one cell of either family.
type spCell struct {
	V, D, N, workers  int
	optim, dist, impl string
	sec               []float64
}

func (c spCell) isTorch() bool { return strings.HasPrefix(c.impl, "torch-") }

func spCells(c *collector) []spCell {
	var out []spCell
	for _, t := range c.tables {
		for _, r := range c.rows[t] {
			for _, col := range c.cols {
				s := c.cells[[3]benchproc.Key{t, r, col}]
				if s == nil || len(s["sec/op"]) == 0 {
					continue
				}
				atoi := func(k benchproc.Key, f string) int { n, _ := strconv.Atoi(get(k, f)); return n }
				out = append(out, spCell{
					V: atoi(t, "/"+bench.KeyV), D: atoi(t, "/"+bench.KeyD), N: atoi(t, "/"+bench.KeyN),
					optim: get(t, "/"+keyOptim), dist: get(r, "/"+bench.KeyDist), impl: get(col, "/"+bench.KeyImpl),
					workers: max(atoi(r, "/"+bench.KeyWorkers), 1), sec: s["sec/op"],
				})
			}
		}
	}
	return out
}

// sparseShapeName names a sparse shape after bench.SparseShapes.
func sparseShapeName(V, D, N int) string {
	for _, s := range bench.SparseShapes() {
		if s.V == V && s.D == D && s.N == N {
			return s.Name
		}
	}
	return fmt.Sprintf("V%d-D%d-N%d", V, D, N)
}

// writeSparse writes the section, if the inputs hold either family, and
// returns its plots.
func (d *Data) writeSparse(w *bytes.Buffer) ([]svg, error) {
	sp, st := spCells(d.sparse.sparse), spCells(d.sparse.step)
	if len(sp) == 0 && len(st) == 0 {
		return nil, nil
	}
	w.WriteString(`
## Sparse gradients and optimizer steps

Time per call (median ± 95% CI). BenchmarkSparse is the coalesced sparse
backward (rows and U×D values; torch: embedding_sparse_backward + coalesce);
BenchmarkStep is one training step, gradient and optimizer update (torch:
its backward, then optim.*.step()). **×r name** after one of our cells is
the median time of the torch peer torch-name over ours, in the same table row
(same ids, worker count and optimizer): above 1, ours is faster.
`)
	var svgs []svg
	for _, fam := range []struct {
		name  string
		cells []spCell
	}{{bench.Sparse, sp}, {stepFamily, st}} {
		if len(fam.cells) == 0 {
			continue
		}
		writeSpTables(w, fam.name, fam.cells)
		plots, err := sweepPlots(w, fam.name, fam.cells)
		if err != nil {
			return nil, err
		}
		svgs = append(svgs, plots...)
	}
	return svgs, nil
}

// writeSpTables writes a table per shape (and optimizer): a row per
// distribution and worker count, a column per impl.
func writeSpTables(w *bytes.Buffer, family string, cells []spCell) {
	type tableID struct {
		V, D, N int
		optim   string
	}
	var tables []tableID
	for _, c := range cells {
		if t := (tableID{c.V, c.D, c.N, c.optim}); !slices.Contains(tables, t) {
			tables = append(tables, t)
		}
	}
	for _, t := range tables {
		var tc []spCell
		var impls []string
		type rowID struct {
			dist    string
			workers int
		}
		var rows []rowID
		for _, c := range cells {
			if (tableID{c.V, c.D, c.N, c.optim}) == t {
				tc = append(tc, c)
				impls = appendNew(impls, c.impl)
				if r := (rowID{c.dist, c.workers}); !slices.Contains(rows, r) {
					rows = append(rows, r)
				}
			}
		}
		// Ours first, then the peers.
		slices.SortStableFunc(impls, func(a, b string) int {
			return boolInt(strings.HasPrefix(a, "torch-")) - boolInt(strings.HasPrefix(b, "torch-"))
		})
		title := fmt.Sprintf("%s: %s, V=%d, D=%d, N=%d", family, sparseShapeName(t.V, t.D, t.N), t.V, t.D, t.N)
		if t.optim != "" {
			title += ", optim=" + t.optim
		}
		fmt.Fprintf(w, "\n### %s\n\n| dist | workers | %s |\n|---|---|%s\n", title, strings.Join(impls, " | "), strings.Repeat("---|", len(impls)))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s | %d |", r.dist, r.workers)
			var row []spCell
			for _, c := range tc {
				if c.dist == r.dist && c.workers == r.workers {
					row = append(row, c)
				}
			}
			for _, impl := range impls {
				i := slices.IndexFunc(row, func(c spCell) bool { return c.impl == impl })
				if i < 0 {
					w.WriteString(" |")
					continue
				}
				cell := fmtSummary(row[i].sec, "sec/op")
				if !row[i].isTorch() {
					var ratios []string
					for _, c := range row {
						if c.isTorch() {
							ratios = append(ratios, fmt.Sprintf("×%.3g %s", median(c.sec)/median(row[i].sec), strings.TrimPrefix(c.impl, "torch-")))
						}
					}
					if len(ratios) > 0 {
						cell += " · " + strings.Join(ratios, ", ")
					}
				}
				fmt.Fprintf(w, " %s |", cell)
			}
			w.WriteString("\n")
		}
		w.WriteString("\n(time per call)\n")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sweepPlots draws, for each (D, N, dist) at which the family ran at two
// V or more, time per call against V (log-log), a line per impl, optimizer
// and worker count, and writes a table of each line's time at the largest
// V over the smallest.
func sweepPlots(w *bytes.Buffer, family string, cells []spCell) ([]svg, error) {
	type sweepID struct {
		D, N int
		dist string
	}
	var sweeps []sweepID
	for _, c := range cells {
		id := sweepID{c.D, c.N, c.dist}
		if slices.Contains(sweeps, id) {
			continue
		}
		var vs []int
		for _, o := range cells {
			if (sweepID{o.D, o.N, o.dist}) == id {
				vs = appendNew(vs, o.V)
			}
		}
		if len(vs) >= 2 {
			sweeps = append(sweeps, id)
		}
	}
	var svgs []svg
	for _, s := range sweeps {
		var labels []string
		lines := map[string]plotter.XYs{}
		for _, c := range cells {
			if (sweepID{c.D, c.N, c.dist}) != s {
				continue
			}
			l := c.impl
			if c.optim != "" {
				l += " " + c.optim
			}
			l += fmt.Sprintf(" w=%d", c.workers)
			labels = appendNew(labels, l)
			lines[l] = append(lines[l], plotter.XY{X: float64(c.V), Y: median(c.sec)})
		}
		fmt.Fprintf(w, "\n#### %s against V at D=%d, N=%d, dist=%s\n\n| line | V range | time at largest V / smallest |\n|---|---|---|\n",
			family, s.D, s.N, s.dist)
		for _, l := range labels {
			xy := lines[l]
			slices.SortFunc(xy, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
			lines[l] = xy
			if len(xy) >= 2 {
				fmt.Fprintf(w, "| %s | %.0f–%.0f | %.3g |\n", l, xy[0].X, xy[len(xy)-1].X, xy[len(xy)-1].Y/xy[0].Y)
			}
		}
		p := newPlot(fmt.Sprintf("%s: time per call against V (D=%d, N=%d, %s)", strings.TrimPrefix(family, "Benchmark"), s.D, s.N, s.dist))
		p.X.Label.Text = "V (rows of the table)"
		p.Y.Label.Text = "time per call (median)"
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{}, secTicks{}
		p.Legend.Top, p.Legend.Left = true, true
		colors := plotutil.DefaultColors
		if len(labels) > len(colors) {
			colors = palette.Rainbow(len(labels), palette.Red, palette.Magenta, 0.75, 0.85, 1).Colors()
		}
		for i, l := range labels {
			ln, pts, err := plotter.NewLinePoints(lines[l])
			if err != nil {
				return nil, err
			}
			ln.Color, pts.Color = colors[i%len(colors)], colors[i%len(colors)]
			if strings.HasPrefix(l, "torch-") {
				ln.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
				pts.Shape = draw.BoxGlyph{}
			}
			p.Add(ln, pts)
			p.Legend.Add(l, ln, pts)
		}
		p.Add(plotter.NewGrid())
		name := fmt.Sprintf("%s-sweep-D%d-N%d-%s.svg", strings.ToLower(strings.TrimPrefix(family, "Benchmark")), s.D, s.N, s.dist)
		data, err := render(p, 560, 380)
		if err != nil {
			return nil, err
		}
		svgs = append(svgs, svg{name, data})
		fmt.Fprintf(w, "\n![%s time against V](%s)\n", strings.TrimPrefix(family, "Benchmark"), name)
	}
	return svgs, nil
}

// secTicks labels a log time axis at powers of ten in s, ms, µs.
type secTicks struct{}

func (secTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		v := math.Pow(10, e)
		label := fmt.Sprintf("%gs", v)
		switch {
		case v < 1e-6:
			label = fmt.Sprintf("%gns", math.Round(v*1e9))
		case v < 1e-3:
			label = fmt.Sprintf("%gµs", math.Round(v*1e6))
		case v < 1:
			label = fmt.Sprintf("%gms", math.Round(v*1e3))
		}
		ts = append(ts, plot.Tick{Value: v, Label: label})
	}
	return ts
}
