package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchunit"

	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/bench/benchfile"
)

// The parallel sections: every family's kernels measured at more than one
// worker count, stated against the machine (the copy bandwidth, or the
// compute peak, at each thread count, from the same inputs), and the same
// kernels quiet and beside CPU hogs (the loaded files).

// parData holds every result whose name has a workers key, by case: the
// family and the name without its workers part and GOMAXPROCS suffix.
type parData struct {
	ids   []string // in the order of the inputs
	cases map[string]*parCase
}

// parCase is one kernel on one input at each worker count.
type parCase struct {
	family, impl string
	rest         []string // the name's other key=value parts, in order
	at           map[int]samples
}

func newParData() *parData { return &parData{cases: map[string]*parCase{}} }

func (p *parData) add(r *benchfmt.Result) {
	_, parts := r.Name.Parts()
	family := "Benchmark" + string(r.Name.Base())
	var impl string
	var rest []string
	workers := -1
	for _, part := range parts {
		if part[0] == '-' {
			continue // the GOMAXPROCS suffix
		}
		k, v, _ := strings.Cut(string(part[1:]), "=")
		switch k {
		case bench.KeyWorkers:
			n, err := strconv.Atoi(v)
			if err != nil {
				return
			}
			workers = n
		case bench.KeyImpl:
			impl = v
		default:
			rest = append(rest, string(part[1:]))
		}
	}
	if workers < 1 || impl == "" {
		return
	}
	id := family + "/" + impl + "/" + strings.Join(rest, "/")
	c := p.cases[id]
	if c == nil {
		c = &parCase{family: family, impl: impl, rest: rest, at: map[int]samples{}}
		p.cases[id] = c
		p.ids = append(p.ids, id)
	}
	s := c.at[workers]
	if s == nil {
		s = samples{}
		c.at[workers] = s
	}
	for _, v := range r.Values {
		s[v.Unit] = append(s[v.Unit], v.Value)
	}
}

// isPeer reports whether impl is another library's (bench/peers), not a
// kernel of ours.
func isPeer(impl string) bool {
	return strings.HasPrefix(impl, "torch-") || strings.HasPrefix(impl, "numpy-")
}

// workers returns the case's worker counts, ascending.
func (c *parCase) workers() []int {
	var ws []int
	for w, s := range c.at {
		if len(s["sec/op"]) > 0 {
			ws = append(ws, w)
		}
	}
	slices.Sort(ws)
	return ws
}

// label names the case's input: its key=value parts, the leading V, D, N
// as the shape's model name where there is one.
func (c *parCase) label() string {
	rest := c.rest
	if len(rest) >= 3 && strings.HasPrefix(rest[0], bench.KeyV+"=") && strings.HasPrefix(rest[1], bench.KeyD+"=") && strings.HasPrefix(rest[2], bench.KeyN+"=") {
		v, dim, n := rest[0][2:], rest[1][2:], rest[2][2:]
		name := shapeName(v, dim, n)
		if strings.HasPrefix(name, "V") { // not a dense shape: a sparse one?
			vi, _ := strconv.Atoi(v)
			di, _ := strconv.Atoi(dim)
			ni, _ := strconv.Atoi(n)
			name = sparseShapeName(vi, di, ni)
		}
		if !strings.HasPrefix(name, "V") {
			rest = append([]string{name}, rest[3:]...)
		}
	}
	return strings.Join(rest, " ")
}

// multi returns our cases (not peers') measured at two worker counts or
// more, families in order (BenchmarkBackward first), cases in input order.
func (p *parData) multi() []*parCase {
	var out []*parCase
	for _, id := range p.ids {
		if c := p.cases[id]; !isPeer(c.impl) && len(c.workers()) >= 2 {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b *parCase) int { return familyOrder(a.family) - familyOrder(b.family) })
	return out
}

func familyOrder(f string) int {
	order := []string{bench.Backward, bench.Sparse, bench.Step, bench.Bag, bench.Norm, bench.TiedWorkers}
	if i := slices.Index(order, f); i >= 0 {
		return i
	}
	return len(order)
}

