package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
	"golang.org/x/perf/benchunit"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/embgrad/embgrad/bench"
)

func init() {
	commands["report"] = command{
		summary: "tables and plots of results files into results/REPORT.md",
		run:     reportCmd,
	}
}

// reportOptions configures runReport.
type reportOptions struct {
	Files []string // benchfmt files, ours first; peers' files may follow
	Dir   string   // where REPORT.md and the SVGs go; "" is the first file's directory
}

// defaultReportFiles are read when no file is named: the committed
// baseline and any peers' results beside it.
func defaultReportFiles() []string {
	peers, _ := filepath.Glob(filepath.Join("results", "peers*.txt"))
	return append([]string{filepath.Join("results", "baseline.txt")}, peers...)
}

const reportUsage = `usage: embgrad report [-dir DIR] [files...]

Reads benchfmt results (default results/baseline.txt and results/peers*.txt),
and writes DIR/REPORT.md with benchstat-style tables (median ± 95% confidence
interval per kernel, pivoted by impl, per shape, distribution and mode, with
the fraction of the memory roofline measured by BenchmarkMemory) and SVG
plots beside it. DIR defaults to the first file's directory.

Flags:
`

func reportCmd(stdout, stderr io.Writer, args []string) error {
	var o reportOptions
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage); fs.PrintDefaults() }
	fs.StringVar(&o.Dir, "dir", "", "output `directory` (default: the first file's)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	o.Files = fs.Args()
	_, err := runReport(stdout, stderr, o)
	return err
}

// runReport reads the files, writes the report and its plots, prints the
// report's path to stdout and returns it. Malformed input is an error
// naming file and line.
func runReport(stdout, stderr io.Writer, o reportOptions) (string, error) {
	if len(o.Files) == 0 {
		o.Files = defaultReportFiles()
	}
	if o.Dir == "" {
		o.Dir = filepath.Dir(o.Files[0])
	}
	d, err := readReportData(o.Files)
	if err != nil {
		return "", &exitError{2, err}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return "", err
	}
	var md bytes.Buffer
	svgs, err := d.write(&md, o)
	if err != nil {
		return "", err
	}
	for _, s := range svgs {
		if err := os.WriteFile(filepath.Join(o.Dir, s.name), s.data, 0o644); err != nil {
			return "", err
		}
	}
	path := filepath.Join(o.Dir, "REPORT.md")
	if err := os.WriteFile(path, md.Bytes(), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "wrote %s and %d plots\n", path, len(svgs))
	return path, nil
}

// samples holds one cell's measurements by tidied unit (sec/op, B/s,
// tokens/s).
type samples map[string][]float64

// summary is the median with its 95% confidence interval, as benchstat
// computes it (benchmath.AssumeNothing).
func summary(v []float64) benchmath.Summary {
	return benchmath.AssumeNothing.Summary(benchmath.NewSample(v, &benchmath.DefaultThresholds), 0.95)
}

func median(v []float64) float64 { return summary(v).Center }

// collector groups results of one top-level benchmark into cells with
// benchproc: a table key, a row key and a column key per cell.
type collector struct {
	filter          *benchproc.Filter
	table, row, col *benchproc.Projection
	tables, cols    []benchproc.Key
	rows            map[benchproc.Key][]benchproc.Key // per table
	cells           map[[3]benchproc.Key]samples
}

func newCollector(filter, table, row, col string) *collector {
	f, err := benchproc.NewFilter(filter)
	if err != nil {
		panic(err) // the expressions are constants
	}
	var pp benchproc.ProjectionParser
	c := &collector{filter: f, rows: map[benchproc.Key][]benchproc.Key{}, cells: map[[3]benchproc.Key]samples{}}
	for _, p := range []struct {
		dst  **benchproc.Projection
		expr string
	}{{&c.table, table}, {&c.row, row}, {&c.col, col}} {
		if *p.dst, err = pp.Parse(p.expr, f); err != nil {
			panic(err)
		}
	}
	return c
}

