// Command noisestudy summarises the noise study's raw files
// (results/noise/run.sh) as Markdown tables for results/noise/NOISE.md:
//
//	go run ./bench/internal/noisestudy results/noise/raw/warmup/*.txt
//
// Each file is one setting (its "setting:" config line); each result
// carries the process it came from ("proc:"). For every benchmark and
// setting it prints the median time per op and benchstat's 95 % interval
// of the median (benchmath.AssumeNothing, the ± benchstat shows) over the
// first -n samples, and the relative median absolute deviation over all of
// them (a spread that does not depend on n). When a setting holds several
// samples per process it also splits the spread: within a process (the
// median over processes of each one's relative MAD) and between processes
// (the relative MAD of the processes' medians), and gives the ± of -n
// samples taken from one process against -n taken one per process.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/embgrad/embgrad/bench/benchfile"
)

func main() {
	n := flag.Int("n", 10, "samples per interval (the first n of each setting, or of each process)")
	unit := flag.String("unit", "sec/op", "the unit to summarise")
	flag.Parse()
	if err := run(os.Stdout, flag.Args(), *n, *unit); err != nil {
		fmt.Fprintln(os.Stderr, "noisestudy:", err)
		os.Exit(1)
	}
}

// sample is one value with the process it came from.
type sample struct {
	proc string
	v    float64
}

// table is the samples per benchmark and setting, in first-seen order.
type table struct {
	rows, settings []string
	vals           map[[2]string][]sample
}

func read(paths []string, unit string) (*table, error) {
	t := &table{vals: map[[2]string][]sample{}}
	for _, p := range paths {
		f, err := benchfile.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, r := range f.Results {
			v, ok := r.Value(unit)
			if !ok {
				continue
			}
			set := cmp.Or(r.GetConfig("setting"), p)
			row := string(r.Name.Full())
			if !slices.Contains(t.rows, row) {
				t.rows = append(t.rows, row)
			}
			if !slices.Contains(t.settings, set) {
				t.settings = append(t.settings, set)
			}
			k := [2]string{row, set}
			t.vals[k] = append(t.vals[k], sample{r.GetConfig("proc"), v})
		}
	}
	if len(t.rows) == 0 {
		return nil, fmt.Errorf("no %s results in %s", unit, strings.Join(paths, " "))
	}
	return t, nil
}