// copyAt returns the median copy bandwidth BenchmarkMemory measured at
// exactly threads threads; ok is false without it.
func (d *Data) copyAt(threads int) (float64, bool) {
	roof, at := d.roofline(threads)
	return roof, roof > 0 && at == threads
}

// machine is what limits a case at a worker count: the copy bandwidth for
// results with B/s (a bytes model), the compute peak for results with
// GFLOP/s only; unit is the kernel's unit of the two, "" if neither.
func (d *Data) machine(c *parCase, w int) (limit float64, unit string, ok bool) {
	s := c.at[w]
	switch {
	case len(s["B/s"]) > 0:
		limit, ok = d.copyAt(w)
		return limit, "B/s", ok
	case len(s[benchfile.GFLOPPerSec]) > 0:
		limit, ok = d.peaks()[w]
		return limit, benchfile.GFLOPPerSec, ok
	}
	return 0, "", false
}

// writeScaling writes the section on our kernels measured at several
// worker counts, if the inputs hold any.
func (d *Data) writeScaling(w *bytes.Buffer) {
	cases := d.par.multi()
	if len(cases) == 0 {
		return
	}
	w.WriteString(`
## Parallel scaling against the machine

A bandwidth-bound kernel cannot speed up by more workers beyond what the
memory gives more threads: at the roofline at every worker count its
speed-up equals the machine's copy-bandwidth ratio (BenchmarkMemory op=copy
at w threads over 1 thread, in these inputs). So a parallel kernel's target
is a fraction of the roofline **at each worker count** (the roof columns),
not a fixed speed-up. **speed-up** is the median time at the fewest workers
over the median at the most; **machine** is the machine's ratio for the same
worker counts (copy bandwidth for results with a bytes model, B/s; the
BenchmarkPeak compute peak for results in GFLOP/s only); **of machine** is
the speed-up over it (100%: the kernel scales exactly as far as the machine
does). Time per call is the median ± 95% CI.
`)
	var ths []int
	for _, c := range cases {
		for _, wk := range c.workers() {
			ths = appendNew(ths, wk)
		}
	}
	slices.Sort(ths)
	w.WriteString("\n| threads | copy B/s | over 1 thread | compute peak GFLOP/s | over 1 thread |\n|---|---|---|---|---|\n")
	c1, ok1 := d.copyAt(1)
	peaks := d.peaks()
	var missing []string
	for _, t := range ths {
		cp, ok := d.copyAt(t)
		cell := func(v float64, ok bool, base float64, baseOK bool, unit string) (string, string) {
			if !ok {
				return "–", "–"
			}
			r := "–"
			if baseOK {
				r = fmt.Sprintf("%.2f×", v/base)
			}
			if unit == "B/s" {
				return benchunit.Scale(v, benchunit.Binary) + "B/s", r
			}
			return fmt.Sprintf("%.1f", v), r
		}
		a, b := cell(cp, ok, c1, ok1, "B/s")
		p1, okp1 := peaks[1]
		pt, okpt := peaks[t]
		e, f := cell(pt, okpt, p1, okp1, "")
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s |\n", t, a, b, e, f)
		if !ok {
			missing = append(missing, strconv.Itoa(t))
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "\nNo BenchmarkMemory op=copy at threads=%s in the inputs: no bandwidth ratio and no roofline fraction there (never one from another thread count).\n",
			strings.Join(missing, ", "))
	}
	family := ""
	for _, c := range cases {
		if c.family != family {
			family = c.family
			fmt.Fprintf(w, "\n### %s\n\n| impl | case |", family)
			for _, t := range ths {
				fmt.Fprintf(w, " w=%d |", t)
			}
			w.WriteString(" speed-up |")
			for _, t := range ths {
				fmt.Fprintf(w, " roof w=%d |", t)
			}
			fmt.Fprintf(w, " machine | of machine |\n|---|---|%s\n", strings.Repeat("---|", 2*len(ths)+3))
		}
		fmt.Fprintf(w, "| %s | %s |", c.impl, c.label())
		for _, t := range ths {
			if s := c.at[t]; len(s["sec/op"]) > 0 {
				fmt.Fprintf(w, " %s |", fmtSummary(s["sec/op"], "sec/op"))
			} else {
				w.WriteString(" |")
			}
		}
		ws := c.workers()
		lo, hi := ws[0], ws[len(ws)-1]
		speedup := median(c.at[lo]["sec/op"]) / median(c.at[hi]["sec/op"])
		fmt.Fprintf(w, " %.2f× |", speedup)
		for _, t := range ths {
			limit, unit, ok := d.machine(c, t)
			if s := c.at[t]; ok && len(s[unit]) > 0 {
				fmt.Fprintf(w, " %.0f%% |", 100*median(s[unit])/limit)
			} else {
				w.WriteString(" – |")
			}
		}
		l1, u1, ok1 := d.machine(c, lo)
		l2, u2, ok2 := d.machine(c, hi)
		if ok1 && ok2 && u1 == u2 {
			ratio := l2 / l1
			fmt.Fprintf(w, " %.2f× | %.0f%% |\n", ratio, 100*speedup/ratio)
		} else {
			w.WriteString(" – | – |\n")
		}
	}
	if len(d.loaded) == 0 {
		w.WriteString("\nNo run beside CPU hogs in the inputs (`embgrad bench -hog 1` writes one): no figures under load.\n")
	}
}