func (c *collector) add(res *benchfmt.Result) {
	// Match, not Apply: the result is shared by every collector, and
	// Apply would empty its values for the next.
	if m, _ := c.filter.Match(res); !m.All() {
		return
	}
	k := [3]benchproc.Key{c.table.Project(res), c.row.Project(res), c.col.Project(res)}
	s := c.cells[k]
	if s == nil {
		s = samples{}
		c.cells[k] = s
		if _, ok := c.rows[k[0]]; !ok {
			c.tables = append(c.tables, k[0])
		}
		c.rows[k[0]] = appendNew(c.rows[k[0]], k[1])
		c.cols = appendNew(c.cols, k[2])
	}
	for _, v := range res.Values {
		s[v.Unit] = append(s[v.Unit], v.Value)
	}
}

func (c *collector) sort() {
	benchproc.SortKeys(c.tables)
	benchproc.SortKeys(c.cols)
	for _, r := range c.rows {
		benchproc.SortKeys(r)
	}
}

// get returns the value of the named field of k ("" if k has none).
func get(k benchproc.Key, name string) string {
	for _, f := range k.Projection().FlattenedFields() {
		if f.Name == name {
			return k.Get(f)
		}
	}
	return ""
}

// reportData is everything read from the input files.
type reportData struct {
	files    []fileInfo
	backward *collector // BenchmarkBackward: table shape+mode, row dist+workers, col impl
	memory   *collector // BenchmarkMemory: row op+threads
	others   *collector // every other benchmark: table name, row full name, col impl
}

type fileInfo struct {
	path    string
	results int
	config  map[string]string
}

func readReportData(paths []string) (*reportData, error) {
	d := &reportData{
		backward: newCollector(".name:Backward", "/V,/D,/N,/mode", "/dist,/workers@num", "/impl"),
		memory:   newCollector(".name:Memory", ".name", "/op,/size@num,/threads@num", ".name"),
		others:   newCollector("-.name:Backward -.name:Memory", ".name", ".fullname", "/impl"),
	}
	for _, path := range paths {
		fi, err := d.readFile(path)
		if err != nil {
			return nil, err
		}
		d.files = append(d.files, fi)
	}
	for _, c := range []*collector{d.backward, d.memory, d.others} {
		c.sort()
	}
	return d, nil
}

func (d *reportData) readFile(path string) (fileInfo, error) {
	fi := fileInfo{path: path, config: map[string]string{}}
	f, err := os.Open(path)
	if err != nil {
		return fi, err
	}
	defer f.Close()
	r := benchfmt.NewReader(f, path)
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			return fi, rec // "file:line: message"
		case *benchfmt.UnitMetadata:
			if rec.Key == "better" && rec.Value != "higher" && rec.Value != "lower" {
				file, line := rec.Pos()
				return fi, fmt.Errorf("%s:%d: unit %s: better=%s, want higher or lower", file, line, rec.OrigUnit, rec.Value)
			}
		case *benchfmt.Result:
			if fi.results == 0 {
				for _, c := range rec.Config {
					fi.config[c.Key] = string(c.Value)
				}
			}
			fi.results++
			for _, c := range []*collector{d.backward, d.memory, d.others} {
				c.add(rec)
			}
		}
	}
	if err := r.Err(); err != nil {
		return fi, fmt.Errorf("%s: %v", path, err)
	}
	if fi.results == 0 {
		return fi, fmt.Errorf("%s: no benchmark results", path)
	}
	return fi, nil
}

// roofline returns the copy bandwidth measured at the given thread count,
// or at the largest measured count below it, and the count used.
func (d *reportData) roofline(threads int) (float64, int) {
	best, at := 0.0, 0
	for _, t := range d.memory.tables {
		for _, row := range d.memory.rows[t] {
			if get(row, "/op") != "copy" {
				continue
			}
			th, _ := strconv.Atoi(get(row, "/threads"))
			if th > threads || th <= at {
				continue
			}
			for _, col := range d.memory.cols {
				if s := d.memory.cells[[3]benchproc.Key{t, row, col}]; s != nil && len(s["B/s"]) > 0 {
					best, at = median(s["B/s"]), th
				}
			}
		}
	}
	return best, at
}

// shapeName names a benchmark shape after the model it comes from.
func shapeName(v, dim, n string) string {
	for _, s := range bench.Shapes() {
		if strconv.Itoa(s.V) == v && strconv.Itoa(s.D) == dim && strconv.Itoa(s.N) == n {
			return s.Name
		}
	}
	return "V" + v + "-D" + dim + "-N" + n
}

