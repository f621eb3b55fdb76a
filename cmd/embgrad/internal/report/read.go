package report

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"

	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/bench/benchfile"
)

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

// Data is everything read from the input files.
type Data struct {
	files    []fileInfo
	backward *collector  // BenchmarkBackward: table shape+mode, row dist+workers, col impl
	memory   *collector  // BenchmarkMemory: row op+threads
	others   *collector  // every other benchmark: table name, row full name, col impl
	sparse   *sparseData // BenchmarkSparse and BenchmarkStep (sparse.go)
	par      *parData    // every family's results with a workers key (scaling.go)
	forms    *formData   // BenchmarkBag and BenchmarkBackward16 (forms.go)
	// loaded holds the results of runs beside CPU hogs (config line
	// "hog: N", N > 0; embgrad bench -hog N), by N: they appear only in
	// the section under load, never pooled with the quiet results.
	loaded map[int]*Data
}

func newData() *Data {
	name := func(family string) string { return ".name:" + strings.TrimPrefix(family, "Benchmark") }
	key := func(keys ...string) string { return "/" + strings.Join(keys, ",/") }
	return &Data{
		backward: newCollector(name(bench.Backward), key(bench.KeyV, bench.KeyD, bench.KeyN, bench.KeyMode),
			key(bench.KeyDist, bench.KeyWorkers+"@num"), key(bench.KeyImpl)),
		memory: newCollector(name(bench.Memory), ".name", key(bench.KeyOp, bench.KeySize+"@num", bench.KeyThreads+"@num"), ".name"),
		others: newCollector("-"+name(bench.Backward)+" -"+name(bench.Memory)+othersFilter+formsFilter, ".name", ".fullname", key(bench.KeyImpl)),
		sparse: newSparseData(),
		par:    newParData(),
		forms:  newFormData(),
	}
}

func (d *Data) collectors() []*collector {
	return append([]*collector{d.backward, d.memory, d.others}, d.sparse.collectors()...)
}

func (d *Data) add(r *benchfmt.Result) {
	for _, c := range d.collectors() {
		c.add(r)
	}
	d.par.add(r)
	d.forms.add(r)
}

func (d *Data) sort() {
	for _, c := range d.collectors() {
		c.sort()
	}
}

// hogs returns the number of CPU hogs a result ran beside: its "hog"
// config line (bench/hog_test.go), 0 without one.
func hogs(r *benchfmt.Result) (int, error) {
	v := strings.TrimSpace(r.GetConfig("hog"))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("config line hog: %q is not a count of CPU hogs", v)
	}
	return n, nil
}

type fileInfo struct {
	path    string
	results int
	config  map[string]string
	hog     int // CPU hogs beside the run (its first result's hog config)
}

// Read reads the result files with benchfile's strict reader (any problem
// is an error naming file and line) and refuses a file given twice, which
// would pool its samples with themselves. Results run beside CPU hogs go
// to d.loaded, by hog count.
func Read(paths []string) (*Data, error) {
	d := newData()
	d.loaded = map[int]*Data{}
	var seen []os.FileInfo
	for i, path := range paths {
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		for j, o := range seen {
			if os.SameFile(o, st) {
				return nil, fmt.Errorf("%s is the same file as %s (argument %d and %d): its samples would be counted twice", path, paths[j], j+1, i+1)
			}
		}
		seen = append(seen, st)
		f, err := benchfile.ReadFile(path)
		if err != nil {
			return nil, err
		}
		fi := fileInfo{path: path, results: len(f.Results), config: map[string]string{}}
		for _, c := range f.Results[0].Config {
			fi.config[c.Key] = string(c.Value)
		}
		for i, r := range f.Results {
			n, err := hogs(r)
			if err != nil {
				_, line := r.Pos()
				return nil, fmt.Errorf("%s:%d: %v", path, line, err)
			}
			if i == 0 {
				fi.hog = n
			}
			if n == 0 {
				d.add(r)
				continue
			}
			if d.loaded[n] == nil {
				d.loaded[n] = newData()
			}
			d.loaded[n].add(r)
		}
		d.files = append(d.files, fi)
	}
	d.sort()
	for _, l := range d.loaded {
		l.sort()
	}
	return d, nil
}

// roofline returns the copy bandwidth measured at the given thread count,
// or at the largest measured count below it, and the count used.
func (d *Data) roofline(threads int) (float64, int) {
	best, at := 0.0, 0
	for _, t := range d.memory.tables {
		for _, row := range d.memory.rows[t] {
			if get(row, "/"+bench.KeyOp) != "copy" {
				continue
			}
			th, _ := strconv.Atoi(get(row, "/"+bench.KeyThreads))
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
	if t := c.s[benchfile.TokensPerSec]; len(t) > 0 {
		return t
	}
	var t []float64
	for _, sec := range c.s["sec/op"] {
		t = append(t, float64(c.N)/sec)
	}
	return t
}

// cells returns the BenchmarkBackward cells in table, row, column order.
func (d *Data) cells() []bwCell {
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
					shape: shapeName(get(t, "/"+bench.KeyV), get(t, "/"+bench.KeyD), get(t, "/"+bench.KeyN)),
					mode:  get(t, "/"+bench.KeyMode), dist: get(r, "/"+bench.KeyDist), impl: get(col, "/"+bench.KeyImpl),
					V: atoi(t, "/"+bench.KeyV), D: atoi(t, "/"+bench.KeyD), N: atoi(t, "/"+bench.KeyN), workers: max(atoi(r, "/"+bench.KeyWorkers), 1),
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
func (d *Data) fraction(cells []bwCell, c bwCell) (float64, bool) {
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