func run(w io.Writer, paths []string, n int, unit string) error {
	if len(paths) == 0 {
		return fmt.Errorf("usage: noisestudy [-n 10] [-unit sec/op] raw/<phase>/*.txt")
	}
	t, err := read(paths, unit)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: median ± (95 %% CI of the median over the first %d samples, as benchstat) · relative MAD over all samples (n)\n\n", unit, n)
	fmt.Fprint(w, "| benchmark |")
	for _, s := range t.settings {
		fmt.Fprintf(w, " %s |", s)
	}
	fmt.Fprint(w, "\n|---|")
	for range t.settings {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, row := range t.rows {
		fmt.Fprintf(w, "| %s |", short(row))
		for _, s := range t.settings {
			fmt.Fprintf(w, " %s |", cell(t.vals[[2]string{row, s}], n, unit))
		}
		fmt.Fprintln(w)
	}
	nested := false
	for _, v := range t.vals {
		if perProc(v) > 1 {
			nested = true
		}
	}
	if !nested {
		return nil
	}
	fmt.Fprintf(w, "\nwithin and between processes (settings with several samples per process): relative MAD within a process (median over processes) · of the processes' medians; ± of %d samples from one process (median over processes) · of %d processes' first samples\n\n", n, n)
	fmt.Fprint(w, "| benchmark | setting | processes × samples | MAD within | MAD between | ± one process | ± one sample per process |\n|---|---|---|---|---|---|---|\n")
	for _, row := range t.rows {
		for _, s := range t.settings {
			v := t.vals[[2]string{row, s}]
			if perProc(v) <= 1 {
				continue
			}
			procs := byProc(v)
			var within, meds, one, firsts []float64
			for _, p := range procs {
				within = append(within, relMAD(p))
				meds = append(meds, median(p))
				if len(p) >= n {
					one = append(one, pct(p[:n]))
				}
				firsts = append(firsts, p[0])
			}
			oneS := "–"
			if len(one) > 0 {
				oneS = fmt.Sprintf("±%.0f%%", median(one))
			}
			firstS := "–"
			if len(firsts) >= n {
				firstS = fmt.Sprintf("±%.0f%%", pct(firsts[:n]))
			} else if len(firsts) >= 6 {
				firstS = fmt.Sprintf("±%.0f%% (n=%d)", pct(firsts), len(firsts))
			}
			fmt.Fprintf(w, "| %s | %s | %d × %d | %.1f%% | %.1f%% | %s | %s |\n", short(row), s, len(procs), perProc(v),
				100*median(within), 100*relMAD(meds), oneS, firstS)
		}
	}
	return nil
}

// cell formats one benchmark's samples of one setting.
func cell(v []sample, n int, unit string) string {
	if len(v) == 0 {
		return "–"
	}
	x := values(v)
	first := x[:min(n, len(x))]
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(first, &benchmath.DefaultThresholds), 0.95)
	ci := "±∞"
	if len(first) >= 6 {
		ci = s.PctRangeString()
	}
	return fmt.Sprintf("%s ±%s · %.1f%% (%d)", format(s.Center, unit), strings.TrimPrefix(ci, "±"), 100*relMAD(x), len(x))
}

// pct is benchstat's ± of the median of x, in percent.
func pct(x []float64) float64 {
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(x, &benchmath.DefaultThresholds), 0.95)
	return 100 * max(s.Hi-s.Center, s.Center-s.Lo) / s.Center
}

func values(v []sample) []float64 {
	x := make([]float64, len(v))
	for i, s := range v {
		x[i] = s.v
	}
	return x
}

// byProc splits samples by process, in order of first appearance.
func byProc(v []sample) [][]float64 {
	var order []string
	m := map[string][]float64{}
	for _, s := range v {
		if _, ok := m[s.proc]; !ok {
			order = append(order, s.proc)
		}
		m[s.proc] = append(m[s.proc], s.v)
	}
	out := make([][]float64, len(order))
	for i, p := range order {
		out[i] = m[p]
	}
	return out
}

// perProc is the smallest number of samples any process contributed.
func perProc(v []sample) int {
	k := 0
	for i, p := range byProc(v) {
		if i == 0 || len(p) < k {
			k = len(p)
		}
	}
	return k
}

func median(x []float64) float64 {
	s := slices.Sorted(slices.Values(x))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// relMAD is the median absolute deviation from the median, over the median.
func relMAD(x []float64) float64 {
	m := median(x)
	d := make([]float64, len(x))
	for i, v := range x {
		d[i] = max(v-m, m-v)
	}
	return median(d) / m
}

func format(v float64, unit string) string {
	if unit != "sec/op" {
		return fmt.Sprintf("%.4g", v)
	}
	switch {
	case v >= 1e-3:
		return fmt.Sprintf("%.3g ms", v*1e3)
	default:
		return fmt.Sprintf("%.3g µs", v*1e6)
	}
}

// short drops the name's constant parts: the family prefix, the GPT-2 shape
// and the GOMAXPROCS suffix.
func short(name string) string {
	name = strings.TrimPrefix(name, "Benchmark")
	name = strings.Replace(name, "/V=50257/D=768/N=8192/dist=zipf", "", 1)
	name = strings.Replace(name, "/size=268435456", "", 1)
	if i := strings.LastIndex(name, "-"); i > 0 && !strings.Contains(name[i:], "/") {
		name = name[:i]
	}
	return name
}