// bwCell is one BenchmarkBackward cell with its table coordinates.
type bwCell struct {
	shape, mode, dist, impl string
	V, D, N, workers        int
	s                       samples
}

// tokensPerSec returns the cell's throughput samples: its tokens/s, or N
// divided by its sec/op for results that report only time.
func (c bwCell) tokensPerSec() []float64 {
	if t := c.s["tokens/s"]; len(t) > 0 {
		return t
	}
	var t []float64
	for _, sec := range c.s["sec/op"] {
		t = append(t, float64(c.N)/sec)
	}
	return t
}

// cells returns the BenchmarkBackward cells in table, row, column order.
func (d *reportData) cells() []bwCell {
	var out []bwCell
	c := d.backward
	for _, t := range c.tables {
		for _, r := range c.rows[t] {
			for _, col := range c.cols {
				s := c.cells[[3]benchproc.Key{t, r, col}]
				if s == nil {
					continue
				}
				atoi := func(k benchproc.Key, f string) int { n, _ := strconv.Atoi(get(k, f)); return n }
				out = append(out, bwCell{
					shape: shapeName(get(t, "/V"), get(t, "/D"), get(t, "/N")),
					mode:  get(t, "/mode"), dist: get(r, "/dist"), impl: get(col, "/impl"),
					V: atoi(t, "/V"), D: atoi(t, "/D"), N: atoi(t, "/N"), workers: max(atoi(r, "/workers"), 1),
					s: s,
				})
			}
		}
	}
	return out
}

// bytesPerOp returns the bytes model's bytes per call for the cell's
// shape, distribution and mode, derived from any result that reports both
// B/s and sec/op (the model is the same for every kernel), or 0.
func bytesPerOp(cells []bwCell, c bwCell) float64 {
	for _, o := range cells {
		if o.V == c.V && o.D == c.D && o.N == c.N && o.dist == c.dist && o.mode == c.mode &&
			len(o.s["B/s"]) > 0 && len(o.s["sec/op"]) > 0 {
			return median(o.s["B/s"]) * median(o.s["sec/op"])
		}
	}
	return 0
}

// fraction returns the cell's fraction of the roofline: its median B/s
// (from the bytes model; derived from sec/op for results without B/s) over
// the copy bandwidth at its worker count. ok is false without the data.
func (d *reportData) fraction(cells []bwCell, c bwCell) (float64, bool) {
	roof, _ := d.roofline(c.workers)
	if roof == 0 {
		return 0, false
	}
	if b := c.s["B/s"]; len(b) > 0 {
		return median(b) / roof, true
	}
	if bpo := bytesPerOp(cells, c); bpo > 0 && len(c.s["sec/op"]) > 0 {
		return bpo / median(c.s["sec/op"]) / roof, true
	}
	return 0, false
}

// svg is one plot file.
type svg struct {
	name string
	data []byte
}