// writeLoad writes, for each hog count among the inputs, our parallel
// kernels quiet and loaded side by side.
func (d *Data) writeLoad(w *bytes.Buffer) {
	var ns []int
	for n := range d.loaded {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	for _, n := range ns {
		l := d.loaded[n]
		fmt.Fprintf(w, "\n## Under load: beside %d CPU hog%s\n\n", n, plural(n))
		var files []string
		for _, f := range d.files {
			if f.hog == n {
				s := f.path
				if cpu := f.config["hog-cpu"]; cpu != "" {
					s += " (hog-cpu: " + cpu + ", the CPUs the hogs kept busy)"
				}
				files = append(files, s)
			}
		}
		fmt.Fprintf(w, `Results of %s, run beside %d busy-loop process%s (each keeps one
CPU busy; config line hog: %d, `+"`embgrad bench -hog %d`"+`), beside the quiet
results of the other inputs (no hog line): per parallel kernel of ours, the
median time per call ± 95%% CI at the fewest and the most workers and the
ratio of the two medians (below 1: more workers are faster). Target
(issue 17): loaded at the most workers within 10%% of (or faster than) loaded
at one worker — **within 10%%** compares the medians.
`, strings.Join(files, ", "), n, plural2(n), n, n)
		cases := l.par.multi()
		if len(cases) == 0 {
			w.WriteString("\nThe loaded inputs hold no kernel of ours at more than one worker count.\n")
			continue
		}
		family := ""
		for _, c := range cases {
			ws := c.workers()
			lo, hi := ws[0], ws[len(ws)-1]
			if c.family != family {
				family = c.family
				fmt.Fprintf(w, "\n### %s\n\n| impl | case | quiet w=%d | quiet w=%d | quiet ratio | loaded w=%d | loaded w=%d | loaded ratio | within 10%% |\n|---|---|---|---|---|---|---|---|---|\n",
					family, lo, hi, lo, hi)
			}
			fmt.Fprintf(w, "| %s | %s |", c.impl, c.label())
			q := d.par.cases[parID(c)]
			for _, s := range []*parCase{q, c} {
				if s == nil || len(s.at[lo]["sec/op"]) == 0 || len(s.at[hi]["sec/op"]) == 0 {
					w.WriteString(" – | – | – |")
					continue
				}
				a, b := s.at[lo]["sec/op"], s.at[hi]["sec/op"]
				fmt.Fprintf(w, " %s | %s | %.2f |", fmtSummary(a, "sec/op"), fmtSummary(b, "sec/op"), median(b)/median(a))
			}
			if median(c.at[hi]["sec/op"]) <= 1.10*median(c.at[lo]["sec/op"]) {
				w.WriteString(" yes |\n")
			} else {
				w.WriteString(" no |\n")
			}
		}
	}
}

func parID(c *parCase) string { return c.family + "/" + c.impl + "/" + strings.Join(c.rest, "/") }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func plural2(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}