// write renders the report and returns its plots.
func (d *reportData) write(w *bytes.Buffer, o reportOptions) ([]svg, error) {
	cells := d.cells()
	fmt.Fprintf(w, "# embgrad benchmark report\n\n")
	if cmd := d.files[0].config["command"]; cmd != "" {
		fmt.Fprintf(w, "The results in %s come from\n\n```\n%s\n```\n\n", o.Files[0], cmd)
	}
	fmt.Fprintf(w, "This report was made by\n\n```\ngo run ./cmd/embgrad report %s\n```\n\n", strings.Join(o.Files, " "))
	w.WriteString("Run them again to reproduce it (`embgrad bench -report` runs both); compare runs only\nfrom one machine and session.")
	fmt.Fprintf(w, "\n\n## Inputs\n\n| file | results | commit | go | cpu | gomaxprocs | date | load average |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range d.files {
		c := f.config
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", f.path, f.results,
			orDash(shortCommit(c["commit"])), orDash(c["go"]), orDash(c["cpu"]), orDash(c["gomaxprocs"]), orDash(c["date"]), orDash(c["loadavg"]))
	}
	w.WriteString("\nThe load average (1, 5, 15 minutes) is the machine's at the start of the run: above\n" +
		"its GOMAXPROCS, other work shared the cores and the results are noisy.\n")
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
	if len(d.others.cells) > 0 {
		d.writeOthers(w)
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

func (d *reportData) writeMemory(w *bytes.Buffer) {
	w.WriteString("\n## Memory bandwidth (BenchmarkMemory)\n\n| op | size | threads | B/s |\n|---|---|---|---|\n")
	m := d.memory
	for _, t := range m.tables {
		for _, r := range m.rows[t] {
			for _, col := range m.cols {
				if s := m.cells[[3]benchproc.Key{t, r, col}]; s != nil {
					size, _ := strconv.ParseFloat(get(r, "/size"), 64)
					fmt.Fprintf(w, "| %s | %sB | %s | %s |\n", get(r, "/op"), benchunit.Scale(size, benchunit.Binary),
						get(r, "/threads"), fmtSummary(s["B/s"], "B/s"))
				}
			}
		}
	}
}

// writeBackwardTable writes one shape and mode: a row per distribution and
// worker count, a column per kernel.
func (d *reportData) writeBackwardTable(w *bytes.Buffer, all, tc []bwCell) {
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
			cell := fmtSummary(tc[i].tokensPerSec(), "tokens/s")
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
func (d *reportData) writeOthers(w *bytes.Buffer) {
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

// label names a kernel at a worker count in plots.
func label(c bwCell) string {
	if c.workers > 1 || c.impl == "" {
		return fmt.Sprintf("%s w=%d", c.impl, c.workers)
	}
	return c.impl
}

// groupedBars draws one bar group per x label and one bar per series,
// with a legend.
func groupedBars(title, ylabel string, ticks plot.Ticker, xs []string, series []string, value func(x, s string) (float64, bool)) ([]byte, error) {
	p := newPlot(title)
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Legend.Left = false
	width := vg.Points(math.Max(4, math.Min(14, 400/float64(len(xs)*(len(series)+1)))))
	// plotutil's palette has 7 colours; with peers there are more series,
	// and a repeated colour would make two bars indistinguishable.
	colors := plotutil.DefaultColors
	if len(series) > len(colors) {
		colors = palette.Rainbow(len(series), palette.Red, palette.Magenta, 0.75, 0.85, 1).Colors()
	}
	for i, s := range series {
		vals := make(plotter.Values, len(xs))
		for j, x := range xs {
			vals[j], _ = value(x, s)
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		bars.LineStyle.Width = 0
		bars.Color = colors[i%len(colors)]
		bars.Offset = width * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(bars)
		p.Legend.Add(s, bars)
	}
	p.NominalX(xs...)
	p.Add(plotter.NewGrid())
	top := 0.0
	for _, x := range xs {
		for _, s := range series {
			v, _ := value(x, s)
			top = max(top, v)
		}
	}
	p.Y.Min, p.Y.Max = 0, top*(1.1+0.07*float64(len(series))) // room for the legend
	p.Y.Tick.Marker = ticks
	return render(p, vg.Length(max(480, float64(width)*float64(len(xs)*(len(series)+2))+100)), 320)
}

// newPlot returns a plot in Liberation Sans, which is metric-compatible
// with Arial and Helvetica: the SVGs name those as fallbacks (see render),
// so text laid out with Liberation's metrics fits wherever it is viewed.
func newPlot(title string) *plot.Plot {
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	p := plot.New()
	p.Title.Text = title
	return p
}

func render(p *plot.Plot, wid, ht vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(wid, ht, "svg")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(b.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")), nil
}

// throughputPlot draws tokens/s by distribution, a bar per kernel and
// worker count.
func throughputPlot(title string, tc []bwCell) ([]byte, error) {
	var dists, series []string
	for _, c := range tc {
		dists = appendNew(dists, c.dist)
		series = appendNew(series, label(c))
	}
	return groupedBars(title, "tokens/s (median)", siTicks, dists, series, func(x, s string) (float64, bool) {
		for _, c := range tc {
			if c.dist == x && label(c) == s {
				return median(c.tokensPerSec()), true
			}
		}
		return 0, false
	})
}

// plotDist is the distribution of the summary plots: Zipf, the natural
// skew of token frequencies, when present.
func plotDist(cells []bwCell) string {
	if slices.ContainsFunc(cells, func(c bwCell) bool { return c.dist == string(bench.Zipf) }) {
		return string(bench.Zipf)
	}
	return cells[0].dist
}

// scalingPlots draws tokens/s against workers, a line per kernel and mode,
// one plot per shape, for kernels measured at more than one worker count.
func scalingPlots(cells []bwCell) ([]svg, error) {
	if len(cells) == 0 {
		return nil, nil
	}
	dist := plotDist(cells)
	var shapes []string
	for _, c := range cells {
		shapes = appendNew(shapes, c.shape)
	}
	var out []svg
	for _, shape := range shapes {
		lines := map[string]plotter.XYs{}
		var names []string
		for _, c := range cells {
			if c.shape != shape || c.dist != dist {
				continue
			}
			name := c.impl + " " + c.mode
			if _, ok := lines[name]; !ok {
				names = append(names, name)
			}
			lines[name] = append(lines[name], plotter.XY{X: float64(c.workers), Y: median(c.tokensPerSec())})
		}
		p := newPlot(fmt.Sprintf("%s, %s: tokens/s by workers", shape, dist))
		p.X.Label.Text = "workers"
		p.Y.Label.Text = "tokens/s (median)"
		p.Legend.Top = true
		n := 0
		for _, name := range names {
			xy := lines[name]
			if len(xy) < 2 {
				continue
			}
			l, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, err
			}
			l.Color, pts.Color = plotutil.Color(n), plotutil.Color(n)
			l.Dashes = plotutil.Dashes(n)
			pts.Shape = plotutil.Shape(n)
			p.Add(l, pts)
			p.Legend.Add(name, l, pts)
			n++
		}
		if n == 0 {
			continue
		}
		top := 0.0
		for _, xy := range lines {
			for _, pt := range xy {
				top = max(top, pt.Y)
			}
		}
		p.Y.Min, p.Y.Max = 0, top*(1.1+0.07*float64(n)) // room for the legend
		p.Add(plotter.NewGrid())
		p.X.Tick.Marker = integerTicks{}
		p.Y.Tick.Marker = siTicks
		data, err := render(p, 420, 300)
		if err != nil {
			return nil, err
		}
		out = append(out, svg{fmt.Sprintf("scaling-%s.svg", shape), data})
	}
	return out, nil
}

// relabel marks an axis with plot's default ticks, labelled by itself.
type relabel func(float64) string

func (f relabel) Ticks(lo, hi float64) []plot.Tick {
	t := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range t {
		if t[i].Label != "" {
			t[i].Label = f(t[i].Value)
		}
	}
	return t
}

var (
	// siTicks labels with SI prefixes (1.5M rather than 1500000).
	siTicks = relabel(func(v float64) string {
		if v == 0 {
			return "0"
		}
		return benchunit.Scale(v, benchunit.Decimal)
	})
	// pctTicks labels fractions in percent.
	pctTicks = relabel(func(v float64) string { return strconv.FormatFloat(100*v, 'g', 4, 64) + "%" })
)

// integerTicks marks whole numbers only (worker counts).
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for v := math.Ceil(lo); v <= hi; v++ {
		t = append(t, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return t
}

// rooflinePlots draws the fraction of the roofline per shape, a bar per
// kernel and worker count, one plot per mode.
func (d *reportData) rooflinePlots(cells []bwCell) ([]svg, error) {
	dist := plotDist(cells)
	var modes []string
	for _, c := range cells {
		modes = appendNew(modes, c.mode)
	}
	var out []svg
	for _, mode := range modes {
		var shapes, series []string
		frac := map[[2]string]float64{}
		for _, c := range cells {
			if c.mode != mode || c.dist != dist {
				continue
			}
			f, ok := d.fraction(cells, c)
			if !ok {
				continue
			}
			shapes = appendNew(shapes, c.shape)
			series = appendNew(series, label(c))
			frac[[2]string{c.shape, label(c)}] = f
		}
		if len(shapes) == 0 {
			continue
		}
		data, err := groupedBars(fmt.Sprintf("%s, %s: fraction of the copy roofline", mode, dist),
			"B/s ÷ copy B/s", pctTicks, shapes, series, func(x, s string) (float64, bool) {
				f, ok := frac[[2]string{x, s}]
				return f, ok
			})
		if err != nil {
			return nil, err
		}
		out = append(out, svg{fmt.Sprintf("roofline-%s.svg", mode), data})
	}
	return out, nil
}

// appendNew appends v to list unless it is there already, keeping first-seen
// order (the order rows, columns and series appear in the results).
func appendNew[T comparable](list []T, v T) []T {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
